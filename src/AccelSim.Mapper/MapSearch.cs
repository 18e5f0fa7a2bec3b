using AccelSim.Core;
using AccelSim.Hardware;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;

namespace AccelSim.Mapper;

/// <summary>What to search: one Einsum (problem) on one architecture, under constraints, for one objective.</summary>
public sealed record MapRequest(
    Architecture Architecture,
    ProblemShape Problem,
    MapSpaceConstraints Constraints,
    Objective Objective,
    string Search = "guided",
    long? Budget = null,
    TimeSpan? Timeout = null,
    long Seed = 0,
    int Threads = 0,
    string? Compute = null);

/// <summary>The best mapping found, its full cost report, and how the search went.</summary>
public sealed record MapResult(
    MapRequest Request,
    MapSpace Space,
    string Strategy,
    SearchOutcome Outcome,
    TimeSpan Elapsed,
    int Threads,
    AccelSim.Mapping.Mapping Mapping,
    CompactMapping Compact,
    CostReport Report)
{
    public long Evaluations => Outcome.Evaluations;
}

/// <summary>The mapper's entry point: builds the map-space, runs a strategy, prices the winner with the model.</summary>
public static class MapSearch
{
    public static MapResult Run(MapRequest request, Action<SearchProgress>? progress = null, CancellationToken cancel = default)
    {
        var path = CostModel.PathFor(request.Architecture, request.Problem, request.Compute);
        var model = new ModelContext(path, request.Problem);
        var space = new MapSpace(path, request.Problem, request.Constraints);
        var strategy = SearchStrategies.Create(request.Search);
        if (request.Budget is <= 0) throw new InputException(null, "--budget", $"must be > 0, found {request.Budget}");
        int threads = request.Threads > 0 ? request.Threads : Environment.ProcessorCount;
        var engine = new SearchEngine(space, model, request.Objective, threads, request.Timeout, progress, cancel);
        var outcome = strategy.Search(engine, new SearchSettings(request.Budget, request.Seed));
        if (outcome.Best is null) throw Diagnose(space, model, outcome);
        var report = CostModel.Evaluate(model, outcome.Best);
        var mapping = outcome.Best.ToMapping(path, request.Problem) with { Compute = path.Compute.Name };
        return new MapResult(request, space, strategy.Name, outcome, engine.Elapsed, threads, mapping, outcome.Best, report);
    }

    /// <summary>
    /// Explains why a search found nothing: when even the smallest tiles the constraints allow overflow a level (or the
    /// utilisation bound cannot be met) the space is empty and the constraints responsible are named; otherwise the
    /// budget was too small to meet a valid mapping.
    /// </summary>
    public static Exception Diagnose(MapSpace space, ModelContext model, SearchOutcome outcome)
    {
        var m = model.CreateMapping();
        var r = model.CreateResult();
        int D = space.Dims;
        bool built = true;
        for (int d = 0; d < D && built; d++)
        {
            long q = space.Problem.Dims[d].Size;
            for (int slot = 0; slot < space.Slots; slot++)
            {
                long f = space.FixedFactor(d, slot);
                if (f != 0) { MappingMoves.Set(space, m, d, slot, (int)f); q /= f; }
            }
            for (int slot = 0; slot < space.Slots && q > 1; slot++)
            {
                if (!space.IsFreeSlot(d, slot)) continue;
                long take = 1;
                foreach (var x in Factoring.Divisors(q)) if (x <= space.MaxFactor(d, slot)) take = x;
                MappingMoves.Set(space, m, d, slot, (int)(MappingMoves.Get(space, m, d, slot) * take));
                q /= take;
            }
            built = q == 1;
        }
        for (int l = 0; l < space.Levels; l++) m.KeepMask[l] = space.KeepBase(l);
        if (built && model.CheckCapacity(m, r) is false && r.Status == EvalStatus.CapacityExceeded)
        {
            int l = r.FailedLevel;
            var level = space.Path.Levels[l];
            var parts = new List<string>();
            for (int t = 0; t < space.Tensors; t++)
                if (r.TileWords[l * space.Tensors + t] > 0) parts.Add($"{space.Problem.Tensors[t].Name} {Invariant.Grouped(r.TileWords[l * space.Tensors + t])}");
            var blame = Enumerable.Range(l, space.Levels - l).SelectMany(space.DirectivesAt)
                .Where(x => x is FactorDirective { Kind: FactorKind.Fixed or FactorKind.Min } or KeepDirective { Keep: true })
                .ToList();
            var problem = $"no mapping fits: with the smallest tiles the constraints allow, {level.Name} needs {Invariant.Grouped(r.CapacityUsed[l])} words " +
                          $"({string.Join(", ", parts)}) but holds {Invariant.Grouped(level.EffectiveCapacityWords ?? 0)}";
            if (blame.Count > 0)
                return blame[0].Error(problem + (blame.Count > 1 ? $" (also: {string.Join("; ", blame.Skip(1).Take(3).Select(b => $"{b.Field} at {b.Location}"))})" : ""));
            return new InputException(null, "constraints", problem);
        }
        if (built)
        {
            // Order constraints that admit no order of the smallest tiling's loops.
            var nonUnit = new int[space.Levels];
            for (int l = 0; l < space.Levels; l++) nonUnit[l] = space.NonUnitMask(m, l);
            for (int l = 0; l < space.Levels; l++)
                if (space.HasOrderRules(l) && space.OrderClasses(l, nonUnit[l], space.ActiveMask(m, l, nonUnit)).Length == 0)
                {
                    var rule = space.DirectivesAt(l).OfType<OrderDirective>().Last();
                    return rule.Error($"the order constraints at {space.Path.Levels[l].Name} admit no order of its loops");
                }
        }
        if (space.MinBusyUnits > 1)
            return new InputException(null, "constraints.min_utilization",
                $"no valid mapping keeps {Invariant.Grouped(space.MinBusyUnits)} of {Invariant.Grouped(space.ComputeInstances)} compute units busy " +
                $"(minimum utilisation {Invariant.Num(space.MinUtilization)}) within the buffers' capacities" +
                (outcome.StopReason == StopReason.Completed ? "" : " (or none was met within the budget)"));
        if (!built)
            return new InputException(null, "constraints", "no mapping satisfies the constraints (no factorisation places every factor)");
        return new SearchFailedException(outcome.StopReason == StopReason.Timeout
            ? "no valid mapping found before the timeout; raise --timeout or --budget, or use --search exhaustive"
            : $"no valid mapping found in {Invariant.Grouped(outcome.Evaluations)} evaluations ({Invariant.Grouped(outcome.Rejected)} candidates rejected); " +
              "raise --budget or use --search exhaustive");
    }
}

/// <summary>A search that ended without a valid mapping although the space is not provably empty (exit code 1).</summary>
public sealed class SearchFailedException(string message) : Exception(message);
