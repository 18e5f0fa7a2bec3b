using AccelSim.Pruning.Spec;

namespace AccelSim.Pruning.Traces;

/// <summary>One shipped synthetic trace: how it is generated and where it lives under workloads/spatten/traces/.</summary>
public sealed record SyntheticTraceRecipe(string FileName, AttentionModel Model, TaskShape Task, ulong Seed)
{
    public int Tokens => Task switch { SummarizationTask s => s.Tokens, GenerationTask g => g.TotalTokens, _ => 0 };

    public AttentionTrace Generate(IAttentionEvaluator evaluator, string evaluatorName) =>
        new SyntheticAttention(Model, Tokens, Seed).Trace(Task, evaluator,
            $"synthetic inputs: SyntheticAttention seed {Seed} (log-normal token salience sigma 0.8, alignment 1.5); " +
            $"probabilities computed by {evaluatorName} in double precision; written with 6 significant digits");
}

/// <summary>The synthetic traces shipped in workloads/spatten/traces/ (regenerated and compared by the tests).</summary>
public static class SyntheticTraceCatalog
{
    /// <summary>How the shipped traces' probabilities were computed (recorded in their `source` line).</summary>
    public const string InterpreterName = "the Einsum interpreter running workloads/attention/attention-3pass.yaml (tensor A)";

    public static readonly IReadOnlyList<SyntheticTraceRecipe> All =
    [
        new("synthetic-bert-tiny.trace", new AttentionModel("tiny-bert", 4, 4, 16), new SummarizationTask(32), 2021),
        new("synthetic-gpt-tiny.trace", new AttentionModel("tiny-gpt", 4, 4, 16), new GenerationTask(48, 8), 2021),
    ];
}
