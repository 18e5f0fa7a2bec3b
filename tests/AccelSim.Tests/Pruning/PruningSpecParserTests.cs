using AccelSim.Pruning.Spec;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

public class PruningSpecParserTests
{
    [Fact]
    public void ParsesEveryTechniqueAndStructuredSparsity()
    {
        var spec = ParseSpec("""
            mode: ratios
            dense_bits: 16
            token: {keep: [1.0, 0.8, 0.5]}
            head: {schedule: {unpruned_fraction: 0.3, average_prune_ratio: 0.2}}
            value: {keep_ratio: 0.25}
            quant: {kind: progressive, msb_bits: 6, lsb_bits: 4, threshold: 0.1, refetch_fraction: 0.05}
            sparsity:
              causal: true
              window: 64
              block: {size: 16, density: 0.4, seed: 3}
              streaming_heads: {fraction: 0.5, sink_tokens: 4, recent_tokens: 32}
            """);
        Assert.Equal(16, spec.DenseBits);
        Assert.Equal([1.0, 0.8, 0.5], spec.Token!.Keep.Expand(3).ToArray());
        Assert.Equal(0.25, spec.Value!.KeepRatio);
        var q = Assert.IsType<ProgressiveQuantization>(spec.Quant);
        Assert.Equal((6, 4, 0.1, 0.05, false), (q.MsbBits, q.LsbBits, q.Threshold, q.RefetchFraction!.Value, q.RefetchValues));
        Assert.True(spec.Sparsity.Causal);
        Assert.Equal(64, spec.Sparsity.Window);
        Assert.Equal(new BlockSparseSpec(16, 0.4, 3), spec.Sparsity.Block);
        Assert.Equal(new StreamingHeadsSpec(0.5, 4, 32), spec.Sparsity.StreamingHeads);
    }

    [Fact]
    public void RampScheduleFollowsThePaperRule()
    {
        // 15% of 12 layers (rounded up: 2) unpruned; cumulative pruned fraction r_i = 2 r i / (M + 1) over M = 10 layers.
        var keep = KeepSchedule.FromRamp(0.15, 0.2).Expand(12);
        Assert.Equal(1.0, keep[0]);
        Assert.Equal(1.0, keep[1]);
        Assert.Equal(1 - 2 * 0.2 * 1 / 11.0, keep[2], 12);
        Assert.Equal(1 - 2 * 0.2 * 10 / 11.0, keep[11], 12);
        var prunedMean = keep.Skip(2).Average(k => 1 - k);
        Assert.Equal(0.2, prunedMean, 12);
        // r_start + r_end = 2 r_avg
        Assert.Equal(0.4, (1 - keep[2]) + (1 - keep[11]), 12);
    }

    [Theory]
    [InlineData(12, 0.15, 0.8271)]
    [InlineData(24, 0.15, 0.8271)]
    [InlineData(12, 0.15, 0.4049)]
    [InlineData(24, 0.15, 0.4049)]
    [InlineData(12, 0.30, 0.9091)]
    [InlineData(7, 0.0, 0.2)]
    [InlineData(5, 0.5, 1.0)]
    public void CascadeScheduleHitsItsMeanKeepWithOnePerLayerRatio(int layers, double unpruned, double meanKeep)
    {
        var rule = new CascadeRatioSchedule(unpruned, meanKeep);
        var keep = KeepSchedule.FromMeanKeep(unpruned, meanKeep).Expand(layers);
        var u = (int)Math.Ceiling(unpruned * layers - 1e-9);
        Assert.Equal(meanKeep, keep.Average(), 9);
        Assert.All(keep.Take(u), k => Assert.Equal(1.0, k));
        // Cascade: every pruned layer keeps the same fraction (1 - p) of the tokens still alive.
        var p = rule.PerLayerRatio(layers);
        for (var l = Math.Max(u, 1); l < layers; l++) Assert.Equal(1 - p, keep[l] / keep[l - 1], 9);
        if (u == 0) Assert.Equal(1 - p, keep[0], 9);
    }

    [Fact]
    public void CascadeScheduleMatchesThePaperRampWhenPruningIsMild()
    {
        // For BERT (1.21x) the cascade form and the old linear ramp of the pruned fraction give nearly the same layers.
        var cascade = KeepSchedule.FromMeanKeep(0.15, 0.8271).Expand(12);
        var ramp = KeepSchedule.FromRamp(0.15, 0.2075).Expand(12);
        Assert.Equal(ramp.Average(), cascade.Average(), 3);
        for (var l = 0; l < 12; l++) Assert.InRange(cascade[l] - ramp[l], -0.03, 0.03);
    }

    [Theory]
    [InlineData("token: {schedule: {unpruned_fraction: 0.15}}", "spec.yaml:1:", "exactly one of 'average_prune_ratio'")]
    [InlineData("token: {schedule: {unpruned_fraction: 0.15, mean_keep: 0.5, average_prune_ratio: 0.2}}", "spec.yaml:1:", "exactly one of")]
    [InlineData("token: {schedule: {unpruned_fraction: 0.15, mean_keep: 1.5}}", "schedule.mean_keep", "fraction in (0, 1]")]
    public void BadSchedulesGiveOneLineErrors(string yaml, string where, string problem)
    {
        var e = AssertOneLineError(() => ParseSpec(yaml), problem);
        Assert.Contains(where, e.OneLine);
    }

    [Fact]
    public void UnreachableMeanKeepIsAnErrorAtTheSchedule()
    {
        // Half the layers unpruned: the mean keep cannot drop below 0.5.
        var spec = ParseSpec("token: {schedule: {unpruned_fraction: 0.5, mean_keep: 0.4}}");
        var e = AssertOneLineError(() => spec.Token!.Keep.Expand(12), "cannot be reached with 6 of 12 layers unpruned");
        Assert.Contains("spec.yaml:1:", e.OneLine);
    }

    [Theory]
    [InlineData("token: {keep: [1.0, 0.5, 0.7]}", "spec.yaml:1:", "cascade pruning cannot bring back")]
    [InlineData("token: {keep: [1.0, 1.5]}", "spec.yaml:1:", "fraction in (0, 1]")]
    [InlineData("token: {keep: [1.0], schedule: {unpruned_fraction: 0.1, average_prune_ratio: 0.1}}", "spec.yaml:1:", "exactly one of")]
    [InlineData("tokens: {keep: [1.0]}", "spec.yaml:1:1: tokens:", "unknown field")]
    [InlineData("quant: {kind: progressive, msb_bits: 6, lsb_bits: 4, threshold: 0.1}", "quant.refetch_fraction", "required in ratio mode")]
    [InlineData("quant: {kind: static, bits: 40}", "quant.bits", "exceeds dense_bits 32")]
    [InlineData("quant: {kind: fancy, bits: 4}", "quant.kind", "unknown quantisation kind")]
    [InlineData("quant: {kind: static, bits: -3}", "quant.bits", "between 1 and 64")]
    [InlineData("mode: trace", "spec.yaml:1:1: trace:", "needs a trace file")]
    [InlineData("mode: sometimes", "mode", "unknown mode")]
    [InlineData("value: {keep_ratio: 0}", "value.keep_ratio", "fraction in (0, 1]")]
    [InlineData("sparsity: {window: 0}", "sparsity.window", "at least 1")]
    [InlineData("sparsity: {block: {size: 8, density: 2}}", "sparsity.block.density", "fraction")]
    [InlineData("token: {keep: [1.0, [0.5]]}", "token.keep[1]", "expected a scalar")]
    public void BadSpecsGiveOneLineErrorsNamingTheField(string yaml, string where, string problem)
    {
        var e = AssertOneLineError(() => ParseSpec(yaml), problem);
        Assert.Contains(where, e.OneLine);
    }

    [Fact]
    public void TraceModeRejectsAGivenRefetchFraction() =>
        AssertOneLineError(() => ParseSpec("""
            mode: trace
            trace: t.trace
            quant: {kind: progressive, msb_bits: 6, lsb_bits: 4, threshold: 0.1, refetch_fraction: 0.05}
            """), "measured from the trace");

    [Fact]
    public void RampThatWouldPruneEverythingIsAnError()
    {
        var spec = ParseSpec("token: {schedule: {unpruned_fraction: 0.0, average_prune_ratio: 0.9}}");
        var e = AssertOneLineError(() => spec.Token!.Keep.Expand(4), "must stay above 0");
        Assert.Contains("spec.yaml:1:", e.OneLine);
    }

    [Fact]
    public void MalformedYamlIsOneLine() =>
        AssertOneLineError(() => ParseSpec("token: {keep: [1.0]}\n  head: : x"), "malformed YAML");

    [Theory]
    [InlineData("model: nope", "unknown model 'nope'")]
    [InlineData("pruning: missing", "unknown pruning settings 'missing'")]
    [InlineData("task: summarize", "unknown task")]
    public void BenchmarkFileErrorsAreOneLine(string replacement, string problem)
    {
        var yaml = """
            format: accelsim-spatten-benchmarks 1
            models:
              m: {layers: 2, heads: 2, head_dim: 8}
            pruning:
              p: {token: {keep: [1.0, 0.5]}}
            benchmarks:
              - {name: b, model: m, task: summarization, tokens: 8, pruning: p}
            """;
        var key = replacement.Split(':')[0];
        var original = key switch { "model" => "model: m", "pruning" => "pruning: p", _ => "task: summarization" };
        AssertOneLineError(() => Benchmark(yaml.Replace(original, replacement)), problem);
    }

    [Fact]
    public void KeepListLengthMustMatchTheModel() =>
        AssertOneLineError(() => Benchmark("""
            format: accelsim-spatten-benchmarks 1
            models:
              m: {layers: 3, heads: 2, head_dim: 8}
            benchmarks:
              - {name: b, model: m, task: summarization, tokens: 8, pruning: {token: {keep: [1.0, 0.5]}}}
            """), "has 2 entries but the model has 3 layers");

    [Fact]
    public void DuplicateBenchmarkNamesAreRejected() =>
        AssertOneLineError(() => Benchmark("""
            format: accelsim-spatten-benchmarks 1
            models:
              m: {layers: 1, heads: 1, head_dim: 8}
            benchmarks:
              - {name: b, model: m, task: summarization, tokens: 8}
              - {name: b, model: m, task: summarization, tokens: 9}
            """), "duplicate benchmark name 'b'");

    [Fact]
    public void MissingBenchmarkFileIsOneLine() =>
        AssertOneLineError(() => BenchmarkFileParser.ParseFile("/nonexistent/x.yaml"), "file not found");

    [Fact]
    public void CheckedInBenchmarkFilesParse()
    {
        var bert = BenchmarkFileParser.ParseFile(BertPath);
        var gpt2 = BenchmarkFileParser.ParseFile(Gpt2Path);
        var rtl = BenchmarkFileParser.ParseFile(Gpt2RtlPath);
        Assert.Equal(22, bert.Length);
        Assert.Equal(8, gpt2.Length);
        Assert.Equal(gpt2.Select(b => (b.Name, b.Task)), rtl.Select(b => (b.Name, b.Task)));
        Assert.All(bert, b => Assert.IsType<SummarizationTask>(b.Task));
        Assert.All(gpt2, b => Assert.Equal(new GenerationTask(992, 32), b.Task));
    }
}
