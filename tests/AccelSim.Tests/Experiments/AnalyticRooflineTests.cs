using AccelSim.Core;
using AccelSim.Experiments.Engines;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

public class AnalyticRooflineTests
{
    private static IReadOnlyDictionary<string, MetricValue> Evaluate(TempDir dir, string arch, string workload)
    {
        dir.Write("m.yaml", arch);
        dir.Write("w.yaml", workload);
        var sweep = dir.Write("s.yaml", "engine: analytic-roofline\narch: m.yaml\nworkload: w.yaml\nparameters:\n  grid:\n    +workload.name: [x]\n");
        var registry = BuiltInEvaluators.CreateRegistry();
        var spec = SweepSpecParser.Load(sweep, registry);
        return registry.Get(spec.Engine).Evaluate(spec.PointAt(0), default);
    }

    [Fact]
    public void GemmIsComputeBoundAboveTheRidge()
    {
        using var dir = new TempDir();
        var m = Evaluate(dir, "peak_flops: 1e15\nmemory_bandwidth: 1e12\n", "kind: gemm\nm: 4096\nn: 4096\nk: 4096\n");
        var flops = 2.0 * 4096 * 4096 * 4096;
        var bytes = 2.0 * 3 * 4096 * 4096;
        Assert.Equal(flops, m["flops"].Number);
        Assert.Equal(bytes, m["bytes"].Number);
        Assert.Equal(flops / bytes, m["intensity"].Number, 12);
        Assert.Equal(flops / 1e15, m["latency_s"].Number, 15);
        Assert.Equal("compute", m["bound"].Text);
        Assert.Equal(1.0, m["utilization"].Number, 12);
    }

    [Fact]
    public void UnfusedAttentionMovesTheScoresAndTurnsMemoryBound()
    {
        using var dir = new TempDir();
        const string machine = "peak_flops: 989e12\nmemory_bandwidth: 3.35e12\n";
        const string shape = "kind: attention\nbatch: 2\nheads: 4\nquery_len: 8192\nkey_len: 8192\nhead_dim: 64\nfused: {0}\n";
        var fused = Evaluate(dir, machine, string.Format(Invariant.Culture, shape, "true"));
        var unfused = Evaluate(dir, machine, string.Format(Invariant.Culture, shape, "false"));
        double b = 2, h = 4, p = 8192, e = 64;
        Assert.Equal(2 * b * h * p * p * (e + e), fused["flops"].Number);
        Assert.Equal(2 * b * h * 4 * p * e, fused["bytes"].Number);
        Assert.Equal(fused["bytes"].Number + 2 * 4 * b * h * p * p, unfused["bytes"].Number);
        Assert.Equal("compute", fused["bound"].Text);
        Assert.Equal("memory", unfused["bound"].Text);
        Assert.True(unfused["latency_s"].Number > fused["latency_s"].Number);
        Assert.Equal(unfused["bytes"].Number / 3.35e12, unfused["latency_s"].Number, 15);
    }

    [Fact]
    public void BadSpecsAreInputErrorsWithLocations()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InputException>(() => Evaluate(dir, "peak_flops: -1\nmemory_bandwidth: 1e12\n", "kind: gemm\nm: 1\nn: 1\nk: 1\n"));
        Assert.Contains("m.yaml:1:13: peak_flops: must be a positive number", e.OneLine);
        e = Assert.Throws<InputException>(() => Evaluate(dir, "peak_flops: 1\nmemory_bandwidth: 1\n", "kind: conv\n"));
        Assert.Contains("w.yaml:1:7: kind: unknown workload kind 'conv'", e.OneLine);
        e = Assert.Throws<InputException>(() => Evaluate(dir, "peak_flops: 1\nmemory_bandwidth: 1\nclock: 3\n", "kind: gemm\nm: 1\nn: 1\nk: 1\n"));
        Assert.Contains("clock: unknown field", e.OneLine);
        // An element of 10^20 bytes is an overflow or a typo, not a number format.
        e = Assert.Throws<InputException>(() => Evaluate(dir, "peak_flops: 1\nmemory_bandwidth: 1\n", "kind: gemm\nm: 1\nn: 1\nk: 1\nword_bytes: 99999999999999999999\n"));
        Assert.Contains("w.yaml:5:13: word_bytes: bytes per element must be at most 16", e.OneLine);
        Assert.Equal(16.0 * 3, AnalyticRooflineEvaluator.Shape(YNode.LoadText("kind: gemm\nm: 1\nn: 1\nk: 1\nword_bytes: 16\n", "w.yaml")).Bytes);
    }
}
