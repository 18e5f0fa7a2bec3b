using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Model.Cascade;

/// <summary>
/// One loop of a mapping template. In a temporal list, <see cref="Extent"/> is the tile extent of the dimension at
/// this level (the level's tile covers that many indices, counting the loops below), or null for "everything that is
/// left". In a spatial list it is the spatial factor, or null for "fill the remaining fan-out".
/// </summary>
public sealed record TemplateLoop(string Dim, SymbolExpression? Extent);

/// <summary>A level of a mapping template: loops outermost first, spatial fan-out below it, keep/bypass tokens.</summary>
public sealed record TemplateLevel(
    string Level,
    ImmutableArray<TemplateLoop> Temporal,
    ImmutableArray<TemplateLoop> SpatialX,
    ImmutableArray<TemplateLoop> SpatialY,
    ImmutableArray<string>? Keep,
    ImmutableArray<string>? Bypass,
    SourceLocation? Location);

/// <summary>
/// A dataflow written once for many Einsums: per storage level, which iteration dimensions it loops over (by
/// variable name, e.g. b h p m1 e), which go spatial, and which tensors it keeps. Applied to one Einsum it yields a
/// concrete <see cref="AccelSim.Mapping.Mapping"/>: dimensions the Einsum lacks are skipped, factors are rounded down
/// to divisors of what is left, and dimensions the template never names run at the outermost level.
/// </summary>
public sealed record MappingTemplate(string Name, ImmutableArray<TemplateLevel> Levels, SourceLocation? Location)
{
    /// <summary>
    /// Resolves the template for <paramref name="problem"/> on <paramref name="path"/>. Levels are processed innermost
    /// first; within a level the spatial loops first, then the temporal ones innermost first, so that a tile extent
    /// (e.g. `p: query_tile`) counts the spatial and inner factors already placed.
    /// </summary>
    /// <param name="symbols">Values of the symbols used in extents.</param>
    /// <param name="expandKeep">Expands a keep/bypass token (a tensor or a tensor-set name) into cascade tensor names.</param>
    public AccelSim.Mapping.Mapping Resolve(EinsumProblem problem, ArchPath path, Func<string, double?> symbols,
        Func<string, IEnumerable<string>> expandKeep)
    {
        var shape = problem.Shape;
        int D = shape.Dims.Length;
        var remaining = shape.Dims.Select(d => d.Size).ToArray();
        var below = Enumerable.Repeat(1L, D).ToArray();
        var perLevel = new Dictionary<int, (List<LoopFactor> T, List<LoopFactor> X, List<LoopFactor> Y, TemplateLevel Spec)>();

        // Levels the path lacks are allowed only if they carry no temporal loops (a template shared by hardware
        // with and without, e.g., a per-column register file); their spatial loops move to the next level down.
        var onPath = new List<(int Index, TemplateLevel Spec)>();
        foreach (var lv in Levels)
        {
            int l = path.IndexOf(lv.Level);
            if (l >= 0) onPath.Add((l, lv));
            else if (lv.Temporal.Length > 0)
                throw new InputException(lv.Location ?? Location, $"mappings.{Name}.level",
                    $"level '{lv.Level}' is not on the path to {path.Compute.Name} ({string.Join(", ", path.Levels.Select(x => x.Name))})");
        }
        // A spatial loop goes to the level it is written at if that level fans out along the axis, else to the
        // nearest level below that does: the same template then serves arrays whose X and Y fan-outs sit at
        // different levels.
        var spatialX = new List<TemplateLoop>[path.LevelCount];
        var spatialY = new List<TemplateLoop>[path.LevelCount];
        for (int l = 0; l < path.LevelCount; l++) { spatialX[l] = []; spatialY[l] = []; }
        int Target(int from, Func<int, int> fanout)
        {
            for (int l = Math.Max(0, from); l < path.LevelCount; l++)
                if (fanout(l) > 1) return l;
            return Math.Max(0, from);
        }
        foreach (var lv in Levels)
        {
            int l = path.IndexOf(lv.Level);
            if (l < 0)
            {
                // Absent level: its spatial loops go to the first level of the path below the template's previous level.
                int idx = Levels.IndexOf(lv);
                l = idx > 0 ? path.IndexOf(Levels[idx - 1].Level) + 1 : 0;
            }
            spatialX[Target(l, path.FanoutX)].AddRange(lv.SpatialX);
            spatialY[Target(l, path.FanoutY)].AddRange(lv.SpatialY);
        }

        for (int l = path.LevelCount - 1; l >= 0; l--)
        {
            var lv = onPath.Where(o => o.Index == l).Select(o => o.Spec).FirstOrDefault();
            var x = Spatial(spatialX[l], path.FanoutX(l), "spatial_x");
            var y = Spatial(spatialY[l], path.FanoutY(l), "spatial_y");
            var t = new List<LoopFactor>();
            var temporal = lv?.Temporal ?? [];
            for (int k = temporal.Length - 1; k >= 0; k--)
            {
                var loop = temporal[k];
                int d = shape.DimIndex(loop.Dim);
                if (d < 0) continue;
                long factor;
                if (loop.Extent is null) factor = remaining[d];
                else
                {
                    var extent = Value(loop.Extent, lv!.Level, "temporal");
                    factor = LargestDivisorAtMost(remaining[d], Math.Max(1, (long)Math.Floor(extent / below[d] + 1e-9)));
                }
                remaining[d] /= factor;
                below[d] *= factor;
                if (factor > 1) t.Insert(0, new LoopFactor(loop.Dim, factor));
            }
            if (lv is not null || x.Count > 0 || y.Count > 0 || t.Count > 0) perLevel[l] = (t, x, y, lv!);
        }

        // Whatever the template never placed runs at the outermost level, outside its listed loops.
        var outer = perLevel.TryGetValue(0, out var top) ? top : (new List<LoopFactor>(), new List<LoopFactor>(), new List<LoopFactor>(), null!);
        var leftovers = new List<LoopFactor>();
        for (int d = 0; d < D; d++)
            if (remaining[d] > 1)
            {
                var existing = outer.T.FindIndex(f => f.Dim == shape.Dims[d].Name);
                if (existing >= 0) outer.T[existing] = outer.T[existing] with { Factor = outer.T[existing].Factor * remaining[d] };
                else leftovers.Add(new LoopFactor(shape.Dims[d].Name, remaining[d]));
                remaining[d] = 1;
            }
        outer.T.InsertRange(0, leftovers);
        perLevel[0] = outer;

        var levels = ImmutableArray.CreateBuilder<LevelMapping>();
        for (int l = 0; l < path.LevelCount; l++)
        {
            if (!perLevel.TryGetValue(l, out var m))
            {
                levels.Add(LevelMapping.Empty(path.Levels[l].Name));
                continue;
            }
            ImmutableArray<string>? keep = null, bypass = null;
            if (m.Spec is { } spec && l > 0)
            {
                if (spec.Keep is { } k) keep = DataSpaces(problem, k, expandKeep);
                if (spec.Bypass is { } b) bypass = DataSpaces(problem, b, expandKeep);
            }
            levels.Add(new LevelMapping(path.Levels[l].Name, m.T.ToImmutableArray(), m.X.ToImmutableArray(), m.Y.ToImmutableArray(),
                keep, bypass, m.Spec?.Location));
        }
        return new AccelSim.Mapping.Mapping(levels.ToImmutable(), path.Compute.Name);

        List<LoopFactor> Spatial(List<TemplateLoop> loops, int fanout, string field)
        {
            var result = new List<LoopFactor>();
            long avail = fanout;
            foreach (var loop in loops)
            {
                int d = shape.DimIndex(loop.Dim);
                if (d < 0) continue;
                long want = loop.Extent is null ? avail : Math.Max(1, (long)Math.Floor(Value(loop.Extent, "?", field) + 1e-9));
                long factor = LargestDivisorAtMost(remaining[d], Math.Min(want, avail));
                if (factor <= 1) continue;
                avail /= factor;
                remaining[d] /= factor;
                below[d] *= factor;
                result.Add(new LoopFactor(loop.Dim, factor));
            }
            return result;
        }

        double Value(SymbolExpression e, string level, string field)
        {
            var v = e.Evaluate(symbols, Location, $"mappings.{Name}.{level}.{field}");
            if (!(v >= 1)) throw new InputException(Location, $"mappings.{Name}.{level}.{field}",
                $"'{e.Text}' evaluates to {Invariant.Num(v)}; a tile extent or factor must be >= 1");
            return v;
        }
    }

    private static ImmutableArray<string> DataSpaces(EinsumProblem problem, ImmutableArray<string> tokens, Func<string, IEnumerable<string>> expand)
    {
        var tensors = new HashSet<string>(tokens.SelectMany(expand), StringComparer.Ordinal);
        return problem.Tensors.Where(t => tensors.Contains(t.Tensor)).Select(t => t.DataSpace).ToImmutableArray();
    }

    /// <summary>The largest divisor of <paramref name="n"/> that is at most <paramref name="limit"/> (at least 1).</summary>
    public static long LargestDivisorAtMost(long n, long limit)
    {
        if (limit >= n) return n;
        if (limit <= 1) return 1;
        // Powers of two (the common case) divide quickly; otherwise scan down from the limit or up to sqrt(n).
        if ((n & (n - 1)) == 0)
        {
            long p = 1;
            while (p * 2 <= limit) p *= 2;
            return p;
        }
        long best = 1;
        for (long i = 1; i * i <= n; i++)
        {
            if (n % i != 0) continue;
            if (i <= limit && i > best) best = i;
            var j = n / i;
            if (j <= limit && j > best) best = j;
        }
        return best;
    }
}
