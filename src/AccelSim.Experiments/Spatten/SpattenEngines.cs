using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Gpu;
using AccelSim.Model.Cascade;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Study;
using AccelSim.Pruning.Workload;

namespace AccelSim.Experiments.Spatten;

/// <summary>What one pruned workload costs on one engine (attention only, summed over its layer passes).</summary>
public sealed record EngineCost(double LatencySeconds, double EnergyPj, double DramBytes);

/// <summary>
/// A cost model that prices a <see cref="PrunedWorkload"/>: the SpAtten engine itself, or a dense engine (the FuseMax
/// array, a GPU kernel) that runs each layer pass as the dense attention the pruning leaves. <see cref="Exploits"/>
/// says which techniques the engine can turn into savings; the others cost the same as dense on it.
/// </summary>
public interface IPrunedAttentionEngine
{
    /// <summary>The `engine` column value.</summary>
    string Name { get; }

    /// <summary>One line: the hardware, and how each technique is (or is not) exploited.</summary>
    string Exploits { get; }

    /// <summary>Why this engine cannot price the benchmark (e.g. a mask it cannot express), or null.</summary>
    string? Unsupported(Benchmark benchmark);

    EngineCost Price(PrunedWorkload workload);
}

/// <summary>
/// A dense attention engine fed the shapes a pruned workload leaves: per layer pass, the alive queries (all alive
/// tokens in summarisation, one in generation), the alive keys and the alive heads. Each distinct shape is priced
/// once and weighted by how many passes have it (cached across workloads: the four GPT-2 datasets share shapes).
/// Local value pruning and sub-8-bit (progressive) quantisation need SpAtten's top-k engine and bit-plane fetcher, so
/// a dense engine only sees the token and head reductions and, where its datapath has one, an 8-bit data type.
/// </summary>
public abstract class DenseShapeEngine : IPrunedAttentionEngine
{
    /// <summary>One layer pass as a dense attention call.</summary>
    protected readonly record struct Shape(int Queries, int Keys, int Heads, int HeadDim, bool EightBit);

    private readonly ConcurrentDictionary<Shape, EngineCost> _cache = new();

    public abstract string Name { get; }
    public abstract string Exploits { get; }

    /// <summary>Whether the engine has an 8-bit path that quantised K/V can use.</summary>
    protected abstract bool HasEightBitPath { get; }

    protected abstract EngineCost PriceShape(Shape shape);

    public string? Unsupported(Benchmark benchmark) =>
        benchmark.Pruning.Sparsity.IsNone ? null
            : $"{Name} is priced on dense per-pass shapes; structured sparsity (causal/window/block/streaming masks) is not mapped onto it";

    public EngineCost Price(PrunedWorkload workload)
    {
        // Quantisation reaches a dense engine only as an 8-bit data type (no MSB/LSB planes, no re-fetch).
        var eightBit = HasEightBitPath && workload.Techniques.Quant && workload.Passes.Any(p => p.KeyBits <= 8);
        var counts = new Dictionary<Shape, int>();
        foreach (var p in workload.Passes)
        {
            if (p.Queries == 0 || p.AliveHeads == 0 || p.AliveTokens == 0) continue;
            var s = new Shape(p.Queries, p.AliveTokens, p.AliveHeads, workload.HeadDim, eightBit);
            counts[s] = counts.GetValueOrDefault(s) + 1;
        }
        double latency = 0, energy = 0, dram = 0;
        // Ordered so the floating-point sums do not depend on dictionary order.
        foreach (var (shape, n) in counts.OrderBy(kv => kv.Key.Queries).ThenBy(kv => kv.Key.Keys).ThenBy(kv => kv.Key.Heads))
        {
            var c = _cache.GetOrAdd(shape, PriceShape);
            latency += n * c.LatencySeconds;
            energy += n * c.EnergyPj;
            dram += n * c.DramBytes;
        }
        return new EngineCost(latency, energy, dram);
    }
}

/// <summary>
/// The FuseMax array (arch/fusemax/fusemax.yaml: 256x256 2D + 256 1D PEs, BF16 words, the 1-pass cascade on a
/// pre-scaled query, workloads/attention/attention-1pass-prescaled.yaml), priced by the cascade model the way
/// FuseMaxStudy prices a point: batch 1, heads = alive heads, seq_len = alive queries, kv_len = alive keys.
/// The key tile is balanced, ceil(keys / ceil(keys / 256)) &lt;= 256 rows, so a pruned key count is not padded up to a
/// multiple of 256 (the study's lengths are all multiples of 256; padding would charge DRAM for absent keys).
/// </summary>
public sealed class FuseMaxPrunedEngine : DenseShapeEngine
{
    /// <summary>Rows of FuseMax's 2D array: the largest key tile (the workload's default `tile: 256`).</summary>
    public const int ArrayRows = 256;

    private readonly CascadeEvaluator _evaluator;
    private readonly WorkloadSpec _workload;

    /// <param name="workloadFile">The dense cascade each pass runs as (default: the architecture's own, the 1-pass
    /// cascade on a pre-scaled query); it must declare batch, heads, seq_len, kv_len, head_dim and tile.</param>
    public FuseMaxPrunedEngine(string archPath, string name = "fusemax", string? workloadFile = null)
    {
        Name = name;
        _evaluator = Engines.CascadeEngine.Evaluator(archPath);
        _workload = Engines.CascadeEngine.Spec(workloadFile ?? FuseMax.FuseMaxStudy.StudyWorkload(archPath));
    }

    public override string Name { get; }

    public override string Exploits =>
        "FuseMax 1-pass cascade (BF16): token and head pruning shrink its shapes; local V pruning does not apply (the " +
        "1-pass cascade folds prob.V into the pass over the keys, before any per-query top-k is known); quantisation is " +
        "not exploited (16-bit words in its datapath and buffers)";

    protected override bool HasEightBitPath => false;

    /// <summary>The balanced key tile for <paramref name="keys"/> keys.</summary>
    public static int KeyTile(int keys)
    {
        var tiles = (keys + ArrayRows - 1) / ArrayRows;
        return (keys + tiles - 1) / tiles;
    }

    protected override EngineCost PriceShape(Shape s)
    {
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["batch"] = "1",
            ["heads"] = Invariant.Num(s.Heads),
            ["seq_len"] = Invariant.Num(s.Queries),
            ["kv_len"] = Invariant.Num(s.Keys),
            ["head_dim"] = Invariant.Num(s.HeadDim),
            ["tile"] = Invariant.Num(KeyTile(s.Keys)),
        };
        var cascade = Engines.CascadeEngine.Bind(_workload, overrides, null);
        var a = Engines.CascadeEngine.Price(_evaluator, cascade).Attention;
        return new EngineCost(a.LatencySeconds, a.EnergyPJ, a.TrafficBytes);
    }
}

/// <summary>
/// A GPU attention kernel (arch/gpu/*.yaml + a kernel family, e.g. H100 + FlashAttention-3), one forward call per
/// layer pass: batch 1, heads = alive heads, query_len = alive queries (1 per generation step), kv_len = alive keys.
/// Quantisation maps to FP8 Q/K/V when the kernel and GPU have it (an 8-bit tensor-core type is the narrowest a
/// GPU kernel can consume; SpAtten's 6-bit MSB planes with 4-bit LSB re-fetch have no GPU equivalent, and the
/// accuracy of FP8 against SpAtten's 10-bit full precision is not modelled); otherwise BF16. Energy is the GPU
/// model's power-based estimate (latency x power), converted to pJ.
/// </summary>
public sealed class GpuPrunedEngine : DenseShapeEngine
{
    private readonly GpuSpec _gpu;
    private readonly KernelFamily _kernel;

    public GpuPrunedEngine(string specPath, string kernel, string? name = null)
    {
        _gpu = GpuSpecLoader.LoadFile(specPath);
        _kernel = KernelCatalogLoader.LoadFile(_gpu.KernelsFile).Get(kernel);
        Name = name ?? $"{Path.GetFileNameWithoutExtension(specPath)}-{kernel}";
    }

    public override string Name { get; }

    protected override bool HasEightBitPath => _kernel.DataTypes.Contains(DataType.Fp8) && _gpu.Supports(DataType.Fp8);

    public override string Exploits =>
        $"{_gpu.Name} + {_kernel.Display}: token and head pruning shrink the kernel calls; local V pruning does not apply " +
        "(dense kernel); quantisation " + (HasEightBitPath
            ? "runs as FP8 Q/K/V, the narrowest type it has (no sub-8-bit fetch, no LSB re-fetch)"
            : "is not exploited (no FP8 variant of this kernel: BF16)") +
        "; energy = power-based estimate";

    protected override EngineCost PriceShape(Shape s)
    {
        var shape = new AttentionShape(1, s.Heads, s.Heads, s.Queries, s.Keys, s.HeadDim, s.HeadDim, false, null,
            s.EightBit ? DataType.Fp8 : DataType.Bf16, Direction.Forward);
        var r = GpuEvaluator.Evaluate(_gpu, shape, _kernel);
        return new EngineCost(r.LatencySeconds, r.EnergyJoules * 1e12, r.TrafficBytes.GetValueOrDefault(GpuResources.Hbm));
    }
}

/// <summary>One benchmark x technique on one engine.</summary>
public sealed record EngineRow(Benchmark Benchmark, string Technique, string Engine, EngineCost Cost)
{
    public string BenchmarkName => Benchmark.Name;
    public string Model => Benchmark.Model.Name;
}

/// <summary>The SpAtten study's pruned workloads priced on several engines (SpAtten first).</summary>
public sealed record CrossEngineResult(ImmutableArray<EngineRow> Rows, ImmutableArray<(string Name, string Exploits)> Engines,
    ImmutableArray<string> Skipped)
{
    private readonly Dictionary<(string, string, string), EngineRow> _index =
        Rows.ToDictionary(r => (r.BenchmarkName, r.Technique, r.Engine));

    public EngineRow Row(string benchmark, string technique, string engine) =>
        _index.TryGetValue((benchmark, technique, engine), out var r) ? r
            : throw new InvalidOperationException($"no row for {benchmark} / {technique} / {engine}");

    public double Speedup(string benchmark, string technique, string engine) =>
        Row(benchmark, "dense", engine).Cost.LatencySeconds / Row(benchmark, technique, engine).Cost.LatencySeconds;

    public double DramReduction(string benchmark, string technique, string engine) =>
        Row(benchmark, "dense", engine).Cost.DramBytes / Row(benchmark, technique, engine).Cost.DramBytes;

    public double EnergySaving(string benchmark, string technique, string engine) =>
        Row(benchmark, "dense", engine).Cost.EnergyPj / Row(benchmark, technique, engine).Cost.EnergyPj;

    /// <summary>
    /// Arithmetic mean of <paramref name="metric"/> over the benchmarks that pass <paramref name="filter"/> and have a
    /// row for <paramref name="technique"/>; NaN when none has.
    /// </summary>
    public double Mean(Func<string, string, string, double> metric, string technique, string engine, Func<Benchmark, bool> filter) =>
        Rows.Where(r => r.Engine == engine && r.Technique == "dense" && filter(r.Benchmark) &&
                        _index.ContainsKey((r.BenchmarkName, technique, engine)))
            .Select(r => metric(r.BenchmarkName, technique, engine)).DefaultIfEmpty(double.NaN).Average();
}

/// <summary>
/// Issue 7 item 3: the same pruning on the FuseMax array and on the GPU models. Every (benchmark, technique) workload
/// of a SpAtten study is priced on each engine; reductions are against that engine's own dense run (the SpAtten rows
/// are the study's own numbers, so they equal spatten.csv).
/// </summary>
public static class SpattenCrossEngine
{
    public const string CsvHeader = "benchmark,model,technique,engine,latency_s,energy_pJ,dram_bytes";

    /// <summary>The default engines: FuseMax, and H100 with FlashAttention-2 (BF16 only) and FlashAttention-3 (FP8).</summary>
    public static IReadOnlyList<IPrunedAttentionEngine> DefaultEngines(string root) =>
    [
        new FuseMaxPrunedEngine(Path.Combine(root, "arch", "fusemax", "fusemax.yaml")),
        new GpuPrunedEngine(Path.Combine(root, "arch", "gpu", "h100.yaml"), "fa2"),
        new GpuPrunedEngine(Path.Combine(root, "arch", "gpu", "h100.yaml"), "fa3"),
    ];

    public const string SpattenEngineName = "spatten";

    public static CrossEngineResult Run(SpattenStudyResult study, IReadOnlyList<IPrunedAttentionEngine> engines)
    {
        var skipped = new List<string>();
        var jobs = new List<(SpattenRow Row, IPrunedAttentionEngine Engine)>();
        foreach (var e in engines)
            foreach (var b in study.Rows.Select(r => r.Benchmark).DistinctBy(b => b.Name))
            {
                if (e.Unsupported(b) is { } why) { skipped.Add($"{b.Name} on {e.Name}: {why}"); continue; }
                jobs.AddRange(study.Rows.Where(r => r.BenchmarkName == b.Name).Select(r => (r, e)));
            }
        var priced = new EngineCost[jobs.Count];
        Parallel.For(0, jobs.Count, i => priced[i] = jobs[i].Engine.Price(jobs[i].Row.Workload));

        var byKey = jobs.Select((j, i) => (j, i)).ToDictionary(x => (x.j.Row.BenchmarkName, x.j.Row.Technique, x.j.Engine.Name), x => priced[x.i]);
        var rows = ImmutableArray.CreateBuilder<EngineRow>();
        foreach (var r in study.Rows)
        {
            rows.Add(new EngineRow(r.Benchmark, r.Technique, SpattenEngineName,
                new EngineCost(r.Result.LatencySeconds, r.Result.EnergyPj, r.Result.DramBytes)));
            foreach (var e in engines)
                if (byKey.TryGetValue((r.BenchmarkName, r.Technique, e.Name), out var c))
                    rows.Add(new EngineRow(r.Benchmark, r.Technique, e.Name, c));
        }
        var info = engines.Select(e => (e.Name, e.Exploits))
            .Prepend((SpattenEngineName, $"SpAtten engine ({study.Arch.Name}): exploits every technique (cascade token/head pruning, " +
                                         "local V pruning, progressive quantisation with LSB re-fetch)"));
        return new CrossEngineResult(rows.ToImmutable(), [.. info], [.. skipped]);
    }

    /// <summary>DIR/spatten-engines.csv: exactly `benchmark,model,technique,engine,latency_s,energy_pJ,dram_bytes`.</summary>
    public static string Csv(CrossEngineResult result)
    {
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in result.Rows)
            sb.Append(r.BenchmarkName).Append(',').Append(r.Model).Append(',').Append(r.Technique).Append(',').Append(r.Engine).Append(',')
              .Append(Invariant.Num(r.Cost.LatencySeconds)).Append(',')
              .Append(Invariant.Num(r.Cost.EnergyPj)).Append(',')
              .Append(Invariant.Num(Math.Round(r.Cost.DramBytes))).Append('\n');
        return sb.ToString();
    }

    public static readonly ImmutableArray<(string Label, Func<Benchmark, bool> Filter)> Groups =
    [
        ("BERT", b => b.Task is SummarizationTask),
        ("GPT-2", b => b.Task is GenerationTask),
    ];

    private static readonly string[] Techniques = ["token", "head", "value", "quant", "all"];

    /// <summary>What pruning buys on each engine: mean latency speedup, DRAM reduction and energy saving over its own dense.</summary>
    public static string Summary(CrossEngineResult result)
    {
        var w = new StringWriter(Invariant.Culture);
        w.WriteLine("The same pruned workloads on other engines (each against its own dense run; arithmetic means per group):");
        foreach (var (name, exploits) in result.Engines) w.WriteLine($"  {name,-10} {exploits}");
        var metrics = new (string Title, Func<string, string, string, double> Metric)[]
        {
            ("latency speedup", result.Speedup), ("DRAM reduction", result.DramReduction), ("energy saving", result.EnergySaving),
        };
        var groups = Groups.Where(g => result.Rows.Any(r => g.Filter(r.Benchmark))).ToList();
        foreach (var (title, metric) in metrics)
        {
            w.WriteLine($"  {title + " (x)",-26}" + string.Concat(Techniques.Select(t => $"{t,8}")));
            foreach (var (engine, _) in result.Engines)
                foreach (var (label, filter) in groups)
                {
                    if (!result.Rows.Any(r => r.Engine == engine && filter(r.Benchmark))) continue;
                    w.WriteLine($"    {engine + " " + label,-24}" +
                                string.Concat(Techniques.Select(t => result.Mean(metric, t, engine, filter) is var m && double.IsFinite(m)
                                    ? $"{m,8:0.00}" : $"{"-",8}")));
                }
        }
        foreach (var s in result.Skipped) w.WriteLine("  skipped: " + s);
        return w.ToString();
    }
}
