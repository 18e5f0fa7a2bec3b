using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Pruning.Spec;

/// <summary>The attention shape of a Transformer: layers, heads per layer and head dimension.</summary>
public sealed record AttentionModel(string Name, int Layers, int Heads, int HeadDim)
{
    public AttentionModel Validate()
    {
        if (Layers < 1 || Heads < 1 || HeadDim < 1)
            throw new InputException($"model '{Name}': layers, heads and head_dim must be positive");
        return this;
    }
}

/// <summary>What the attention processes: a whole sentence at once, or a sequence of generation steps.</summary>
public abstract record TaskShape
{
    public abstract string Kind { get; }
}

/// <summary>Summarisation / discriminative mode (BERT): all tokens are queries and keys at once.</summary>
public sealed record SummarizationTask(int Tokens) : TaskShape
{
    public override string Kind => "summarization";
}

/// <summary>Generation mode (GPT-2): one query per step against the growing K/V history.</summary>
public sealed record GenerationTask(int PromptTokens, int GenerateTokens) : TaskShape
{
    public override string Kind => "generation";
    /// <summary>
    /// Keys in the K/V history at generation step <paramref name="step"/> (0-based): the prompt, the tokens generated so
    /// far and the current token, whose K/V are appended before its attention (the released SpAtten GPT-2 trace has
    /// 993 keys at step 0 for the paper's 992-token prompt).
    /// </summary>
    public int ContextAt(int step) => PromptTokens + step + 1;

    /// <summary>Total tokens whose K/V exist by the last step.</summary>
    public int TotalTokens => PromptTokens + GenerateTokens;
}

/// <summary>One benchmark: a model, a task shape and the pruning settings it runs with.</summary>
/// <param name="CascadePath">The Einsum attention workload the benchmark was built from, when it was (`cascade:`).</param>
public sealed record Benchmark(string Name, AttentionModel Model, TaskShape Task, PruningSpec Pruning, string Source,
    string? CascadePath = null, IReadOnlyDictionary<string, string>? CascadeOverrides = null);

/// <summary>
/// Parses a benchmark file (workloads/spatten/*.yaml): named models, named pruning settings and the benchmark list.
/// Format documented in workloads/spatten/README.md.
/// </summary>
public static class BenchmarkFileParser
{
    public const string FormatTag = "accelsim-spatten-benchmarks 1";

    public static ImmutableArray<Benchmark> ParseFile(string path) => Parse(YNode.LoadFile(path));

    public static ImmutableArray<Benchmark> Parse(YNode root)
    {
        if (!root.IsMapping) throw root.Error($"a benchmark file must be a mapping, found a {root.KindName}");
        root.ExpectOnlyKeys("format", "source", "note", "models", "pruning", "benchmarks");
        var hasModels = root.Has("models");
        var format = root.Req("format");
        if (format.Text.Trim() != FormatTag)
            throw format.Error($"unsupported format '{format.Text}' (expected '{FormatTag}')");

        var models = new Dictionary<string, AttentionModel>(StringComparer.Ordinal);
        foreach (var (name, node) in hasModels ? root.Req("models").Entries : [])
        {
            node.ExpectOnlyKeys("layers", "heads", "head_dim", "source", "note");
            models[name] = new AttentionModel(name,
                Positive(node.Req("layers")), Positive(node.Req("heads")), Positive(node.Req("head_dim")));
        }

        var prunings = new Dictionary<string, PruningSpec>(StringComparer.Ordinal);
        if (root.Opt("pruning") is { IsNull: false } pruningNode)
            foreach (var (name, node) in pruningNode.Entries)
                prunings[name] = PruningSpecParser.Parse(node, name);

        var benchmarks = ImmutableArray.CreateBuilder<Benchmark>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in root.Req("benchmarks").Items)
        {
            node.ExpectOnlyKeys("name", "model", "task", "tokens", "prompt_tokens", "generate_tokens", "cascade", "set", "layers",
                "pruning", "source", "note");
            var nameNode = node.Req("name");
            var name = nameNode.Text.Trim();
            if (name.Length == 0) throw nameNode.Error("benchmark name is empty");
            if (!seen.Add(name)) throw nameNode.Error($"duplicate benchmark name '{name}'");

            AttentionModel model;
            TaskShape task;
            Cascades.AttentionCascade? cascade = null;
            if (node.Opt("cascade") is { IsNull: false } cascadeNode)
            {
                cascade = LoadCascade(node, cascadeNode);
                (model, task) = (cascade.Model(node.Opt("layers") is { IsNull: false } l ? Positive(l) : 1), cascade.Task());
            }
            else
            {
                foreach (var k in new[] { "set", "layers" })
                    if (node.Has(k)) throw node.Error(k, "only used with cascade: (an Einsum attention workload)");
                var modelNode = node.Req("model");
                if (!models.TryGetValue(modelNode.Text.Trim(), out model!))
                    throw modelNode.Error($"unknown model '{modelNode.Text}' (defined: {string.Join(", ", models.Keys)})");

                var taskNode = node.Req("task");
                task = taskNode.Text.Trim().ToLowerInvariant() switch
                {
                    "summarization" => ParseSummarization(node),
                    "generation" => ParseGeneration(node),
                    var other => throw taskNode.Error($"unknown task '{other}' (expected summarization or generation)"),
                };
            }

            // A cascade benchmark without its own settings takes the workload's `pruning:` section, if any.
            var pruning = cascade?.PruningFromWorkload() ?? PruningSpec.Dense();
            if (node.Opt("pruning") is { IsNull: false } p)
            {
                if (p.IsScalar)
                {
                    if (!prunings.TryGetValue(p.Text.Trim(), out pruning!))
                        throw p.Error($"unknown pruning settings '{p.Text}' (defined: {string.Join(", ", prunings.Keys)})");
                }
                else pruning = PruningSpecParser.Parse(p, name);
            }
            // Fail early on a schedule that does not fit this model.
            try
            {
                pruning.Token?.Keep.Expand(model.Layers);
                pruning.Head?.Keep.Expand(model.Layers);
            }
            catch (InputException e) when (e.Location is null)
            {
                throw node.Error("pruning", e.Problem);
            }
            benchmarks.Add(new Benchmark(name, model, task, pruning, node.OptString("source") ?? "", cascade?.Path, cascade?.BaseOverrides));
        }
        if (benchmarks.Count == 0) throw root.Error("benchmarks", "no benchmarks listed");
        return benchmarks.ToImmutable();
    }

    /// <summary>
    /// A benchmark defined by an Einsum attention workload: its heads, head_dim and token counts come from the bound
    /// cascade (`set:` overrides parameters), `layers:` repeats it (default 1).
    /// </summary>
    private static Cascades.AttentionCascade LoadCascade(YNode node, YNode cascadeNode)
    {
        foreach (var k in new[] { "model", "task", "tokens", "prompt_tokens", "generate_tokens" })
            if (node.Has(k)) throw node.Error(k, "comes from the cascade when cascade: is given");
        var path = cascadeNode.Text.Trim();
        if (!Path.IsPathRooted(path))
            path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(node.File)) ?? ".", path));
        if (!File.Exists(path)) throw cascadeNode.Error($"cascade workload '{cascadeNode.Text}' not found");
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node.Opt("set") is { IsNull: false } set)
            foreach (var (k, v) in set.Entries) overrides[k] = v.Text;
        return Cascades.AttentionCascade.Load(path, overrides);
    }

    private static SummarizationTask ParseSummarization(YNode node)
    {
        foreach (var k in new[] { "prompt_tokens", "generate_tokens" })
            if (node.Has(k)) throw node.Error(k, "only used with task: generation");
        return new SummarizationTask(Positive(node.Req("tokens")));
    }

    private static GenerationTask ParseGeneration(YNode node)
    {
        if (node.Has("tokens")) throw node.Error("tokens", "use prompt_tokens and generate_tokens with task: generation");
        return new GenerationTask(Positive(node.Req("prompt_tokens")), Positive(node.Req("generate_tokens")));
    }

    private static int Positive(YNode node)
    {
        var v = node.AsInt();
        if (v < 1) throw node.Error($"must be a positive integer, found {v}");
        return v;
    }
}
