using AccelSim.Core;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;

namespace AccelSim.Tests.Pruning;

/// <summary>Shared fixtures: the checked-in architecture and benchmark files, and small inline specs.</summary>
internal static class PruningTestData
{
    public static string Root => AccelSim.Pruning.Study.RepoPaths.Root();
    public static string ArchPath => Path.Combine(Root, "arch", "spatten.yaml");
    public static string BertPath => Path.Combine(Root, "workloads", "spatten", "bert.yaml");
    public static string Gpt2Path => Path.Combine(Root, "workloads", "spatten", "gpt2.yaml");
    public static string Gpt2RtlPath => Path.Combine(Root, "workloads", "spatten", "gpt2-rtl.yaml");
    public static string TraceDemoPath => Path.Combine(Root, "workloads", "spatten", "trace-demo.yaml");
    public static string TraceDir => Path.Combine(Root, "workloads", "spatten", "traces");

    private static readonly Lazy<SpattenArch> LazyArch = new(() => SpattenArch.LoadFile(ArchPath));
    public static SpattenArch Arch => LazyArch.Value;

    private static readonly Lazy<SpattenStudyResult> LazyReproduction = new(() =>
        SpattenStudy.Run(SpattenStudy.LoadBenchmarks([BertPath, Gpt2Path]), Arch));

    /// <summary>The full reproduction (30 benchmarks x 6 techniques), computed once per test run.</summary>
    public static SpattenStudyResult Reproduction => LazyReproduction.Value;

    public static PruningSpec ParseSpec(string yaml, string file = "spec.yaml") =>
        PruningSpecParser.Parse(YNode.LoadText(yaml, file), "test");

    public static Benchmark Benchmark(string yaml, string file = "bench.yaml") =>
        BenchmarkFileParser.Parse(YNode.LoadText(yaml, file)).Single();

    /// <summary>A one-benchmark file around an inline pruning mapping.</summary>
    public static string BenchmarkYaml(string task, string pruningYaml, int layers = 4, int heads = 4, int headDim = 16) =>
        $$"""
        format: accelsim-spatten-benchmarks 1
        models:
          m: {layers: {{layers}}, heads: {{heads}}, head_dim: {{headDim}}}
        benchmarks:
          - name: b
            model: m
            {{task}}
            pruning:
        {{string.Join("\n", pruningYaml.Split('\n').Select(l => "      " + l))}}
        """;

    public static InputException AssertOneLineError(Action action, string expectedFragment)
    {
        var e = Assert.Throws<InputException>(action);
        Assert.DoesNotContain('\n', e.OneLine);
        Assert.Contains(expectedFragment, e.OneLine);
        return e;
    }
}
