using System.Diagnostics;
using System.Text;
using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.FuseMax;

/// <summary>What `accelsim reproduce fusemax` produced.</summary>
public sealed record FuseMaxReproductionReport(IReadOnlyList<StudyPoint> Points, IReadOnlyList<string> Files, string Summary, double Seconds);

/// <summary>
/// `accelsim reproduce fusemax`: runs <see cref="FuseMaxStudy"/> over every model, length and architecture and writes
/// attention.csv, end2end.csv, buffers.csv, einsums.csv, pareto.csv, summary.txt and the figures; prints the headline
/// averages and, when the study's published tables are at hand, the error of every metric against them.
/// </summary>
public static class FuseMaxReproduction
{
    public sealed record Options(string Root, string OutDir, string? ReferenceDir, bool Plots = true);

    public static Options DefaultOptions(string? outDir, string? referenceDir = null)
    {
        var root = FindRoot();
        if (referenceDir is not null && !File.Exists(Path.Combine(referenceDir, "attn-binding.csv")))
            throw new InputException(SourceLocation.FileOnly(referenceDir), "--reference", "no attn-binding.csv there (expected the study's attn-*.csv and end2end-*.csv)");
        var reference = referenceDir ?? Path.Combine(root, "tests", "AccelSim.Tests", "FuseMax", "Reference");
        return new Options(root, outDir ?? DefaultOutDir(root), Directory.Exists(reference) ? reference : null);
    }

    /// <summary>
    /// runs/fusemax in the checkout: git ignores it, so a default run never touches the committed reference results in
    /// results/fusemax (regenerate those only with an explicit `--out results/fusemax`).
    /// </summary>
    public static string DefaultOutDir(string root) => Path.Combine(root, "runs", "fusemax");

    /// <summary>The AccelSim checkout (the directory holding AccelSim.sln), from the working directory or the binary.</summary>
    public static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "AccelSim.sln")) && Directory.Exists(Path.Combine(dir.FullName, "arch", "fusemax")))
                    return dir.FullName;
        throw new InputException("cannot find the AccelSim checkout (AccelSim.sln with arch/fusemax/) above the working directory");
    }

    public static FuseMaxReproductionReport Run(Options options, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var points = FuseMaxStudy.Run(options.Root);
        var pareto = FuseMaxPareto.Run(options.Root);
        var seconds = clock.Elapsed.TotalSeconds;
        var output = new StudyOutput(options.OutDir);
        output.Write("attention.csv", AttentionCsv(points));
        output.Write("end2end.csv", EndToEndCsv(points));
        output.Write("buffers.csv", BuffersCsv(points));
        output.Write("einsums.csv", EinsumsCsv(points));
        output.Write("energy.csv", EnergyCsv(points));
        output.Write("actions.csv", ActionsCsv(points));
        output.Write("pareto.csv", FuseMaxPareto.Csv(pareto));
        var reference = options.ReferenceDir is { } dir ? FuseMaxReference.Load(dir) : null;
        var summary = Summary(points, reference, pareto, seconds);
        output.Write("summary.txt", summary);
        if (options.Plots) output.Files.AddRange(FuseMaxPlots.Write(points, pareto, reference, options.OutDir));
        output.Files.Add(FuseMaxReport.Write(options.OutDir, summary, output.Files));
        log.Write(summary);
        foreach (var f in output.Files) log.WriteLine("wrote " + f);
        return new FuseMaxReproductionReport(points, output.Files, summary, seconds);
    }

    private static string F(double v) => Invariant.Num(v);

    /// <summary>Einsum names with an array time, in first-seen order over all architectures.</summary>
    private static List<string> EinsumColumns(IEnumerable<SectionResult> sections)
    {
        var names = new List<string>();
        foreach (var s in sections)
            foreach (var e in s.Einsums)
                if (!names.Contains(e.Einsum)) names.Add(e.Einsum);
        return names;
    }

    public static string AttentionCsv(IReadOnlyList<StudyPoint> points)
    {
        var einsums = EinsumColumns(points.Select(p => p.Report.Attention));
        var sb = new StringBuilder();
        sb.Append("model,seq_len,arch,latency_s,energy_pJ,traffic_bytes,util_2d,util_1d");
        foreach (var e in einsums) sb.Append(",util_").Append(e);
        sb.AppendLine(",query_tile,buffer_required_bytes,memory_bound");
        foreach (var p in points)
        {
            var a = p.Report.Attention;
            sb.Append($"{p.Model},{p.SeqLen},{p.Arch},{F(a.LatencySeconds)},{F(a.EnergyPJ)},{F(a.TrafficBytes)},{F(a.Utilization("2d"))},{F(a.Utilization("1d"))}");
            foreach (var e in einsums)
                sb.Append(',').Append(a.Einsum(e) is { } c ? F(c.BusySeconds / a.LatencySeconds) : "");
            var tile = a.Groups.SelectMany(g => g.Tiles.Values).DefaultIfEmpty(double.NaN).Max();
            sb.AppendLine($",{(double.IsNaN(tile) ? "" : F(tile))},{F(a.BufferNeed.RequiredBytes)},{(a.MemoryBound ? 1 : 0)}");
        }
        return sb.ToString();
    }

    public static string EndToEndCsv(IReadOnlyList<StudyPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine("model,seq_len,arch,latency_s,energy_pJ,traffic_bytes,util_2d,util_1d,gemm_latency_s,gemm_energy_pJ,gemm_traffic_bytes");
        foreach (var p in points)
        {
            var r = p.Report;
            var g = r.EndToEnd;
            sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{F(r.EndToEndLatencySeconds)},{F(r.EndToEndEnergyPJ)},{F(r.EndToEndTrafficBytes)}," +
                          $"{F(r.EndToEndUtilization("2d"))},{F(r.EndToEndUtilization("1d"))},{F(g?.LatencySeconds ?? 0)},{F(g?.EnergyPJ ?? 0)},{F(g?.TrafficBytes ?? 0)}");
        }
        return sb.ToString();
    }

    /// <summary>Buffer requirement per level and fusion group: what each schedule needs against what the hardware has.</summary>
    public static string BuffersCsv(IReadOnlyList<StudyPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine("model,seq_len,arch,section,level,capacity_words,required_words,required_bytes,fits");
        foreach (var p in points)
            foreach (var s in new[] { p.Report.Attention, p.Report.EndToEnd })
            {
                if (s is null) continue;
                foreach (var b in s.Buffers)
                    sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{s.Section},{b.Level},{(b.CapacityWords is { } c ? Invariant.Num(c) : "")}," +
                                  $"{Invariant.Num(b.RequiredWords)},{F(b.RequiredBytes)},{(b.CapacityWords is not { } cap || b.RequiredWords <= cap ? 1 : 0)}");
            }
        return sb.ToString();
    }

    /// <summary>Per-Einsum detail: array, time, utilisation, traffic and energy split, group and tile.</summary>
    public static string EinsumsCsv(IReadOnlyList<StudyPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine("model,seq_len,arch,section,einsum,array,group,seconds,spatial_utilization,busy_fraction,dram_bytes,compute_pJ,onchip_pJ,dram_pJ");
        foreach (var p in points)
            foreach (var s in new[] { p.Report.Attention, p.Report.EndToEnd })
            {
                if (s is null) continue;
                foreach (var e in s.Einsums)
                    sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{s.Section},{e.Einsum},{e.Array},{e.Group},{F(e.Seconds)},{F(e.SpatialUtilization)}," +
                                  $"{F(e.BusySeconds / s.LatencySeconds)},{F(e.DramBytes)},{F(e.ComputeEnergyPJ)},{F(e.OnChipEnergyPJ)},{F(e.DramEnergyPJ)}");
            }
        return sb.ToString();
    }

    /// <summary>
    /// Action counts per Einsum and storage level (all instances, in words: reads, and fills + updates as writes) with
    /// their energy, and each Einsum's operations by kind: the model's equivalent of Accelergy's action-count file.
    /// </summary>
    public static string ActionsCsv(IReadOnlyList<StudyPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine("model,seq_len,arch,section,einsum,component,reads,writes,energy_pJ");
        foreach (var p in points)
            foreach (var s in new[] { p.Report.Attention, p.Report.EndToEnd })
            {
                if (s is null) continue;
                foreach (var e in s.Einsums)
                {
                    sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{s.Section},{e.Einsum},DRAM,{F(e.DramReadBytes)},{F(e.DramWriteBytes)},{F(e.DramEnergyPJ)}");
                    foreach (var l in e.Levels)
                        sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{s.Section},{e.Einsum},{l.Level},{F(l.Reads)},{F(l.Writes)},{F(l.EnergyPJ)}");
                    sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{s.Section},{e.Einsum},{e.Compute},{F(e.Operations)},0,{F(e.ComputeEnergyPJ)}");
                }
            }
        return sb.ToString();
    }

    /// <summary>Energy by component (each array's compute, each storage level, DRAM) per point and section.</summary>
    public static string EnergyCsv(IReadOnlyList<StudyPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine("model,seq_len,arch,section,component,energy_pJ,share");
        foreach (var p in points)
            foreach (var s in new[] { p.Report.Attention, p.Report.EndToEnd })
            {
                if (s is null) continue;
                foreach (var e in s.Energy)
                    sb.AppendLine($"{p.Model},{p.SeqLen},{p.Arch},{s.Section},{e.Component},{F(e.PicoJoules)},{F(e.PicoJoules / s.EnergyPJ)}");
            }
        return sb.ToString();
    }

    public static string Summary(IReadOnlyList<StudyPoint> points, FuseMaxReference? reference, IReadOnlyList<ParetoPoint> pareto, double seconds)
    {
        var w = new StringWriter(Invariant.Culture);
        var h = FuseMaxStudy.Headline(points);
        var u = FuseMaxStudy.Headline(points, "unfused");
        w.WriteLine($"FuseMax study reproduced with AccelSim's cascade model: {points.Count} points " +
                    $"({FuseMaxStudy.Models.Length} models x {FuseMaxStudy.SequenceLengths.Length} lengths x {FuseMaxStudy.Architectures.Length} architectures), " +
                    $"{Invariant.Sig(seconds, 3)} s.");
        w.WriteLine();
        w.WriteLine("Headline averages (arithmetic means over the models and lengths; paper in brackets):");
        w.WriteLine($"  attention:   FuseMax {Invariant.Sig(h.AttentionSpeedup, 3)}x faster than FLAT [6.7x], " +
                    $"{Invariant.Sig(100 * h.AttentionEnergyShare, 3)}% of FLAT's energy [79%] (FLAT/FuseMax energy {Invariant.Sig(h.AttentionEnergyRatio, 3)})");
        w.WriteLine($"  end to end:  FuseMax {Invariant.Sig(h.EndToEndSpeedup, 3)}x faster than FLAT [5.3x], " +
                    $"{Invariant.Sig(100 * h.EndToEndEnergyShare, 3)}% of FLAT's energy [83%] (FLAT/FuseMax energy {Invariant.Sig(h.EndToEndEnergyRatio, 3)})");
        w.WriteLine($"  attention vs unfused: {Invariant.Sig(u.AttentionSpeedup, 3)}x faster [10.05x], energy ratio {Invariant.Sig(u.AttentionEnergyRatio, 3)} [1.31]");
        foreach (var arch in new[] { "cascade", "stall" })
        {
            var x = FuseMaxStudy.Headline(points, "flat", arch);
            w.WriteLine($"  ablation {arch,-8} vs FLAT: {Invariant.Sig(x.AttentionSpeedup, 3)}x");
        }
        w.WriteLine();
        w.WriteLine("Mean utilisation (2D / 1D):");
        foreach (var arch in FuseMaxStudy.Architectures)
        {
            var rows = points.Where(p => p.Arch == arch).ToList();
            w.WriteLine($"  {arch,-8} {Invariant.Sig(rows.Average(p => p.Report.Attention.Utilization("2d")), 3)} / " +
                        $"{Invariant.Sig(rows.Average(p => p.Report.Attention.Utilization("1d")), 3)}");
        }
        if (reference is not null)
        {
            w.WriteLine();
            w.WriteLine("Error against the study's published tables (relative, |model/reference - 1|; max and mean over the rows):");
            w.Write(FuseMaxReference.ErrorTable(points, reference));
            w.WriteLine();
            w.WriteLine("Attention energy, model/study (min-max over the rows), and study minus model per softmax element (B*H*M*P):");
            foreach (var arch in FuseMaxStudy.Architectures)
            {
                var rows = points.Where(p => p.Arch == arch).Select(p => (P: p, R: reference.Find(p.Model, p.SeqLen, arch)))
                    .Where(x => x.R is not null).ToList();
                if (rows.Count == 0) continue;
                var ratios = rows.Select(x => x.P.Report.Attention.EnergyPJ / x.R!.EnergyPJ).ToList();
                // The row maximum (MX, or LM in the 1-pass cascade) does one operation per softmax element.
                var excess = rows.Select(x => (x.R!.EnergyPJ - x.P.Report.Attention.EnergyPJ) /
                    (x.P.Report.Attention.Einsum("MX") ?? x.P.Report.Attention.Einsum("LM"))!.Operations).ToList();
                w.WriteLine($"  {arch,-8} {Invariant.Sig(ratios.Min(), 4)}-{Invariant.Sig(ratios.Max(), 4)}   " +
                            $"{Invariant.Sig(excess.Min(), 3)} to {Invariant.Sig(excess.Max(), 3)} pJ per element");
            }
            w.WriteLine("  (+Cascade: the study drops its exponentials, which the model counts;");
            w.WriteLine("   see arch/fusemax/README.md, \"Energy on FLAT's hardware\".)");
        }
        if (pareto.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Area-latency Pareto (FuseMax, 256K tokens; buffer sized until not memory bound):");
            foreach (var p in pareto)
            {
                var line = $"  {p.Model,-5} PE {p.PeDim,3}x{p.PeDim,-3} buffer {Invariant.Sig(p.BufferBytes / 1048576.0, 3),6} MiB  " +
                           $"latency {Invariant.Sig(p.LatencySeconds, 4)} s  traffic {Invariant.Sig(p.TrafficBytes, 4)} B  area {Invariant.Sig(p.AreaUm2 * 1e-8, 3)} cm^2";
                if (reference?.Pareto.FirstOrDefault(q => q.Model == p.Model && q.PeDim == p.PeDim) is { Model: not null } q)
                    line += $"  [study: {Invariant.Sig(q.LatencySeconds, 4)} s, {Invariant.Sig(q.TrafficBytes, 4)} B, {Invariant.Sig(q.AreaUm2 * 1e-8, 3)} cm^2]";
                w.WriteLine(line);
            }
        }
        return w.ToString();
    }
}
