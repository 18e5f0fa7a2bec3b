using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Model;

/// <summary>What `accelsim eval` was asked to evaluate (engine-neutral: other engines read the same request).</summary>
public sealed record EvalRequest(
    string ArchFile,
    string WorkloadFile,
    string? MappingFile,
    string? Einsum,
    IReadOnlyList<string> Sets,
    string? ModelFile,
    string? ErtFile);

/// <summary>The spatial-array engine behind `accelsim eval`: loads specs in any supported dialect and runs the model.</summary>
public static class SpatialEvaluation
{
    /// <summary>The report, notes for the output, and warnings for stderr (e.g. energy unavailable).</summary>
    public sealed record Outcome(CostReport Report, IReadOnlyList<string> Notes, IReadOnlyList<string> Warnings);

    /// <summary>True when the architecture file is one this engine reads (AccelSim spatial or Timeloop).</summary>
    public static bool Accepts(string archFile) => SpecFiles.IsSpatialArchitecture(archFile);

    public static Outcome Run(EvalRequest req)
    {
        var notes = new List<string>();
        var archSets = req.Sets.Where(IsArchitectureSetting).ToList();
        var workloadSets = req.Sets.Where(s => !IsArchitectureSetting(s)).ToList();
        var loaded = SpecFiles.LoadArchitecture(req.ArchFile, req.ErtFile);
        if (loaded.Note is { } n) notes.Add(n);
        var arch = ArchitectureOverrides.Apply(loaded.Architecture, archSets);
        loaded = loaded with { Architecture = arch };
        var problem = LoadProblem(req.WorkloadFile, req.Einsum, workloadSets, req.ModelFile);
        if (req.MappingFile is null)
            throw new InputException(null, "--mapping", "a mapping file is required (write one, or let `accelsim map` find one)");
        var mapping = SpecFiles.LoadMapping(req.MappingFile, loaded, problem);
        var report = CostModel.Evaluate(arch, problem, mapping);
        var path = CostModel.PathFor(arch, problem, mapping.Compute);
        var warning = loaded.EnergyWarning(path.ComponentsWithoutEnergy(problem.OpsPerPoint.Where(o => o.Count > 0).Select(o => o.Kind)));
        return new Outcome(report, notes, warning is null ? Array.Empty<string>() : new[] { warning });
    }

    /// <summary>`LEVEL.FIELD=VALUE` and `clock_hz=VALUE` change the architecture; other `--set` names are workload parameters.</summary>
    public static bool IsArchitectureSetting(string assignment)
    {
        var eq = assignment.IndexOf('=');
        var key = eq < 0 ? assignment : assignment[..eq];
        if (key.StartsWith("workload.", StringComparison.Ordinal)) return false; // sweep spelling of a workload parameter
        return key.Contains('.') || key == "clock_hz";
    }

    /// <summary>A single-Einsum problem (AccelSim or Timeloop YAML) or one Einsum of a workload cascade.</summary>
    public static ProblemShape LoadProblem(string file, string? einsum, IReadOnlyList<string> sets, string? modelFile)
    {
        var root = YNode.LoadFile(file);
        if (ProblemLoader.IsOurFormat(root) || Mapping.Timeloop.TimeloopProblemReader.IsTimeloop(root))
        {
            if (einsum is not null) throw new InputException(SourceLocation.FileOnly(file), "--einsum", "the workload is a single-Einsum problem; --einsum applies to cascades");
            if (sets.Count > 0) throw new InputException(null, "--set", $"'{sets[0]}' is not an architecture setting (LEVEL.FIELD=VALUE) and a problem file has no parameters");
            return SpecFiles.LoadProblem(file);
        }
        var cascade = WorkloadLoader.Load(file, WorkloadLoader.ParseOverrides(sets), modelFile);
        var names = string.Join(", ", cascade.Einsums.Select(e => e.Name));
        if (einsum is null)
        {
            if (cascade.Einsums.Length == 1) return EinsumProblems.FromEinsum(cascade.Einsums[0], cascade);
            throw new InputException(SourceLocation.FileOnly(file), "--einsum", $"the cascade has {cascade.Einsums.Length} Einsums; choose one with --einsum (one of: {names})");
        }
        var e = cascade.FindEinsum(einsum) ?? throw new InputException(SourceLocation.FileOnly(file), "--einsum", $"no Einsum named '{einsum}' (have: {names})");
        return EinsumProblems.FromEinsum(e, cascade);
    }
}
