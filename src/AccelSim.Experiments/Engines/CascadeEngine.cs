using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using AccelSim.Core;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;
using AccelSim.Model;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.Engines;

/// <summary>The layer around the attention cascade (a study architecture's `end_to_end:` section) and what binds it.</summary>
public sealed record EndToEndInput(ImmutableArray<ParamSource>? ModelParams, IReadOnlyDictionary<string, string> Overrides);

/// <summary>
/// The cascade engine's pipeline, shared by `eval`, the `fusemax` sweep engine, `reproduce fusemax` and the SpAtten
/// cross-engine study: bind the workload W -> apply the study architecture's cascade mapping to W
/// (<see cref="CascadeMapping.Apply"/>: every name checked, every Einsum bound) -> price it
/// (<see cref="CascadeEvaluator"/>) -> a <see cref="CascadeReport"/>. The architecture's own `attention.workload:` is
/// only the default of callers that name no cascade (<see cref="DefaultWorkload"/>).
/// </summary>
public static class CascadeEngine
{
    private static readonly ConcurrentDictionary<string, CascadeEvaluator> Evaluators = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, WorkloadSpec> Specs = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ImmutableArray<ParamSource>> Models = new(StringComparer.Ordinal);

    /// <summary>Forgets the cached evaluators and files (benchmarks measure cold runs with it).</summary>
    public static void ClearCache()
    {
        Evaluators.Clear();
        Specs.Clear();
        Models.Clear();
    }

    /// <summary>A cached evaluator for an architecture file and hardware overrides (`L3.capacity_words=...`, `PE2D.mesh=128`).</summary>
    public static CascadeEvaluator Evaluator(string archPath, IReadOnlyList<string>? hardwareOverrides = null) =>
        Evaluator(Path.GetFullPath(archPath) + "|" + string.Join(";", hardwareOverrides ?? []),
            () => CascadeArchitectureLoader.Load(archPath, hardwareOverrides));

    /// <summary>A cached evaluator under <paramref name="key"/> (e.g. a sweep's architecture document and overrides).</summary>
    public static CascadeEvaluator Evaluator(string key, Func<CascadeArchitecture> load) =>
        Evaluators.GetOrAdd(key, _ => new CascadeEvaluator(load()));

    public static ImmutableArray<ParamSource> ModelParams(string modelFile) =>
        Models.GetOrAdd(Path.GetFullPath(modelFile), WorkloadLoader.LoadModelParams);

    /// <summary>
    /// The cascade a study architecture's mapping was written for (`attention.workload:`). Only callers that are given
    /// no cascade use it: `reproduce fusemax` passes it explicitly, and a sweep whose `workload:` is a model shape.
    /// </summary>
    public static WorkloadSpec DefaultWorkload(CascadeArchitecture arch) => Spec(arch.Attention.WorkloadPath);

    /// <summary>A workload file parsed once per process (shipped files that many points bind).</summary>
    public static WorkloadSpec Spec(string workloadPath) => Specs.GetOrAdd(Path.GetFullPath(workloadPath), WorkloadLoader.LoadSpec);

    /// <summary>
    /// Step 1: binds W. <paramref name="model"/> (else W's own `model:`) gives parameter values, then
    /// <paramref name="overrides"/>. With <paramref name="onlyDeclared"/> the overrides W does not declare are skipped
    /// (a model shape's d_model or ffn_dim meant for the layer's GEMMs); otherwise each must be W's.
    /// </summary>
    public static Cascade Bind(WorkloadSpec workload, IReadOnlyDictionary<string, string> overrides, ImmutableArray<ParamSource>? model,
        bool onlyDeclared = false)
    {
        if (model is null && workload.ModelFile is { } own) model = ModelParams(own);
        var given = overrides;
        if (onlyDeclared)
        {
            var declared = workload.Params.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            given = overrides.Where(kv => declared.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        }
        return CascadeBinder.Bind(workload, given, model);
    }

    /// <summary>Step 2: the architecture's attention mapping applied to W (a located error if it does not cover W).</summary>
    public static CascadeMapping Map(CascadeEvaluator evaluator, Cascade workload) =>
        CascadeMapping.Apply(evaluator.Architecture.Attention, workload);

    /// <summary>
    /// Steps 2-4: maps and prices W; with <paramref name="endToEnd"/>, also the architecture's end-to-end section
    /// (the layer's GEMMs, bound to the same model shape).
    /// </summary>
    public static CascadeReport Price(CascadeEvaluator evaluator, Cascade workload, EndToEndInput? endToEnd = null)
    {
        var mapping = Map(evaluator, workload);
        var attention = evaluator.EvaluateSection(mapping.Section, mapping.Workload);
        SectionResult? layer = null;
        if (endToEnd is not null && evaluator.Architecture.EndToEnd is { } section)
            layer = evaluator.EvaluateSection(section, evaluator.Bind(section, endToEnd.ModelParams, endToEnd.Overrides));
        return new CascadeReport(evaluator.Architecture.Name, evaluator.Architecture.Label, attention, layer);
    }

    /// <summary>The largest solved tile of the section's fusion groups (FuseMax's P1 x 256 queries), or null.</summary>
    public static double? QueryTile(SectionResult s)
    {
        var tiles = s.Groups.SelectMany(g => g.Tiles.Values).ToList();
        return tiles.Count == 0 ? null : tiles.Max();
    }

    // ---- step 4: the report ----

    public static string Text(CascadeReport r, CascadeArchitecture arch)
    {
        var a = r.Attention;
        var w = new StringWriter(Invariant.Culture);
        w.WriteLine($"{a.Workload} on {arch.Name} ({arch.Label}), cascade model");
        w.WriteLine($"  latency       {Invariant.Sig(a.LatencySeconds, 6)} s ({(a.MemoryBound ? "memory" : "compute")} bound: compute " +
                    $"{Invariant.Sig(a.ComputeSeconds, 4)} s, DRAM {Invariant.Sig(a.MemorySeconds, 4)} s)");
        w.WriteLine($"  energy        {Invariant.Sig(a.EnergyPJ, 6)} pJ");
        w.WriteLine($"  DRAM traffic  {Invariant.Sig(a.TrafficBytes, 6)} B");
        w.WriteLine("  utilisation   " + string.Join(", ", arch.Attention.Arrays.Select(x => $"{x.Name} {Invariant.Sig(a.Utilization(x.Name), 4)}")));
        foreach (var b in a.Buffers)
            w.WriteLine($"  buffer {b.Level,-6} needs {Invariant.Num(b.RequiredWords)} words ({Invariant.Sig(b.RequiredBytes, 4)} B)" +
                        (b.CapacityWords is { } c ? $" of {Invariant.Num(c)}{(b.RequiredWords <= c ? "" : " (does not fit)")}" : ""));
        if (QueryTile(a) is { } tile) w.WriteLine($"  query tile    {Invariant.Num(tile)}");
        var table = new TextTable("einsum", "array", "group", "seconds", "busy", "spatial util", "DRAM bytes", "energy pJ");
        foreach (var e in a.Einsums)
            table.Add(e.Einsum, e.Array, Invariant.Num(e.Group), Invariant.Sig(e.Seconds, 4),
                Invariant.Sig(a.LatencySeconds > 0 ? e.BusySeconds / a.LatencySeconds : 0, 3), Invariant.Sig(e.SpatialUtilization, 3),
                Invariant.Sig(e.DramBytes, 4), Invariant.Sig(e.EnergyPJ, 4));
        w.Write(table.ToString());
        var energy = new TextTable("component", "energy pJ", "share");
        foreach (var p in a.Energy)
            energy.Add(p.Component, Invariant.Sig(p.PicoJoules, 4), Invariant.Sig(a.EnergyPJ > 0 ? p.PicoJoules / a.EnergyPJ : 0, 3));
        w.Write(energy.ToString());
        return w.ToString();
    }

    public static string Json(CascadeReport r, CascadeArchitecture arch)
    {
        var a = r.Attention;
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            j.WriteStartObject();
            j.WriteString("engine", "cascade");
            j.WriteString("architecture", arch.Name);
            j.WriteString("label", arch.Label);
            j.WriteString("workload", a.Workload);
            j.WriteNumber("latency_s", a.LatencySeconds);
            j.WriteNumber("energy_pJ", a.EnergyPJ);
            j.WriteNumber("traffic_bytes", a.TrafficBytes);
            j.WriteNumber("compute_s", a.ComputeSeconds);
            j.WriteNumber("memory_s", a.MemorySeconds);
            j.WriteBoolean("memory_bound", a.MemoryBound);
            if (QueryTile(a) is { } tile) j.WriteNumber("query_tile", tile);
            j.WriteStartObject("utilization");
            foreach (var x in arch.Attention.Arrays) j.WriteNumber(x.Name, a.Utilization(x.Name));
            j.WriteEndObject();
            j.WriteStartArray("buffers");
            foreach (var b in a.Buffers)
            {
                j.WriteStartObject();
                j.WriteString("level", b.Level);
                if (b.CapacityWords is { } c) j.WriteNumber("capacity_words", c);
                j.WriteNumber("required_words", b.RequiredWords);
                j.WriteNumber("required_bytes", b.RequiredBytes);
                j.WriteBoolean("fits", b.CapacityWords is not { } cap || b.RequiredWords <= cap);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartArray("einsums");
            foreach (var e in a.Einsums)
            {
                j.WriteStartObject();
                j.WriteString("einsum", e.Einsum);
                j.WriteString("array", e.Array);
                j.WriteString("compute", e.Compute);
                j.WriteNumber("group", e.Group);
                if (e.Template is { } t) j.WriteString("template", t);
                j.WriteNumber("seconds", e.Seconds);
                j.WriteNumber("busy_fraction", a.LatencySeconds > 0 ? e.BusySeconds / a.LatencySeconds : 0);
                j.WriteNumber("spatial_utilization", e.SpatialUtilization);
                j.WriteNumber("operations", e.Operations);
                j.WriteNumber("dram_read_bytes", e.DramReadBytes);
                j.WriteNumber("dram_write_bytes", e.DramWriteBytes);
                j.WriteNumber("compute_pJ", e.ComputeEnergyPJ);
                j.WriteNumber("onchip_pJ", e.OnChipEnergyPJ);
                j.WriteNumber("dram_pJ", e.DramEnergyPJ);
                j.WriteNumber("energy_pJ", e.EnergyPJ);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartArray("groups");
            foreach (var g in a.Groups)
            {
                j.WriteStartObject();
                j.WriteNumber("group", g.Index);
                WriteStrings(j, "einsums", g.Einsums);
                WriteStrings(j, "onchip_intermediates", g.OnChipIntermediates);
                WriteStrings(j, "buffered", g.BufferedTensors);
                j.WriteStartObject("tiles");
                foreach (var (name, value) in g.Tiles.OrderBy(kv => kv.Key, StringComparer.Ordinal)) j.WriteNumber(name, value);
                j.WriteEndObject();
                j.WriteNumber("footprint_words", g.FootprintWords);
                j.WriteNumber("capacity_words", g.CapacityWords);
                j.WriteNumber("spill", g.Spill);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartObject("energy_breakdown_pJ");
            foreach (var p in a.Energy) j.WriteNumber(p.Component, p.PicoJoules);
            j.WriteEndObject();
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteStrings(Utf8JsonWriter j, string name, IEnumerable<string> values)
    {
        j.WriteStartArray(name);
        foreach (var v in values) j.WriteStringValue(v);
        j.WriteEndArray();
    }
}

/// <summary>
/// A study architecture (`cascade_architecture:`, arch/fusemax/*.yaml): its attention section is the cascade mapping
/// applied to the workload given (never to the file's own `attention.workload:`). `--set LEVEL.FIELD=V` (or
/// `PE2D.mesh=128`) changes the hardware, `--set NAME=V` a parameter of W.
/// </summary>
public sealed class CascadeEvalEngine : IEvalEngine
{
    public string Name => "cascade";
    public string Reads => "study architectures (cascade_architecture:, arch/fusemax/*.yaml)";
    public IReadOnlyList<string> Options { get; } = [];

    public bool Accepts(string archFile) => EvalEngines.RootHas(archFile, "cascade_architecture");

    public EngineReport Evaluate(EvalInput input)
    {
        var request = input.Request;
        var hardware = request.Sets.Where(SpatialEvaluation.IsArchitectureSetting).ToList();
        var parameters = WorkloadLoader.ParseOverrides(request.Sets.Where(s => !SpatialEvaluation.IsArchitectureSetting(s)));
        // Parsed afresh: an eval reads the files as they are now (a sweep or study caches them).
        var evaluator = new CascadeEvaluator(CascadeArchitectureLoader.Load(request.ArchFile, hardware));
        var workload = WorkloadLoader.LoadSpec(request.WorkloadFile);
        var model = request.ModelFile is null ? (ImmutableArray<ParamSource>?)null : WorkloadLoader.LoadModelParams(request.ModelFile);
        var cascade = CascadeEngine.Bind(workload, parameters, model);
        var report = CascadeEngine.Price(evaluator, cascade);
        return new EngineReport(Name, CascadeEngine.Text(report, evaluator.Architecture), CascadeEngine.Json(report, evaluator.Architecture), []);
    }
}
