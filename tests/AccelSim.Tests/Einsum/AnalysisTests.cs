using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

public class AnalysisTests
{
    private static CascadeReport Analyze(string file, Dictionary<string, string>? set = null) =>
        CascadeAnalyzer.Analyze(WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", file), set));

    [Theory]
    [InlineData("attention-3pass.yaml", 3)]
    [InlineData("attention-2pass.yaml", 2)]
    [InlineData("attention-1pass.yaml", 1)]
    [InlineData("block-sparse-3pass.yaml", 3)]
    [InlineData("gqa-1pass.yaml", 1)]
    [InlineData("decode-1pass.yaml", 1)]
    [InlineData("sliding-window-1pass.yaml", 1)]
    public void PassesOverTheKeyRank(string file, int passes)
    {
        var r = Analyze(file, new() { ["seq_len"] = "1024" });
        Assert.Equal(passes, r.PassesOver("M")!.Passes);
        Assert.All(r.Passes.Where(p => p.Rank != "M"), p => Assert.Equal(1, p.Passes));
    }

    [Fact]
    public void ThreePassCausesAreTheMaxAndTheDenominator()
    {
        var m = Analyze("attention-3pass.yaml").PassesOver("M")!;
        Assert.Equal(["MX", "SD"], m.Causes.Select(c => c.Tensor));
        Assert.Equal([2, 3], m.Causes.Select(c => c.Pass));
    }

    [Theory]
    [InlineData("attention-3pass.yaml", "QK", "AV")]
    [InlineData("attention-2pass.yaml", "QK", "AV")]
    [InlineData("attention-1pass.yaml", "QK", "SLNV")]
    public void MacCountsEqualTheClosedForm(string file, string qk, string av)
    {
        var r = Analyze(file, new() { ["seq_len"] = "4096", ["batch"] = "3", ["heads"] = "5", ["head_dim"] = "64" });
        long B = 3, H = 5, M = 4096, P = 4096, E = 64, F = 64;
        Assert.Equal(B * H * M * P * E, r.Einsum(qk).Ops.Mac);
        Assert.Equal(B * H * M * P * F, r.Einsum(av).Ops.Mac);
        Assert.Equal(B * H * P * E, r.Einsum("QS").Ops.Mul);
    }

    [Fact]
    public void OnePassCountsMatchFuseMaxIterationSpaces()
    {
        // fusemax-model.md sec. 4: LM, SLN, SLD = B*H*M*P; RM, PRM, SPD, RD = B*H*(M/256)*P; SPNV, RNV = B*F*H*(M/256)*P; AV = B*F*H*P.
        var r = Analyze("attention-1pass.yaml", new() { ["seq_len"] = "16384", ["batch"] = "64", ["heads"] = "12" });
        long B = 64, H = 12, M = 16384, P = 16384, F = 64;
        Assert.Equal(B * H * M * P, r.Einsum("LM").Points);
        Assert.Equal(B * H * M * P, r.Einsum("SLN").Points);
        Assert.Equal(new OpCounts(0, 0, 1, 0, 1, 0, 0), r.Einsum("SLN").OpsPerPoint); // sub + exp
        Assert.Equal(B * H * M * P, r.Einsum("SLD").Ops.Add);
        foreach (var e in new[] { "RM", "PRM", "SPD", "RD" }) Assert.Equal(B * H * (M / 256) * P, r.Einsum(e).Points);
        foreach (var e in new[] { "SPNV", "RNV" }) Assert.Equal(B * F * H * (M / 256) * P, r.Einsum(e).Points);
        Assert.Equal(B * F * H * P, r.Einsum("AV").Ops.Div);
    }

    [Fact]
    public void CausalMaskIsCountedExactly()
    {
        var r = Analyze("attention-1pass.yaml", new() { ["seq_len"] = "65536", ["causal"] = "true", ["heads"] = "2" });
        long P = 65536, E = 64, H = 2;
        Assert.Equal(H * E * P * (P + 1) / 2, r.Einsum("QK").Ops.Mac);
        Assert.Equal(H * P * (P + 1) / 2, r.Einsum("SLN").Points);
    }

    [Fact]
    public void SlidingWindowIsCountedExactly()
    {
        var r = Analyze("sliding-window-1pass.yaml", new() { ["seq_len"] = "5000", ["window"] = "300", ["heads"] = "1", ["batch"] = "1" });
        long P = 5000, w = 300, E = 64;
        long expected = 0;
        for (long p = 0; p < P; p++) expected += Math.Min(p + 1, w);
        Assert.Equal(expected * E, r.Einsum("QK").Ops.Mac);
    }

    [Theory]
    [InlineData("attention-3pass.yaml")]
    [InlineData("attention-2pass.yaml")]
    [InlineData("block-sparse-3pass.yaml")]
    [InlineData("sliding-window-1pass.yaml")]
    public void AnalyticalPointsEqualWhatTheInterpreterExecutes(string file)
    {
        // Property: for every Einsum that is not a running recurrence, the exact analytical count of computed
        // points (masks and empty operands included) equals the interpreter's count of executed points.
        foreach (var causal in new[] { "false", "true" })
        {
            var spec = WorkloadLoader.LoadSpec(RepoPaths.Of("workloads", "attention", file));
            var set = InterpreterEquivalenceTests.Small(spec, causal == "true" ? "window" : "longer-keys");
            var cascade = WorkloadLoader.Bind(spec, set);
            var report = CascadeAnalyzer.Analyze(cascade);
            var run = Interpreter.Run(cascade, Interpreter.RandomInputs(cascade, 1));
            // Running recurrences leave their first element empty by design (the analytical count is the dense
            // iteration space there, as FuseMax counts it), so skip them and everything downstream of them.
            var affected = new HashSet<string>();
            foreach (var e in cascade.Einsums)
                if (e.Output.Indices.Any(x => x.Constant > 0) || e.Inputs.Any(i => affected.Contains(i.Tensor))) affected.Add(e.Output.Tensor);
            Assert.True(cascade.Einsums.Count(e => !affected.Contains(e.Output.Tensor)) >= 3);
            foreach (var e in cascade.Einsums.Where(e => !affected.Contains(e.Output.Tensor)))
                Assert.True(report.Einsum(e.Name).Points == run.ExecutedPoints[e.Name],
                    $"{file} {e.Name}: analytical {report.Einsum(e.Name).Points}, executed {run.ExecutedPoints[e.Name]}");
        }
    }

    [Fact]
    public void FootprintsAndIntensity()
    {
        var r = Analyze("attention-1pass.yaml", new() { ["seq_len"] = "1024", ["heads"] = "2", ["batch"] = "1" });
        var q = r.Tensors.Single(t => t.Name == "Q");
        Assert.Equal(2L * 1024 * 64, q.Elements);
        Assert.Equal(2.0 * 1024 * 64 * 2, q.Bytes);
        var rm = r.Tensors.Single(t => t.Name == "RM");
        Assert.Equal(1024 / 256 + 1, rm.Extents[2]); // RM[m1+1] needs M1 + 1 entries
        Assert.Equal(4 * q.Bytes, r.CompulsoryBytes); // Q, K, V in; AV out
        Assert.Equal(r.TotalFlops / r.CompulsoryBytes, r.ArithmeticIntensity, 12);
    }

    [Fact]
    public void TransformerLayerCountsProjectionsAndFfn()
    {
        var r = CascadeAnalyzer.Analyze(WorkloadLoader.Load(RepoPaths.Of("workloads", "layers", "transformer-layer.yaml"),
            new Dictionary<string, string> { ["seq_len"] = "1024" }));
        long B = 64, P = 1024, D = 768, S = 3072; // BERT-Base from the model file, batch 64
        Assert.Equal(B * P * D * D, r.Einsum("Q").Ops.Mac);
        Assert.Equal(B * P * D * S, r.Einsum("H1").Ops.Mac);
        Assert.Equal(B * P * S * D, r.Einsum("H2").Ops.Mac);
        Assert.Equal(1, r.PassesOver("M")!.Passes);
    }
}
