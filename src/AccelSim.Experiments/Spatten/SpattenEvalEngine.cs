using System.Text;
using System.Text.Json;
using AccelSim.Core;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.Engines;
using AccelSim.Experiments.Sweeps;
using AccelSim.Model;
using AccelSim.Pruning;
using AccelSim.Pruning.Cascades;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Workload;

namespace AccelSim.Experiments.Spatten;

/// <summary>
/// `eval --arch arch/spatten.yaml --workload W`: SpAtten prices the softmax-attention cascade W as `reproduce spatten`
/// prices a `cascade:` benchmark. Bind: W's parameters (`--model`, `--set`) give the heads, head_dim and tokens (its
/// `attention:` section names the ranks); `layers` comes from the model shape (--model, else W's `model:`; default 1: a cascade is one layer).
/// Map: W's `pruning:` section (and `sparsity:`) are SpAtten's settings, all techniques on; W's own causal or window
/// mask becomes SpAtten's structured sparsity. Cost: the SpAtten engine, once dense and once pruned; a batch runs its
/// sequences one after the other. A cascade SpAtten cannot run (no `attention:` section, not softmax attention,
/// cross attention of unequal lengths) is one line saying why.
/// </summary>
public sealed class SpattenEvalEngine : IEvalEngine
{
    public string Name => "spatten";
    public string Reads => "the SpAtten engine (format: accelsim-spatten-arch, arch/spatten.yaml)";
    public IReadOnlyList<string> Options { get; } = [];

    public bool Accepts(string archFile) => EvalEngines.RootHas(archFile, "format",
        root => root.Req("format").IsScalar && root.Req("format").Text.Trim().StartsWith("accelsim-spatten-arch", StringComparison.Ordinal));

    /// <summary>SpAtten's priced run of one cascade, dense and with its pruning.</summary>
    public sealed record Outcome(Benchmark Benchmark, long Batch, SpattenResult Dense, SpattenResult Pruned, bool HasPruning, SpattenArch Arch);

    public EngineReport Evaluate(EvalInput input)
    {
        var o = Run(input.Request);
        return new EngineReport(Name, Text(o), Json(o), []);
    }

    public static Outcome Run(EvalRequest request)
    {
        var archSets = request.Sets.Where(SpatialEvaluation.IsArchitectureSetting)
            .Select(s => SpecOverride.Parse(s.StartsWith("arch.", StringComparison.Ordinal) ? s : "arch." + s)).ToList();
        var arch = archSets.Count == 0 ? SpattenArch.LoadFile(request.ArchFile) : SpattenArch.Parse(SpecOverrideSet.Split(archSets).LoadArch(request.ArchFile));

        // 1. bind: model-shape values W declares, then --set (each must be W's).
        var spec = WorkloadLoader.LoadSpec(request.WorkloadFile);
        var declared = spec.Params.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        int layers = 1;
        // The model shape: --model, else the workload's own `model:` (its values W takes; here also its layer count).
        if ((request.ModelFile ?? spec.ModelFile) is { } modelFile)
        {
            var model = YNode.LoadFile(modelFile);
            model.ExpectOnlyKeys("name", "description", "source", "params");
            foreach (var (k, v) in model.Req("params").Entries)
            {
                if (k == "layers") layers = v.AsInt() is var n and >= 1 ? n : throw v.Error("layers must be a positive integer");
                if (declared.Contains(k)) overrides[k] = v.Text;
            }
        }
        foreach (var (k, v) in WorkloadLoader.ParseOverrides(request.Sets.Where(s => !SpatialEvaluation.IsArchitectureSetting(s))))
        {
            if (!declared.Contains(k))
                throw new InputException(SourceLocation.FileOnly(request.WorkloadFile), "--set " + k,
                    $"unknown parameter '{k}'{Suggest.DidYouMean(k, declared)} (workload parameters: {string.Join(", ", spec.Params.Select(p => p.Name))})");
            overrides[k] = v;
        }
        var cascade = AttentionCascade.Load(request.WorkloadFile, overrides);
        CheckSoftmax(cascade);
        if (cascade.Info.KvHeadRank is not null || cascade.Info.GroupRank is not null)
            throw new InputException(SourceLocation.FileOnly(request.WorkloadFile), "attention.ranks",
                $"SpAtten fetches one K and V per head; cascade {spec.Name} shares K/V across query heads (kv_heads/group ranks), which it does not implement");

        // 2. map: the cascade's pruning settings and masks.
        var pruning = cascade.PruningFromWorkload();
        var hasPruning = pruning is not null;
        // K and V are stored at the cascade's word width unless the pruning section says otherwise.
        var wordBits = cascade.Defaults.WordBits;
        if (pruning is null) pruning = PruningSpec.Dense(wordBits);
        else if (!cascade.Spec.Extensions["pruning"].Has("dense_bits"))
        {
            var widest = pruning.Quant switch { StaticQuantization q => q.Bits, ProgressiveQuantization q => q.FullBits, _ => 0 };
            if (widest > wordBits)
                throw cascade.Spec.Extensions["pruning"].Error("quant",
                    $"quantised width {Invariant.Num(widest)} exceeds the cascade's word_bits {Invariant.Num(wordBits)} (give dense_bits to store K/V wider)");
            pruning = pruning with { DenseBits = wordBits };
        }
        if (cascade.Spec.Extensions.TryGetValue("sparsity", out var sparsityNode))
            pruning = pruning with { Sparsity = PruningSpecParser.ParseSparsity(sparsityNode) };
        pruning = pruning with { Sparsity = WithCascadeMask(pruning.Sparsity, cascade) };
        var benchmark = new Benchmark(cascade.Spec.Name, cascade.Model(layers), cascade.Task(), pruning, "", cascade.Path, overrides);
        try
        {
            pruning.Token?.Keep.Expand(layers);
            pruning.Head?.Keep.Expand(layers);
        }
        catch (InputException e) when (e.Location is null)
        {
            throw new InputException(SourceLocation.FileOnly(request.WorkloadFile), "pruning", $"{e.Problem} (layers = {layers}, from --model)");
        }

        // 3. cost.
        var engine = new SpattenEngine(arch);
        var dense = engine.Evaluate(PrunedWorkloadBuilder.Build(benchmark, TechniqueSet.None));
        var pruned = hasPruning ? engine.Evaluate(PrunedWorkloadBuilder.Build(benchmark, TechniqueSet.All)) : dense;
        var batch = cascade.Info.BatchRank is { } b ? cascade.Extent(b) : 1;
        return new Outcome(benchmark, batch, dense, pruned, hasPruning, arch);
    }

    /// <summary>SpAtten's pipeline is softmax attention: row maximum, exponentials and a normalising division.</summary>
    private static void CheckSoftmax(AttentionCascade cascade)
    {
        var ops = CascadeAnalyzer.Analyze(cascade.Defaults).TotalOps;
        var missing = new List<string>();
        if (ops.Exp == 0) missing.Add("exponentials");
        if (ops.Max == 0) missing.Add("a row maximum");
        if (ops.Div == 0) missing.Add("a normalising division");
        if (missing.Count > 0)
            throw new InputException(SourceLocation.FileOnly(cascade.Path), "einsums",
                $"SpAtten implements softmax attention; cascade {cascade.Spec.Name} has no {string.Join(", no ", missing)}");
    }

    /// <summary>
    /// The cascade's causal and window masks as SpAtten's structured sparsity (the same masks: trailing window when
    /// causal, symmetric otherwise). A `sparsity:` section that contradicts the cascade is an error, not a choice.
    /// </summary>
    private static StructuredSparsitySpec WithCascadeMask(StructuredSparsitySpec sparsity, AttentionCascade cascade)
    {
        var info = cascade.Defaults.Attention!;
        var at = SourceLocation.FileOnly(cascade.Path);
        if (sparsity.Causal && !info.Causal)
            throw new InputException(at, "sparsity.causal", "is true but the cascade is not causal (set causal=true, or drop it)");
        int? window = info.Window is { } w ? checked((int)w) : null;
        if (sparsity.Window is { } sw && sw != window)
            throw new InputException(at, "sparsity.window",
                $"is {Invariant.Num(sw)} but the cascade's window is {(window is { } cw ? Invariant.Num(cw) : "none")}");
        return sparsity with { Causal = info.Causal, Window = window };
    }

    private static string Techniques(Outcome o)
    {
        if (!o.HasPruning) return "none (the workload has no pruning: section: dense)";
        var p = o.Benchmark.Pruning;
        var parts = new List<string>();
        if (p.Token is not null) parts.Add("token");
        if (p.Head is not null) parts.Add("head");
        if (p.Value is not null) parts.Add("value");
        if (p.Quant is not null) parts.Add("quant");
        return parts.Count == 0 ? "none configured" : string.Join("+", parts);
    }

    private static string Mask(StructuredSparsitySpec s) =>
        s.IsNone ? "dense" : string.Join(", ", new[]
        {
            s.Causal ? "causal" : null,
            s.Window is { } w ? "window " + Invariant.Num(w) : null,
            s.Block is { } b ? $"block {Invariant.Num(b.BlockSize)} density {Invariant.Num(b.Density)}" : null,
            s.StreamingHeads is { } h ? $"streaming heads {Invariant.Num(h.Fraction)}" : null,
        }.Where(x => x is not null));

    private static string Shape(Outcome o)
    {
        var b = o.Benchmark;
        var task = b.Task switch
        {
            SummarizationTask s => $"summarization of {Invariant.Num(s.Tokens)} tokens",
            GenerationTask g => $"one generation step over {Invariant.Num(g.ContextAt(0))} keys",
            _ => b.Task.Kind,
        };
        return $"{Invariant.Num(b.Model.Layers)} layer(s) x {Invariant.Num(b.Model.Heads)} heads x head_dim {Invariant.Num(b.Model.HeadDim)}, {task}, batch {Invariant.Num(o.Batch)}";
    }

    public static string Text(Outcome o)
    {
        var w = new StringWriter(Invariant.Culture);
        w.WriteLine($"{o.Benchmark.Name} on {o.Arch.Name} (SpAtten engine): {Shape(o)}");
        w.WriteLine($"  pruning       {Techniques(o)}; mask {Mask(o.Benchmark.Pruning.Sparsity)}; {o.Pruned.Mode.ToString().ToLowerInvariant()} mode");
        w.WriteLine($"  latency       {Invariant.Sig(o.Batch * o.Pruned.LatencySeconds, 6)} s   (dense {Invariant.Sig(o.Batch * o.Dense.LatencySeconds, 6)} s)");
        w.WriteLine($"  energy        {Invariant.Sig(o.Batch * o.Pruned.EnergyPj, 6)} pJ  (dense {Invariant.Sig(o.Batch * o.Dense.EnergyPj, 6)} pJ)");
        w.WriteLine($"  DRAM          {Invariant.Sig(o.Batch * o.Pruned.DramBytes, 6)} B   (dense {Invariant.Sig(o.Batch * o.Dense.DramBytes, 6)} B, " +
                    $"reduction {Invariant.Sig(o.Dense.DramBytes / o.Pruned.DramBytes, 4)}x)");
        if (o.Batch > 1) w.WriteLine($"  ({Invariant.Num(o.Batch)} sequences run one after the other; per sequence: divide by {Invariant.Num(o.Batch)})");
        return w.ToString();
    }

    public static string Json(Outcome o)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            j.WriteStartObject();
            j.WriteString("engine", "spatten");
            j.WriteString("architecture", o.Arch.Name);
            j.WriteString("workload", o.Benchmark.Name);
            j.WriteString("task", o.Benchmark.Task.Kind);
            j.WriteNumber("layers", o.Benchmark.Model.Layers);
            j.WriteNumber("heads", o.Benchmark.Model.Heads);
            j.WriteNumber("head_dim", o.Benchmark.Model.HeadDim);
            j.WriteNumber("batch", o.Batch);
            j.WriteString("pruning", Techniques(o));
            j.WriteString("mask", Mask(o.Benchmark.Pruning.Sparsity));
            j.WriteString("mode", o.Pruned.Mode.ToString().ToLowerInvariant());
            Write(j, o.Pruned, o.Batch);
            j.WriteNumber("dram_reduction", o.Dense.DramBytes / o.Pruned.DramBytes);
            j.WriteStartObject("dense");
            Write(j, o.Dense, o.Batch);
            j.WriteEndObject();
            var c = o.Pruned.CycleBreakdown;
            j.WriteStartObject("cycles_per_sequence");
            j.WriteNumber("fetch", c.Fetch);
            j.WriteNumber("qk", c.QueryKey);
            j.WriteNumber("softmax", c.Softmax);
            j.WriteNumber("pv", c.ProbValue);
            j.WriteNumber("local_v_topk", c.LocalValueTopK);
            j.WriteNumber("serial_topk", c.SerialTopK);
            j.WriteNumber("fill", c.PipelineFill);
            j.WriteEndObject();
            var e = o.Pruned.Energy;
            j.WriteStartObject("energy_breakdown_pJ_per_sequence");
            j.WriteNumber("dram", e.Dram);
            j.WriteNumber("mac", e.Mac);
            j.WriteNumber("sram", e.Sram);
            j.WriteNumber("softmax", e.Softmax);
            j.WriteNumber("topk", e.TopK);
            j.WriteNumber("selection", e.Selection);
            j.WriteEndObject();
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Write(Utf8JsonWriter j, SpattenResult r, long batch)
    {
        j.WriteNumber("latency_s", batch * r.LatencySeconds);
        j.WriteNumber("energy_pJ", batch * r.EnergyPj);
        j.WriteNumber("dram_bytes", batch * r.DramBytes);
    }
}
