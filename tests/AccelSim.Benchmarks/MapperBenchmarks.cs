using AccelSim.Hardware;
using AccelSim.Mapper;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;
using BenchmarkDotNet.Attributes;

namespace AccelSim.Benchmarks;

/// <summary>
/// Mapper throughput: valid mappings priced per second by a whole search (map-space enumeration or sampling, pruning,
/// order classes, merging), on one thread and on all cores. Problems: the conv layer of ModelBenchmarks (K=C=64,
/// P=Q=28, R=S=3) and a 256x256x256 GEMM. Architectures: arch/timeloop-3level.yaml (DRAM -> 256 KiB buffer -> 64-word register file -> one
/// MAC) and the mapper tests' 3-level 4x4 array (DRAM -> 2,048-word buffer -> 16 x 32-word register files -> 16 MACs).
/// Each invocation runs one search with a budget of <see cref="Budget"/> evaluations, so "Op/s" is evaluations per second.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 6)]
public class MapperBenchmarks
{
    private const long Budget = 200_000;
    private Architecture _arch = null!;
    private ProblemShape _problem = null!;

    [Params("timeloop-3level", "small-array-4x4")]
    public string Arch { get; set; } = "";

    [Params("exhaustive", "random", "guided")]
    public string Search { get; set; } = "";

    [Params("conv", "gemm")]
    public string Problem { get; set; } = "";

    /// <summary>1, or 0 for every core.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _arch = ArchitectureLoader.Load(Arch == "timeloop-3level"
            ? RepoFiles.Of("arch", "timeloop-3level.yaml")
            : RepoFiles.Of("tests", "AccelSim.Tests", "Mapper", "Data", "small-array.yaml"));
        _problem = ProblemLoader.Parse(AccelSim.Core.YNode.LoadText(Problem == "conv"
            ? "problem: {name: conv, dims: {K: 64, C: 64, P: 28, Q: 28, R: 3, S: 3}, " +
              "tensors: {Weights: [K, C, R, S], Inputs: [C, 'P + R', 'Q + S'], Outputs: {ranks: [K, P, Q], output: true}}}"
            : "problem: {name: gemm, dims: {M: 256, N: 256, K: 256}, tensors: {A: [M, K], B: [K, N], Z: {ranks: [M, N], output: true}}}", "bench.yaml"));
        var check = Run();
        if (check != Budget) throw new InvalidOperationException($"the search stopped after {check} evaluations, not {Budget}: the figure would be wrong");
    }

    private long Run() => MapSearch.Run(new MapRequest(_arch, _problem, MapSpaceConstraints.None, Objective.Edp, Search, Budget, Seed: 1,
        Threads: Threads)).Evaluations;

    [Benchmark(OperationsPerInvoke = (int)Budget, Description = "price one mapping within a search")]
    public long Map() => Run();
}

/// <summary>
/// Timeloop's mapper exercise 06 (VGG02 layer 5 on the Eyeriss-like array, row-stationary constraints, the case's ERT):
/// time for our mapper to find a mapping at least as good in EDP as Timeloop's (5,505,024 cycles, 5382.31 uJ), with
/// guided search at its default budget and with exhaustive search (which proves the optimum of the constrained space).
/// Reference data: tests/AccelSim.Tests/Reference/timeloop (shipped with its MIT licence).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class MapperTimeloopBenchmarks
{
    private MapRequest _request = null!;
    private double _timeloopEdp;

    [Params("guided", "exhaustive")]
    public string Search { get; set; } = "";

    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var root = RepoFiles.Of("tests", "AccelSim.Tests", "Reference", "timeloop");
        var dir = Path.Combine(root, "06-mapper-convlayer-eyeriss", "legacy-v0.2");
        var arch = SpecFiles.LoadArchitecture(Path.Combine(dir, "arch", "eyeriss_like.yaml"), Path.Combine(dir, "ref-output", "timeloop-mapper.ERT.yaml"));
        var problem = SpecFiles.LoadProblem(Path.Combine(dir, "prob", "VGG02_layer5.yaml"));
        var cons = ConstraintsLoader.LoadAll(Directory.GetFiles(Path.Combine(dir, "constraints"), "*.yaml").Order(StringComparer.Ordinal), problem);
        _request = new MapRequest(arch.Architecture, problem, cons, Objective.Edp, Search, Seed: 1, Threads: Threads);
        // Timeloop's result as its stats file states it (Summary Stats: cycles and energy in uJ).
        var stats = File.ReadAllLines(Path.Combine(dir, "ref-output", "timeloop-mapper.stats.txt"));
        int summary = Array.FindLastIndex(stats, l => l.StartsWith("Summary Stats", StringComparison.Ordinal));
        double Value(string key) => double.Parse(stats.Skip(summary).First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..]
            .Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        _timeloopEdp = Value("Cycles:") * Value("Energy:") * 1e6;
    }

    [Benchmark(Description = "find a mapping at least as good as Timeloop's (06, Eyeriss-like)")]
    public double Map()
    {
        var r = MapSearch.Run(_request);
        if (r.Report.EnergyDelayProduct > _timeloopEdp * (1 + 1e-9))
            throw new InvalidOperationException($"EDP {r.Report.EnergyDelayProduct:E6} is worse than Timeloop's {_timeloopEdp:E6}");
        return r.Report.EnergyDelayProduct ?? throw new InvalidOperationException("the mapping has no energy-delay product");
    }
}
