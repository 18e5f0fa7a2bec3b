using AccelSim.Pruning;
using AccelSim.Pruning.Cascades;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Traces;
using AccelSim.Pruning.Workload;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

public class TraceTests
{
    [Fact]
    public void ShippedTracesAreReproducibleFromTheGenerator()
    {
        // Set ACCELSIM_REGENERATE_TRACES=1 to rewrite the files after a deliberate generator change.
        // The shipped traces' probabilities come from the Einsum interpreter running attention-3pass.yaml.
        var regenerate = Environment.GetEnvironmentVariable("ACCELSIM_REGENERATE_TRACES") == "1";
        var interpreter = new InterpreterAttention(AttentionCascade.Load(Path.Combine(Root, "workloads", "attention", "attention-3pass.yaml")));
        foreach (var recipe in SyntheticTraceCatalog.All)
        {
            var text = recipe.Generate(interpreter, SyntheticTraceCatalog.InterpreterName).WriteToString();
            var path = Path.Combine(TraceDir, recipe.FileName);
            if (regenerate) File.WriteAllText(path, text);
            Assert.True(File.Exists(path), $"missing shipped trace {path}");
            Assert.Equal(text, File.ReadAllText(path));
        }
    }

    [Fact]
    public void TraceRoundTripsAndRowsAreDistributions()
    {
        var recipe = SyntheticTraceCatalog.All[1];
        var trace = recipe.Generate(ReferenceAttention.Instance, "ReferenceAttention");
        var back = AttentionTrace.Read(new StringReader(trace.WriteToString()), "t.trace");
        Assert.Equal(trace.Model, back.Model);
        Assert.Equal(trace.Task, back.Task);
        Assert.Equal(trace.Blocks.Count, back.Blocks.Count);
        foreach (var (key, block) in back.Blocks)
        {
            Assert.Equal((1, ((GenerationTask)trace.Task).ContextAt(key.Step)), (block.Rows, block.Cols));
            Assert.Equal(1.0, block.Values.Sum(), 4);
            Assert.Equal(trace.HeadMagnitude(key.Step, key.Layer, key.Head), back.HeadMagnitude(key.Step, key.Layer, key.Head), 5);
        }
    }

    [Fact]
    public void SyntheticAttentionIsSkewed()
    {
        // A few salient tokens take most of the attention: the top quarter of keys should get well over a quarter of it.
        var trace = SyntheticTraceCatalog.All[0].Generate(ReferenceAttention.Instance, "ReferenceAttention");
        var b = trace.Block(0, 0, 0);
        var received = Enumerable.Range(0, b.Cols).Select(c => Enumerable.Range(0, b.Rows).Sum(r => b[r, c])).OrderDescending().ToArray();
        Assert.True(received.Take(b.Cols / 4).Sum() / received.Sum() > 0.5);
    }

    [Theory]
    [InlineData("not a trace", "not an attention trace")]
    [InlineData("accelsim-attention-trace 1\nmodel m 1 1 4\ntask summarization 2\nprobs 0 0 0 2 2\n0.5 0.5\n0.5", "row has 1 values")]
    [InlineData("accelsim-attention-trace 1\nmodel m 1 1 4\ntask summarization 2\nprobs 0 0 0 2 2\n0.5 0.5\n0.5 x", "not a probability")]
    [InlineData("accelsim-attention-trace 1\nmodel m 1 1 4\ntask summarization 2\nprobs 0 0 0 3 3\n", "needs 2x2")]
    [InlineData("accelsim-attention-trace 1\nmodel m 1 1 4\ntask summarization 2\n", "missing probabilities for step 0, layer 0, head 0")]
    [InlineData("accelsim-attention-trace 1\nmodel m 1 1 4\ntask summarization 2\nbogus 1", "unknown record 'bogus'")]
    [InlineData("accelsim-attention-trace 1\nprobs 0 0 0 1 1\n1", "before the model and task")]
    public void MalformedTracesGiveOneLineErrors(string text, string problem) =>
        AssertOneLineError(() => AttentionTrace.Read(new StringReader(text), "bad.trace"), problem);

    [Fact]
    public void MissingTraceFileIsOneLine()
    {
        var b = Benchmark(BenchmarkYaml("task: summarization\n    tokens: 32",
            "mode: trace\ntrace: does-not-exist.trace\ntoken: {keep: [1.0, 0.5, 0.5, 0.5]}"));
        AssertOneLineError(() => PrunedWorkloadBuilder.Build(b, TechniqueSet.All), "trace file not found");
    }

    [Fact]
    public void TraceThatDoesNotMatchTheModelIsOneLine()
    {
        var path = Path.Combine(TraceDir, "synthetic-bert-tiny.trace");
        var b = Benchmark(BenchmarkYaml("task: summarization\n    tokens: 32",
            $"mode: trace\ntrace: {path}\ntoken: {{keep: [1.0, 0.5, 0.5]}}", layers: 3));
        AssertOneLineError(() => PrunedWorkloadBuilder.Build(b, TechniqueSet.All), "does not match model");
    }
}
