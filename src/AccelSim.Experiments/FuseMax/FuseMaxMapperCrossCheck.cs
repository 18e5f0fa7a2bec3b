using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Hardware;
using AccelSim.Mapper;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.FuseMax;

/// <summary>How hard the mapper looks: strategy, objective, evaluations, seed, threads (results do not depend on threads).</summary>
public sealed record CrossCheckSearch(Objective Objective, string Strategy = "guided", long Budget = 4000, long Seed = 1, int Threads = 0);

/// <summary>
/// One Einsum of a study architecture's attention cascade, priced by the single-Einsum model on the same hardware
/// three ways: with the concrete mapping the architecture's template resolves to (exactly the one the cascade model
/// prices, before its residence adjustments); with the best mapping the mapper finds in the whole map-space
/// (<see cref="Free"/>); and with the best it finds when every level keeps and bypasses the tensors the template does
/// (<see cref="SameKeeps"/>: tilings, fan-outs and loop orders free). The template's keeps encode the cascade's
/// residence (e.g. QK written to the buffer for the next Einsum), which costs energy that only the cascade pays back,
/// so <see cref="SameKeeps"/> is the like-for-like check of the loop nest and <see cref="Free"/> shows what that
/// residence costs the Einsum alone. <see cref="Cascade"/> is the Einsum's cost inside the cascade (with residence).
/// </summary>
public sealed record MapperCrossCheck(
    string Architecture,
    string Einsum,
    long SeqLen,
    IReadOnlyDictionary<string, string> WorkloadOverrides,
    string TemplateName,
    EinsumCost Cascade,
    ProblemShape Problem,
    AccelSim.Mapping.Mapping TemplateMapping,
    CostReport Template,
    MapResult Free,
    MapResult SameKeeps)
{
    /// <summary>Template energy over the free mapper's best (1 = as good; &gt; 1: the mapper found less energy).</summary>
    public double FreeEnergyRatio => Template.EnergyPJ!.Value / Free.Report.EnergyPJ!.Value;

    /// <summary>Template energy over the best mapping with the template's keeps.</summary>
    public double SameKeepsEnergyRatio => Template.EnergyPJ!.Value / SameKeeps.Report.EnergyPJ!.Value;

    /// <summary>A few lines for logs: cycles (compute cycles), energy, utilisation of the three, search effort.</summary>
    public string Summary()
    {
        static string Line(string what, CostReport r) =>
            $"  {what}: cycles {Invariant.Sig(r.Cycles, 7)} (compute {Invariant.Sig(r.ComputeCycles, 7)}, spatial util {Invariant.Sig(r.SpatialUtilization, 4)}), " +
            $"energy {(r.EnergyPJ is { } pj ? Invariant.Sig(pj, 6) + " pJ" : "n/a")}";
        static string Search(MapResult m) =>
            $" [{m.Request.Objective}, {Invariant.Grouped(m.Evaluations)} evaluations, {Invariant.Sig(m.Elapsed.TotalSeconds, 3)} s]";
        return $"{Architecture} {Einsum} seq_len={Invariant.Num(SeqLen)}\n" +
               Line($"template '{TemplateName}'", Template) + "\n" +
               Line("mapper, same keeps", SameKeeps.Report) + $", template/mapper {Invariant.Sig(SameKeepsEnergyRatio, 5)}" + Search(SameKeeps) + "\n" +
               Line("mapper, free", Free.Report) + $", template/mapper {Invariant.Sig(FreeEnergyRatio, 5)}" + Search(Free);
    }
}

/// <summary>
/// Cross-checks the FuseMax study's mapping templates against AccelSim's mapper. The cascade model prices every
/// Einsum with a mapping written in the architecture file (its dataflow); this asks whether the mapper, given the same
/// single Einsum on the same hardware, finds something better. All mappings are priced by the single-Einsum model
/// (<see cref="CostModel"/>) without the cascade's residence adjustments (intermediates written in place, DRAM traffic
/// of on-chip tensors dropped), so the comparison is like for like: each pays, e.g., for writing QK to DRAM.
/// The template mapping is taken from the cascade evaluation itself (<see cref="EinsumCost.ResolvedMapping"/>), so its
/// fitted tiles (FuseMax's query tile) are the ones the study uses.
/// Per-element costs do not depend on batch and heads (every template loops over them outermost, at DRAM), so a
/// caller may reduce them (<see cref="OneHead"/>) to keep the search fast.
/// </summary>
public static class FuseMaxMapperCrossCheck
{
    /// <summary>Reduced workload: one sequence of one head.</summary>
    public static IReadOnlyDictionary<string, string> OneHead { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["batch"] = "1", ["heads"] = "1" };

    /// <summary>
    /// Prices <paramref name="einsum"/> of <paramref name="archPath"/>'s attention cascade (model shape
    /// <paramref name="modelFile"/>, <paramref name="seqLen"/> tokens) with its template and with the mapper's best,
    /// free and with the template's keeps. The mapper searches the architecture's real hardware (the buffer keeps its
    /// capacity) for the compute unit the Einsum is bound to.
    /// </summary>
    public static MapperCrossCheck Run(string archPath, string modelFile, long seqLen, string einsum, CrossCheckSearch search,
        IReadOnlyDictionary<string, string>? workloadOverrides = null)
    {
        var overrides = new Dictionary<string, string>(workloadOverrides ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["seq_len"] = Invariant.Num(seqLen),
        };
        var evaluator = FuseMaxStudy.Evaluator(archPath);
        var arch = evaluator.Architecture;
        var report = FuseMaxStudy.EvaluatePoint(archPath, modelFile, seqLen, null, workloadOverrides, attentionOnly: true);
        var cost = report.Attention.Einsum(einsum)
                   ?? throw new InputException(SourceLocation.FileOnly(archPath), "einsum",
                       $"the attention section has no Einsum '{einsum}' (has: {string.Join(", ", report.Attention.Einsums.Select(e => e.Einsum))})");
        var mapping = cost.ResolvedMapping!;

        // The same problem the cascade model priced: the section's workload bound the same way.
        var cascade = Engines.CascadeEngine.Bind(Engines.CascadeEngine.Spec(FuseMaxStudy.StudyWorkload(archPath)),
            overrides, Engines.CascadeEngine.ModelParams(modelFile), onlyDeclared: true);
        var problem = EinsumProblem.From(cascade, cascade.FindEinsum(einsum)!).Shape;
        var hardware = arch.Hardware;

        var template = CostModel.Evaluate(hardware, problem, mapping);
        MapResult Search(MapSpaceConstraints constraints) =>
            MapSearch.Run(new MapRequest(hardware, problem, constraints, search.Objective, search.Strategy, search.Budget,
                Seed: search.Seed, Threads: search.Threads, Compute: cost.Compute));
        var free = Search(MapSpaceConstraints.None);
        var sameKeeps = Search(KeepsOf(hardware, problem, mapping));
        return new MapperCrossCheck(arch.Name, einsum, seqLen, overrides.ToImmutableDictionary(StringComparer.Ordinal), cost.Template ?? "?",
            cost, problem, mapping, template, free, sameKeeps);
    }

    /// <summary>Constraints under which every level below the backing store keeps exactly the tensors <paramref name="mapping"/> keeps there.</summary>
    public static MapSpaceConstraints KeepsOf(Architecture hardware, ProblemShape problem, AccelSim.Mapping.Mapping mapping)
    {
        var path = CostModel.PathFor(hardware, problem, mapping.Compute);
        var compact = CompactMapping.From(mapping, path, problem);
        var directives = ImmutableArray.CreateBuilder<MapDirective>();
        for (int l = 1; l < path.LevelCount; l++)
            for (int t = 0; t < problem.Tensors.Length; t++)
                directives.Add(new KeepDirective(path.Levels[l].Name, problem.Tensors[t].Name, (compact.KeepMask[l] & (1 << t)) != 0, null,
                    $"template keeps at {path.Levels[l].Name}"));
        return new MapSpaceConstraints(directives.ToImmutable(), []);
    }
}
