using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Experiments.Engines;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.FuseMax;

/// <summary>One priced point of the study: a model at a sequence length on one architecture.</summary>
public sealed record StudyPoint(string Model, long SeqLen, string Arch, CascadeReport Report);

/// <summary>The metrics a sweep records for one point (attention, and attention plus the layer's GEMMs).</summary>
public sealed record FuseMaxMetrics(
    double LatencySeconds,
    double EnergyPJ,
    double TrafficBytes,
    double Util2D,
    double Util1D,
    double EndToEndLatencySeconds,
    double EndToEndEnergyPJ,
    double EndToEndTrafficBytes,
    double EndToEndUtil2D,
    double EndToEndUtil1D,
    double QueryTile,
    double BufferRequiredBytes,
    bool MemoryBound)
{
    /// <summary>The metrics by name (snake case), as a sweep engine reports them.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["latency_s"] = LatencySeconds, ["energy_pJ"] = EnergyPJ, ["traffic_bytes"] = TrafficBytes,
        ["util_2d"] = Util2D, ["util_1d"] = Util1D,
        ["e2e_latency_s"] = EndToEndLatencySeconds, ["e2e_energy_pJ"] = EndToEndEnergyPJ,
        ["e2e_traffic_bytes"] = EndToEndTrafficBytes, ["e2e_util_2d"] = EndToEndUtil2D, ["e2e_util_1d"] = EndToEndUtil1D,
        ["query_tile"] = QueryTile, ["buffer_required_bytes"] = BufferRequiredBytes, ["memory_bound"] = MemoryBound ? 1 : 0,
    };

    public static FuseMaxMetrics From(CascadeReport r)
    {
        var a = r.Attention;
        var tile = a.Groups.SelectMany(g => g.Tiles.Values).DefaultIfEmpty(double.NaN).Max();
        var buffer = a.BufferNeed.RequiredBytes;
        return new FuseMaxMetrics(a.LatencySeconds, a.EnergyPJ, a.TrafficBytes, a.Utilization("2d"), a.Utilization("1d"),
            r.EndToEndLatencySeconds, r.EndToEndEnergyPJ, r.EndToEndTrafficBytes, r.EndToEndUtilization("2d"), r.EndToEndUtilization("1d"),
            tile, buffer, a.MemoryBound);
    }
}

/// <summary>
/// The FuseMax study (Nayak et al., MICRO 2024, sec. VI) reproduced from AccelSim's cascade model: four transformer
/// models at six sequence lengths (batch 64) on five architectures (arch/fusemax/*.yaml), attention alone and with the
/// layer's GEMMs. Everything is priced by <see cref="CascadeEvaluator"/>; nothing comes from the published tables.
/// </summary>
public static class FuseMaxStudy
{
    /// <summary>Architectures in the study's order (the CSV `arch` column uses these names).</summary>
    public static readonly ImmutableArray<string> Architectures = ["unfused", "flat", "cascade", "stall", "fusemax"];

    /// <summary>Models (name, shape file under workloads/models) in the study's order.</summary>
    public static readonly ImmutableArray<(string Name, string File)> Models =
        [("BERT", "bert-base.yaml"), ("TrXL", "trxl.yaml"), ("T5", "t5.yaml"), ("XLM", "xlm.yaml")];

    /// <summary>Sequence lengths (tokens): 1K, 4K, 16K, 64K, 256K, 1M.</summary>
    public static readonly ImmutableArray<long> SequenceLengths = [1024, 4096, 16384, 65536, 262144, 1048576];

    /// <summary>The paper's headline averages (abstract): attention 6.7x over FLAT at 79% of its energy; end to end 5.3x at 83%.</summary>
    public const double PaperAttentionSpeedup = 6.7, PaperAttentionEnergyShare = 0.79, PaperEndToEndSpeedup = 5.3, PaperEndToEndEnergyShare = 0.83;

    /// <summary>Forgets the cached evaluators (benchmarks measure cold runs with it).</summary>
    public static void ClearCache() => CascadeEngine.ClearCache();

    public static string ArchPath(string root, string arch) => Path.Combine(root, "arch", "fusemax", arch + ".yaml");

    public static string ModelPath(string root, string file) => Path.Combine(root, "workloads", "models", file);

    /// <summary>A cached evaluator for an architecture file and hardware overrides.</summary>
    public static CascadeEvaluator Evaluator(string archPath, IReadOnlyList<string>? hardwareOverrides = null) =>
        CascadeEngine.Evaluator(archPath, hardwareOverrides);

    /// <summary>
    /// The cascade the study prices on <paramref name="archPath"/>: the architecture's documented default
    /// (`attention.workload:`, the 1-pass cascade on FuseMax's hardware, the 3-pass one on FLAT and unfused).
    /// </summary>
    public static string StudyWorkload(string archPath, IReadOnlyList<string>? hardwareOverrides = null) =>
        Evaluator(archPath, hardwareOverrides).Architecture.Attention.WorkloadPath;

    /// <summary>
    /// Prices one point: an architecture file, a model shape file and a sequence length, with optional hardware
    /// overrides (`L3.capacity_words=4194304`, `PE2D.mesh=128`) and workload parameter overrides, through the cascade
    /// engine's pipeline (<see cref="CascadeEngine"/>: bind the workload, apply the architecture's cascade mapping,
    /// price). <paramref name="workloadFile"/> is the cascade (default <see cref="StudyWorkload"/>). Evaluators are
    /// cached per (file, overrides), so repeated points only bind the workload and run the model.
    /// </summary>
    public static CascadeReport EvaluatePoint(string archPath, string modelFile, long seqLen,
        IReadOnlyList<string>? hardwareOverrides = null, IReadOnlyDictionary<string, string>? workloadOverrides = null, bool attentionOnly = false,
        string? workloadFile = null)
    {
        var overrides = new Dictionary<string, string>(workloadOverrides ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["seq_len"] = Invariant.Num(seqLen),
        };
        var evaluator = Evaluator(archPath, hardwareOverrides);
        var model = CascadeEngine.ModelParams(modelFile);
        // The overrides reach both sections; each binds the ones its workload declares.
        var cascade = CascadeEngine.Bind(CascadeEngine.Spec(workloadFile ?? evaluator.Architecture.Attention.WorkloadPath), overrides, model,
            onlyDeclared: true);
        return CascadeEngine.Price(evaluator, cascade, attentionOnly ? null : new EndToEndInput(model, overrides));
    }

    /// <summary><see cref="EvaluatePoint"/> reduced to the sweep metrics.</summary>
    public static FuseMaxMetrics EvaluateMetrics(string archPath, string modelFile, long seqLen,
        IReadOnlyList<string>? hardwareOverrides = null, IReadOnlyDictionary<string, string>? workloadOverrides = null) =>
        FuseMaxMetrics.From(EvaluatePoint(archPath, modelFile, seqLen, hardwareOverrides, workloadOverrides));

    /// <summary>Every (model, length, architecture) point of the study, in CSV order.</summary>
    public static IReadOnlyList<StudyPoint> Run(string root, IReadOnlyList<string>? archs = null,
        IReadOnlyList<(string Name, string File)>? models = null, IReadOnlyList<long>? lengths = null)
    {
        var result = new List<StudyPoint>();
        foreach (var arch in archs ?? Architectures)
        {
            var path = ArchPath(root, arch);
            var workload = StudyWorkload(path);
            foreach (var (model, file) in models ?? Models)
                foreach (var n in lengths ?? SequenceLengths)
                    result.Add(new StudyPoint(model, n, arch, EvaluatePoint(path, ModelPath(root, file), n, workloadFile: workload)));
        }
        return result;
    }

    /// <summary>Mean over the (model, length) points of FLAT / FuseMax latency and energy (the paper's averages).</summary>
    public static (double AttentionSpeedup, double AttentionEnergyShare, double EndToEndSpeedup, double EndToEndEnergyShare,
        double AttentionEnergyRatio, double EndToEndEnergyRatio) Headline(IReadOnlyList<StudyPoint> points, string baseline = "flat", string design = "fusemax")
    {
        var b = points.Where(p => p.Arch == baseline).ToDictionary(p => (p.Model, p.SeqLen));
        var d = points.Where(p => p.Arch == design).ToList();
        double s = 0, e = 0, s2 = 0, e2 = 0;
        int n = 0;
        foreach (var p in d)
        {
            if (!b.TryGetValue((p.Model, p.SeqLen), out var q)) continue;
            s += q.Report.Attention.LatencySeconds / p.Report.Attention.LatencySeconds;
            e += q.Report.Attention.EnergyPJ / p.Report.Attention.EnergyPJ;
            s2 += q.Report.EndToEndLatencySeconds / p.Report.EndToEndLatencySeconds;
            e2 += q.Report.EndToEndEnergyPJ / p.Report.EndToEndEnergyPJ;
            n++;
        }
        if (n == 0) return (double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        // The paper reports the mean energy ratio FLAT/FuseMax (1.27 for attention) as "79% of the energy": its inverse.
        return (s / n, n / e, s2 / n, n / e2, e / n, e2 / n);
    }
}
