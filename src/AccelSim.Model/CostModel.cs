using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Model;

/// <summary>The friendly entry point: records in, <see cref="CostReport"/> out. The hot path is <see cref="ModelContext"/>.</summary>
public static class CostModel
{
    public static ArchPath PathFor(Architecture arch, ProblemShape problem, string? computeName) =>
        arch.PathTo(arch.SelectCompute(computeName, problem.OpsPerPoint.Where(o => o.Count > 0).Select(o => o.Kind)));

    public static CostReport Evaluate(Architecture arch, ProblemShape problem, AccelSim.Mapping.Mapping mapping)
    {
        var path = PathFor(arch, problem, mapping.Compute);
        var ctx = new ModelContext(path, problem);
        var compact = CompactMapping.From(mapping, path, problem);
        return Evaluate(ctx, compact, mapping);
    }

    /// <summary>Evaluates and builds the report; an invalid mapping becomes an <see cref="InputException"/> naming the level.</summary>
    public static CostReport Evaluate(ModelContext ctx, CompactMapping compact, AccelSim.Mapping.Mapping? source = null)
    {
        var r = ctx.CreateResult();
        if (!ctx.Evaluate(compact, r)) throw Invalid(ctx, r, source);
        return Report(ctx, compact, r);
    }

    public static InputException Invalid(ModelContext ctx, EvalResult r, AccelSim.Mapping.Mapping? source)
    {
        var path = ctx.Path;
        var problem = ctx.Problem;
        SourceLocation? loc = source?.File is { } f ? SourceLocation.FileOnly(f) : null;
        string field = "mapping";
        if (r.FailedLevel >= 0 && source is not null)
        {
            var name = path.Levels[r.FailedLevel].Name;
            for (int i = 0; i < source.Levels.Length; i++)
                if (source.Levels[i].Level == name)
                {
                    loc = source.Levels[i].Location ?? loc;
                    field = $"mapping.levels[{i}]";
                }
        }
        string problemText = r.Status switch
        {
            EvalStatus.CapacityExceeded => CapacityText(ctx, r),
            EvalStatus.FactorMismatch => $"factors of {problem.Dims[r.FailedDim].Name} multiply to {r.FailedNeed} but the problem has {problem.Dims[r.FailedDim].Name} = {problem.Dims[r.FailedDim].Size}",
            EvalStatus.SpatialOverflowX => $"spatial_x factors multiply to {r.FailedNeed} but {path.Levels[r.FailedLevel].Name} fans out to {path.FanoutX(r.FailedLevel)} along mesh X",
            EvalStatus.SpatialOverflowY => $"spatial_y factors multiply to {r.FailedNeed} but {path.Levels[r.FailedLevel].Name} fans out to {path.FanoutY(r.FailedLevel)} along mesh Y",
            EvalStatus.KeepViolation => $"{path.Levels[r.FailedLevel].Name} keeps a tensor it may not hold (the backing store must keep every tensor)",
            _ => "invalid mapping",
        };
        return new InputException(loc, field, problemText);
    }

    private static string CapacityText(ModelContext ctx, EvalResult r)
    {
        var l = r.FailedLevel;
        var lv = ctx.Path.Levels[l];
        var parts = new List<string>();
        for (int t = 0; t < ctx.TensorCount; t++)
            if (r.TileWords[l * ctx.TensorCount + t] > 0)
                parts.Add($"{ctx.Problem.Tensors[t].Name} {Invariant.Grouped(r.TileWords[l * ctx.TensorCount + t])}");
        return $"capacity overflow at {lv.Name}: the tiles need {Invariant.Grouped(r.FailedNeed)} words ({string.Join(", ", parts)}) " +
               $"but it holds {Invariant.Grouped(lv.EffectiveCapacityWords ?? 0)}";
    }

    public static CostReport Report(ModelContext ctx, CompactMapping compact, EvalResult r)
    {
        var path = ctx.Path;
        var problem = ctx.Problem;
        int T = ctx.TensorCount;
        var levels = ImmutableArray.CreateBuilder<LevelReport>();
        var energy = ImmutableArray.CreateBuilder<EnergyItem>();
        for (int l = 0; l < ctx.LevelCount; l++)
        {
            var lv = path.Levels[l];
            var tensors = ImmutableArray.CreateBuilder<TensorLevelStats>();
            double rd = 0, fl = 0, up = 0;
            for (int t = 0; t < T; t++)
            {
                int i = l * T + t;
                bool kept = (compact.KeepMask[l] & (1 << t)) != 0;
                double mc = r.DistinctChildren[i] > 0 ? (double)r.ChildInstances[i] / r.DistinctChildren[i] : 0;
                tensors.Add(new TensorLevelStats(problem.Tensors[t].Name, kept, r.TileWords[i], r.Partition[i], r.Reads[i], r.Fills[i],
                    r.Updates[i], mc, r.ReadEnergy[i], r.FillEnergy[i], r.UpdateEnergy[i]));
                rd += r.ReadEnergy[i];
                fl += r.FillEnergy[i];
                up += r.UpdateEnergy[i];
            }
            levels.Add(new LevelReport(lv.Name, lv.Class, lv.EffectiveCapacityWords, r.CapacityUsed[l], lv.Instances, r.UtilizedInstances[l],
                r.LevelCycles[l], tensors.ToImmutable(), r.LevelLeakEnergy[l]));
            energy.Add(new EnergyItem(lv.Name, "read", rd));
            energy.Add(new EnergyItem(lv.Name, "fill", fl));
            energy.Add(new EnergyItem(lv.Name, "update", up));
            if (r.LevelLeakEnergy[l] > 0) energy.Add(new EnergyItem(lv.Name, "leak", r.LevelLeakEnergy[l]));
        }
        var cu = path.Compute;
        var actionTotals = new Dictionary<string, double>();
        foreach (var op in problem.OpsPerPoint)
        {
            var spec = cu.Find(op.Kind);
            if (spec is null) continue;
            foreach (var a in spec.Actions)
                actionTotals[a.Action] = actionTotals.GetValueOrDefault(a.Action) +
                                          r.Operations * op.Count * a.Count * (cu.ActionEnergy.TryGetValue(a.Action, out var e) ? e.Value : 0);
        }
        foreach (var (action, pj) in actionTotals.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            energy.Add(new EnergyItem(cu.Name, action, pj));
        if (r.LeakEnergy > 0) energy.Add(new EnergyItem(cu.Name, "leak", r.LeakEnergy));
        var mapping = compact.ToMapping(path, problem);
        return new CostReport(path.Architecture.Name, cu.Name, problem.Name, path.Architecture.ClockHz, r.Cycles, r.ComputeCycles,
            r.Utilization, r.SpatialUtilization, r.Operations, cu.Instances, r.UtilizedInstances[ctx.LevelCount], r.EnergyKnown ? r.EnergyPJ : null, r.ComputeEnergy,
            r.OffChipBytes, levels.ToImmutable(), energy.ToImmutable(), LoopNestPrinter.Print(mapping, problem, r.TileWords, path),
            problem.RequiredPoints, problem.Points);
    }
}
