using System.Collections.Concurrent;
using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.Engines;
using AccelSim.Experiments.Sweeps;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.FuseMax;

/// <summary>
/// Engine `fusemax`: a study architecture (arch/fusemax/*.yaml, `cascade_architecture:`) prices the sweep's workload
/// by the cascade engine's pipeline (<see cref="CascadeEngine"/>): attention, and attention plus the layer's GEMMs.
/// The sweep's `workload:` is either
/// * an Einsum cascade (workloads/attention/*.yaml): that cascade is priced; the architecture's cascade mapping must
///   cover it (checked for every arch x workload before any point runs, a located error if not). Its parameters
///   come from `workload.params.*`, option `model` (a model shape file, relative to the sweep) or its own `model:`;
/// * a model shape (workloads/models/*.yaml): the architecture's documented default cascade (`attention.workload:`)
///   is priced with those parameters, as `reproduce fusemax` does.
/// The sequence length is `workload.params.seq_len` or the option `seq_len`; option `attention_only: true` skips the
/// GEMMs. Any architecture field can be swept through `arch.*` (e.g. `arch.cascade_architecture.set`).
/// </summary>
public sealed class FuseMaxPointEvaluator : IPointEvaluator
{
    // Per engine instance (one sweep run): architecture documents are parsed once per (file, overrides).
    private readonly ConcurrentDictionary<string, CascadeEvaluator> _evaluators = new(StringComparer.Ordinal);

    public string Engine => "fusemax";

    public string Description => "cascade model of attention (and the layer's GEMMs) on a 2D + 1D spatial-array study architecture (FuseMax, FLAT, ...)";

    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("latency_s", "s", MetricKind.Time, "attention latency"),
        new("energy_pJ", "pJ", MetricKind.Energy, "attention energy"),
        new("traffic_bytes", "B", MetricKind.Traffic, "attention DRAM traffic"),
        new("util_2d", "fraction", MetricKind.Utilization, "2D array busy fraction during attention"),
        new("util_1d", "fraction", MetricKind.Utilization, "1D array busy fraction during attention"),
        new("e2e_latency_s", "s", MetricKind.Time, "attention + the layer's GEMMs"),
        new("e2e_energy_pJ", "pJ", MetricKind.Energy, "attention + the layer's GEMMs"),
        new("e2e_traffic_bytes", "B", MetricKind.Traffic, "attention + the layer's GEMMs"),
        new("e2e_util_2d", "fraction", MetricKind.Utilization, "2D array busy fraction over the layer"),
        new("e2e_util_1d", "fraction", MetricKind.Utilization, "1D array busy fraction over the layer"),
        new("query_tile", "queries", MetricKind.Count, "queries per global-buffer tile (FuseMax's P1 x 256)"),
        new("buffer_required_bytes", "B", MetricKind.Other, "global-buffer bytes the attention schedule needs"),
        new("memory_bound", "", MetricKind.Count, "1 when attention is DRAM bound"),
    ];

    public IReadOnlyList<string>? OptionNames { get; } = ["seq_len", "attention_only", "model"];

    /// <summary>A cascade workload has Einsums (or extends one that has); a model shape has only parameters.</summary>
    public static bool IsCascade(YNode workload) => workload.IsMapping && (workload.Has("einsums") || workload.Has("extends"));

    /// <summary>
    /// Before any point: every architecture parses, and its cascade mapping covers every cascade the sweep names
    /// (or its own default cascade, for model shapes), so a mismatch is one located line, not a column of errors.
    /// </summary>
    public void Validate(SweepSpec sweep)
    {
        var archOverrides = FixedOverrides(sweep, ParameterTarget.ArchField);
        var workloadOverrides = FixedOverrides(sweep, ParameterTarget.WorkloadField);
        var model = ModelOption(sweep, sweep.Options.LastOrDefault(kv => kv.Key == "model").Value);
        foreach (var a in sweep.Archs)
        {
            var evaluator = Evaluator(sweep, a, archOverrides);
            List<SpecFileChoice?> workloads = sweep.Workloads.IsEmpty ? [null] : [.. sweep.Workloads];
            foreach (var w in workloads)
            {
                var doc = w is null ? null : sweep.LoadDocument(w, workloadOverrides, "workload.");
                var spec = doc is not null && IsCascade(doc) ? WorkloadSpec.Parse(doc) : CascadeEngine.DefaultWorkload(evaluator.Architecture);
                Cascade cascade;
                // Bound at its defaults only to learn its names; a point whose values do not bind reports it itself.
                try { cascade = CascadeEngine.Bind(spec, new Dictionary<string, string>(), model, onlyDeclared: true); }
                catch (InputException) { continue; }
                CascadeEngine.Map(evaluator, cascade);
            }
        }
    }

    private static List<SpecOverride> FixedOverrides(SweepSpec sweep, ParameterTarget target) =>
        [.. sweep.FixedParameters.Where(f => f.Name.Target == target).Select(f => f.Name.ToOverride(f.Value, f.Location))];

    private CascadeEvaluator Evaluator(SweepSpec sweep, SpecFileChoice? arch, IReadOnlyList<SpecOverride> overrides)
    {
        var doc = sweep.LoadDocument(arch, overrides, "arch.")
                  ?? throw new InputException(sweep.EngineLocation, "arch", "engine fusemax needs a study architecture (arch/fusemax/*.yaml)");
        var key = (arch?.FullPath ?? "") + "|" + string.Join("|", overrides);
        return _evaluators.GetOrAdd(key, _ => new CascadeEvaluator(CascadeArchitectureLoader.Parse(doc)));
    }

    /// <summary>Option `model`: a model shape file, relative to the sweep file.</summary>
    private static ImmutableArray<ParamSource>? ModelOption(SweepSpec sweep, string? path)
    {
        if (path is null) return null;
        var full = Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(sweep.File)) ?? ".", path));
        if (!File.Exists(full))
            throw new InputException(sweep.OptionsLocation ?? sweep.EngineLocation, "options.model", $"model shape file not found: {path}");
        return CascadeEngine.ModelParams(full);
    }

    public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
    {
        var evaluator = Evaluator(point.Sweep, point.ArchFile, point.Overrides(ParameterTarget.ArchField));
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        CascadeReport report;
        var attentionOnly = point.OptionBool("attention_only", false);
        if (point.Workload is { } doc && IsCascade(doc))
        {
            // The sweep's cascade, with its swept parameters already in the document.
            var model = ModelOption(point.Sweep, point.Option("model"));
            if (point.Option("seq_len") is { } n) overrides["seq_len"] = n;
            var spec = WorkloadSpec.Parse(doc);
            var cascade = CascadeEngine.Bind(spec, overrides, model);
            // The layer around it takes the cascade's bound values (seq_len, batch, heads, ...) and the model shape.
            var layer = cascade.Parameters.ToDictionary(kv => kv.Key, kv => Invariant.Num(kv.Value), StringComparer.Ordinal);
            report = CascadeEngine.Price(evaluator, cascade, attentionOnly ? null : new EndToEndInput(model ?? (spec.ModelFile is { } own ? CascadeEngine.ModelParams(own) : null), layer));
        }
        else
        {
            if (point.Workload is { } shape)
            {
                if (shape.Opt("params") is not { IsMapping: true } ps)
                    throw shape.Error("engine fusemax expects an Einsum cascade (workloads/attention/*.yaml) or a model shape file (workloads/models/*.yaml) with params:");
                foreach (var (k, v) in ps.Entries) overrides[k] = v.Text;
            }
            if (point.Option("seq_len") is { } n) overrides["seq_len"] = n;
            if (!overrides.ContainsKey("seq_len"))
                throw new InputException(point.Sweep.EngineLocation, "workload.params.seq_len", "engine fusemax needs a sequence length (workload.params.seq_len or options.seq_len)");
            // A model shape names no cascade: the architecture's documented default is priced, as in `reproduce fusemax`.
            var cascade = CascadeEngine.Bind(CascadeEngine.DefaultWorkload(evaluator.Architecture), overrides, null, onlyDeclared: true);
            report = CascadeEngine.Price(evaluator, cascade, attentionOnly ? null : new EndToEndInput(null, overrides));
        }
        var m = FuseMaxMetrics.From(report);
        return m.ToDictionary().ToDictionary(kv => kv.Key, kv => MetricValue.Of(kv.Value), StringComparer.Ordinal);
    }
}
