using System.Collections.Immutable;
using AccelSim.Hardware;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;
using AccelSim.Tests.Model;

namespace AccelSim.Tests.Mapper;

/// <summary>Inputs shared by the mapper tests: the small test array, problems from YAML and workloads, the CLI.</summary>
public static class MapperTestKit
{
    public static string Data(string file) => RepoPaths.Of("tests", "AccelSim.Tests", "Mapper", "Data", file);

    public static Architecture SmallArray { get; } = SpecFiles.LoadArchitecture(Data("small-array.yaml")).Architecture;

    public static ProblemShape Gemm(int m, int n, int k) =>
        ModelTestKit.Parse($"problem: {{name: gemm{m}x{n}x{k}, dims: {{M: {m}, N: {n}, K: {k}}}, tensors: {{A: [M, K], B: [K, N], Z: {{ranks: [M, N], output: true}}}}}}");

    /// <summary>QK or AV of the 3-pass attention workload (one head, batch 1) at a sequence length.</summary>
    public static ProblemShape Attention(string einsum, int seqLen, int headDim) =>
        SpatialEvaluation.LoadProblem(RepoPaths.Of("workloads", "attention", "attention-3pass.yaml"), einsum,
            new[] { $"seq_len={seqLen}", "heads=1", "batch=1", $"head_dim={headDim}" }, null);

    public static ProblemShape Conv1D => SpecFiles.LoadProblem(Data("conv1d.yaml"));

    /// <summary>Constraints that make the given levels keep every tensor (no bypass choices).</summary>
    public static MapSpaceConstraints KeepAll(ProblemShape p, params string[] levels) =>
        new(levels.SelectMany(l => p.Tensors.Select(t => (MapDirective)new KeepDirective(l, t.Name, true, null, "test"))).ToImmutableArray(),
            ImmutableArray<string>.Empty);

    public static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    public static string Timeloop(string relative) => Path.Combine(
        AccelSim.Tests.Model.Timeloop.TimeloopGoldenTests.ReferenceRoot(),
        relative);
}
