using System.Collections.Immutable;
using System.Text;
using AccelSim.Core;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Traces;
using AccelSim.Pruning.Workload;

namespace AccelSim.Pruning.Study;

/// <summary>One benchmark under one technique set on the SpAtten engine.</summary>
public sealed record SpattenRow(Benchmark Benchmark, TechniqueSet Techniques, PrunedWorkload Workload, SpattenResult Result)
{
    public string BenchmarkName => Benchmark.Name;
    public string Model => Benchmark.Model.Name;
    public string Technique => Techniques.Label;
}

/// <summary>All rows of a SpAtten study, with the reductions relative to each benchmark's dense run.</summary>
public sealed record SpattenStudyResult(ImmutableArray<SpattenRow> Rows, SpattenArch Arch)
{
    public IEnumerable<string> Benchmarks => Rows.Select(r => r.BenchmarkName).Distinct();

    public SpattenRow Row(string benchmark, string technique) =>
        Rows.FirstOrDefault(r => r.BenchmarkName == benchmark && r.Technique == technique)
        ?? throw new InvalidOperationException($"no row for {benchmark} / {technique}");

    /// <summary>DRAM bytes of the dense run divided by those of <paramref name="technique"/> for one benchmark.</summary>
    public double DramReduction(string benchmark, string technique) =>
        Row(benchmark, "dense").Result.DramBytes / Row(benchmark, technique).Result.DramBytes;

    public double LatencySpeedup(string benchmark, string technique) =>
        Row(benchmark, "dense").Result.LatencySeconds / Row(benchmark, technique).Result.LatencySeconds;

    public double EnergySaving(string benchmark, string technique) =>
        Row(benchmark, "dense").Result.EnergyPj / Row(benchmark, technique).Result.EnergyPj;

    /// <summary>Arithmetic mean over benchmarks of the DRAM reduction of <paramref name="technique"/> (optionally filtered).</summary>
    public double AverageDramReduction(string technique = "all", Func<Benchmark, bool>? filter = null) =>
        SelectBenchmarks(filter).Average(b => DramReduction(b, technique));

    public double GeometricMeanDramReduction(string technique = "all", Func<Benchmark, bool>? filter = null) =>
        Math.Exp(SelectBenchmarks(filter).Average(b => Math.Log(DramReduction(b, technique))));

    private IEnumerable<string> SelectBenchmarks(Func<Benchmark, bool>? filter) =>
        Rows.Where(r => r.Technique == "dense" && (filter is null || filter(r.Benchmark))).Select(r => r.BenchmarkName);

    /// <summary>The selection modes the rows used ("ratios", "trace" or both).</summary>
    public string ModesUsed => string.Join(", ", Rows.Where(r => !r.Techniques.IsDense)
        .Select(r => r.Workload.Mode.ToString().ToLowerInvariant()).Distinct().DefaultIfEmpty("ratios"));
}

/// <summary>
/// The SpAtten reproduction study: every benchmark under dense, token, head, value, quant and all, on one engine.
/// Pure: loads nothing but the files it is given, writes nothing.
/// </summary>
public static class SpattenStudy
{
    public static ImmutableArray<Benchmark> LoadBenchmarks(IEnumerable<string> files)
    {
        var all = ImmutableArray.CreateBuilder<Benchmark>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var b in BenchmarkFileParser.ParseFile(file))
            {
                if (!names.Add(b.Name)) throw new InputException(SourceLocation.FileOnly(file), null, $"benchmark '{b.Name}' is defined twice");
                all.Add(b);
            }
        return all.ToImmutable();
    }

    public static SpattenStudyResult Run(IEnumerable<Benchmark> benchmarks, SpattenArch arch,
        IReadOnlyList<TechniqueSet>? techniques = null, TopKTiming timing = TopKTiming.Simulated)
    {
        techniques ??= TechniqueSet.ReproductionSet;
        if (!techniques.Any(t => t.IsDense)) techniques = [TechniqueSet.None, .. techniques];
        var engine = new SpattenEngine(arch, timing);
        var traces = new Dictionary<string, AttentionTrace>(StringComparer.Ordinal);
        var list = benchmarks.ToList();
        var rows = new SpattenRow[list.Count * techniques.Count];
        // Benchmarks are independent and the model is pure: evaluate them in parallel, keep the order deterministic.
        foreach (var b in list.Where(b => b.Pruning.Mode == SelectionMode.Trace))
            if (!traces.ContainsKey(b.Pruning.TracePath!)) traces[b.Pruning.TracePath!] = AttentionTrace.ReadFile(b.Pruning.TracePath!);
        Parallel.For(0, rows.Length, i =>
        {
            var b = list[i / techniques.Count];
            var t = techniques[i % techniques.Count];
            var trace = b.Pruning.Mode == SelectionMode.Trace ? traces[b.Pruning.TracePath!] : null;
            var w = PrunedWorkloadBuilder.Build(b, t, trace);
            rows[i] = new SpattenRow(b, t, w, engine.Evaluate(w));
        });
        return new SpattenStudyResult([.. rows], arch);
    }

    /// <summary>The reproduction CSV: exactly `benchmark,model,technique,dram_bytes,latency_s,energy_pJ`.</summary>
    public static string Csv(SpattenStudyResult result)
    {
        var sb = new StringBuilder("benchmark,model,technique,dram_bytes,latency_s,energy_pJ\n");
        foreach (var r in result.Rows)
            sb.Append(r.BenchmarkName).Append(',').Append(r.Model).Append(',').Append(r.Technique).Append(',')
              .Append(Invariant.Num(Math.Round(r.Result.DramBytes))).Append(',')
              .Append(Invariant.Num(r.Result.LatencySeconds)).Append(',')
              .Append(Invariant.Num(r.Result.EnergyPj)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Per-row details: selection mode, reductions, cycle and energy breakdowns, work counts.</summary>
    public static string DetailsCsv(SpattenStudyResult result)
    {
        var sb = new StringBuilder(
            "benchmark,model,task,technique,mode,dram_bytes,dram_reduction,latency_s,speedup,energy_pJ,energy_saving," +
            "cycles_fetch,cycles_qk,cycles_softmax,cycles_pv,cycles_local_v_topk,cycles_serial_topk,cycles_fill," +
            "energy_dram_pJ,energy_mac_pJ,energy_sram_pJ,energy_softmax_pJ,energy_topk_pJ,energy_selection_pJ," +
            "qk_macs,pv_macs,key_rows,value_rows,topk_calls\n");
        foreach (var r in result.Rows)
        {
            var res = r.Result;
            var c = res.CycleBreakdown;
            var e = res.Energy;
            var w = r.Workload;
            string[] fields =
            [
                r.BenchmarkName, r.Model, r.Benchmark.Task.Kind, r.Technique,
                r.Techniques.IsDense ? "dense" : w.Mode.ToString().ToLowerInvariant(),
                Invariant.Num(Math.Round(res.DramBytes)), Invariant.Sig(result.DramReduction(r.BenchmarkName, r.Technique), 6),
                Invariant.Num(res.LatencySeconds), Invariant.Sig(result.LatencySpeedup(r.BenchmarkName, r.Technique), 6),
                Invariant.Num(res.EnergyPj), Invariant.Sig(result.EnergySaving(r.BenchmarkName, r.Technique), 6),
                Invariant.Num(c.Fetch), Invariant.Num(c.QueryKey), Invariant.Num(c.Softmax), Invariant.Num(c.ProbValue),
                Invariant.Num(c.LocalValueTopK), Invariant.Num(c.SerialTopK), Invariant.Num(c.PipelineFill),
                Invariant.Num(e.Dram), Invariant.Num(e.Mac), Invariant.Num(e.Sram), Invariant.Num(e.Softmax),
                Invariant.Num(e.TopK), Invariant.Num(e.Selection),
                Invariant.Num(w.QkMacs), Invariant.Num(w.PvMacs), Invariant.Num(w.KeyRows), Invariant.Num(w.ValueRows),
                Invariant.Num(res.TopKCalls),
            ];
            sb.AppendJoin(',', fields).Append('\n');
        }
        return sb.ToString();
    }
}
