using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;

namespace AccelSim.Mapping;

/// <summary>
/// A mapping as flat arrays, the form the analytical model evaluates without allocating (and the form a mapper
/// mutates). Levels are indexed outermost first (0 = backing store) along one <see cref="ArchPath"/>; dimensions
/// follow the problem's order. Arrays are public so a search can fill them in place.
/// </summary>
public sealed class CompactMapping
{
    public CompactMapping(int levels, int dims)
    {
        if (dims > 30) throw new ArgumentOutOfRangeException(nameof(dims), "at most 30 dimensions");
        Levels = levels;
        Dims = dims;
        Temporal = new int[levels * dims];
        SpatialX = new int[levels * dims];
        SpatialY = new int[levels * dims];
        Order = new int[levels * dims];
        KeepMask = new int[levels];
        Reset();
    }

    public int Levels { get; }
    public int Dims { get; }

    /// <summary>Temporal loop bound of dimension d at level l: <c>Temporal[l * Dims + d]</c>.</summary>
    public int[] Temporal { get; }

    /// <summary>Spatial fan-out factors below level l along mesh X / Y: <c>SpatialX[l * Dims + d]</c>.</summary>
    public int[] SpatialX { get; }
    public int[] SpatialY { get; }

    /// <summary>Loop order at level l, outermost first: <c>Order[l * Dims + k]</c> is the k-th loop's dimension.</summary>
    public int[] Order { get; }

    /// <summary>Bit t set when level l keeps tensor t.</summary>
    public int[] KeepMask { get; }

    public void Reset()
    {
        Array.Fill(Temporal, 1);
        Array.Fill(SpatialX, 1);
        Array.Fill(SpatialY, 1);
        Array.Fill(KeepMask, -1);
        for (int l = 0; l < Levels; l++)
            for (int d = 0; d < Dims; d++) Order[l * Dims + d] = d;
    }

    public void CopyFrom(CompactMapping other)
    {
        if (other.Levels != Levels || other.Dims != Dims) throw new ArgumentException("shape mismatch", nameof(other));
        other.Temporal.CopyTo(Temporal, 0);
        other.SpatialX.CopyTo(SpatialX, 0);
        other.SpatialY.CopyTo(SpatialY, 0);
        other.Order.CopyTo(Order, 0);
        other.KeepMask.CopyTo(KeepMask, 0);
    }

    public CompactMapping Clone()
    {
        var c = new CompactMapping(Levels, Dims);
        c.CopyFrom(this);
        return c;
    }

    /// <summary>The friendly form: loops with factor 1 are left out, keep lists are explicit.</summary>
    public Mapping ToMapping(ArchPath path, ProblemShape problem)
    {
        var levels = ImmutableArray.CreateBuilder<LevelMapping>();
        for (int l = 0; l < Levels; l++)
        {
            var t = ImmutableArray.CreateBuilder<LoopFactor>();
            for (int k = 0; k < Dims; k++)
            {
                var d = Order[l * Dims + k];
                if (Temporal[l * Dims + d] > 1) t.Add(new LoopFactor(problem.Dims[d].Name, Temporal[l * Dims + d]));
            }
            ImmutableArray<LoopFactor> S(int[] a) => Enumerable.Range(0, Dims).Where(d => a[l * Dims + d] > 1)
                .Select(d => new LoopFactor(problem.Dims[d].Name, a[l * Dims + d])).ToImmutableArray();
            var keep = Enumerable.Range(0, problem.Tensors.Length).Where(i => (KeepMask[l] & (1 << i)) != 0)
                .Select(i => problem.Tensors[i].Name).ToImmutableArray();
            levels.Add(new LevelMapping(path.Levels[l].Name, t.ToImmutable(), S(SpatialX), S(SpatialY), keep));
        }
        return new Mapping(levels.ToImmutable(), path.Compute.Name);
    }

    /// <summary>
    /// Compiles a mapping against an architecture path and a problem, checking names, factor products and fan-outs.
    /// Every problem is reported as an <see cref="InputException"/> naming the mapping file, line and field.
    /// </summary>
    public static CompactMapping From(Mapping mapping, ArchPath path, ProblemShape problem)
    {
        int L = path.LevelCount, D = problem.Dims.Length, T = problem.Tensors.Length;
        if (T > 30) throw new InputException(null, "tensors", "at most 30 tensors are supported");
        var cm = new CompactMapping(L, D);
        SourceLocation? fileLoc = mapping.File is null ? null : SourceLocation.FileOnly(mapping.File);
        var levelNames = string.Join(", ", path.Levels.Select(x => x.Name));
        for (int i = 0; i < mapping.Levels.Length; i++)
        {
            var lm = mapping.Levels[i];
            var loc = lm.Location ?? fileLoc;
            var field = $"mapping.levels[{i}]";
            var l = path.IndexOf(lm.Level);
            if (l < 0)
                throw new InputException(loc, field + ".level",
                    $"unknown level '{lm.Level}'{Suggest.DidYouMean(lm.Level, path.Levels.Select(x => x.Name))} (levels on the path to {path.Compute.Name}: {levelNames})");
            void Fill(ImmutableArray<LoopFactor> loops, int[] target, string what, bool ordered)
            {
                var seen = new HashSet<int>();
                int k = 0;
                foreach (var f in loops)
                {
                    var d = problem.DimIndex(f.Dim);
                    if (d < 0) throw new InputException(loc, $"{field}.{what}", $"unknown dimension '{f.Dim}'{Suggest.DidYouMean(f.Dim, problem.Dims.Select(x => x.Name))} (dims: {string.Join(", ", problem.Dims.Select(x => x.Name))})");
                    if (!seen.Add(d)) throw new InputException(loc, $"{field}.{what}", $"dimension '{f.Dim}' appears twice");
                    if (f.Factor <= 0 || f.Factor > int.MaxValue) throw new InputException(loc, $"{field}.{what}", $"factor of {f.Dim} must be a positive integer, found {f.Factor}");
                    target[l * D + d] = (int)f.Factor;
                    if (ordered) cm.Order[l * D + k++] = d;
                }
                if (ordered)
                    for (int d = 0; d < D; d++)
                        if (!seen.Contains(d)) cm.Order[l * D + k++] = d;
            }
            Fill(lm.Temporal, cm.Temporal, "temporal", true);
            Fill(lm.SpatialX, cm.SpatialX, "spatial_x", false);
            Fill(lm.SpatialY, cm.SpatialY, "spatial_y", false);
            long px = 1, py = 1;
            for (int d = 0; d < D; d++) { px *= cm.SpatialX[l * D + d]; py *= cm.SpatialY[l * D + d]; }
            if (px > path.FanoutX(l))
                throw new InputException(loc, field + ".spatial_x", $"spatial factors multiply to {px} but {lm.Level} fans out to {path.FanoutX(l)} along mesh X");
            if (py > path.FanoutY(l))
                throw new InputException(loc, field + ".spatial_y", $"spatial factors multiply to {py} but {lm.Level} fans out to {path.FanoutY(l)} along mesh Y");
            int allowed = AllowedMask(path.Levels[l], problem);
            int mask = allowed;
            if (lm.Keep is { } keep)
            {
                mask = 0;
                foreach (var name in keep)
                {
                    var ti = problem.TensorIndex(name);
                    if (ti < 0) throw new InputException(loc, field + ".keep", $"unknown tensor '{name}'{Suggest.DidYouMean(name, problem.Tensors.Select(x => x.Name))} (tensors: {string.Join(", ", problem.Tensors.Select(x => x.Name))})");
                    if ((allowed & (1 << ti)) == 0) throw new InputException(loc, field + ".keep", $"level {lm.Level} may not hold tensor '{name}'");
                    mask |= 1 << ti;
                }
            }
            if (lm.Bypass is { } bypass)
                foreach (var name in bypass)
                {
                    var ti = problem.TensorIndex(name);
                    if (ti < 0) throw new InputException(loc, field + ".bypass", $"unknown tensor '{name}'{Suggest.DidYouMean(name, problem.Tensors.Select(x => x.Name))} (tensors: {string.Join(", ", problem.Tensors.Select(x => x.Name))})");
                    mask &= ~(1 << ti);
                }
            if (l == 0 && mask != (1 << T) - 1)
                throw new InputException(loc, field, $"the backing store {lm.Level} must keep every tensor");
            cm.KeepMask[l] = mask;
        }
        for (int l = 0; l < L; l++)
            if (mapping.For(path.Levels[l].Name) is null) cm.KeepMask[l] = l == 0 ? (1 << T) - 1 : AllowedMask(path.Levels[l], problem);
        for (int d = 0; d < D; d++)
        {
            long product = 1;
            for (int l = 0; l < L; l++) product *= (long)cm.Temporal[l * D + d] * cm.SpatialX[l * D + d] * cm.SpatialY[l * D + d];
            if (product != problem.Dims[d].Size)
            {
                var where = mapping.Levels.FirstOrDefault(x => x.Temporal.Concat(x.SpatialX).Concat(x.SpatialY).Any(f => f.Dim == problem.Dims[d].Name));
                var i = where is null ? -1 : mapping.Levels.IndexOf(where);
                throw new InputException(where?.Location ?? fileLoc, i >= 0 ? $"mapping.levels[{i}].{problem.Dims[d].Name}" : "mapping." + problem.Dims[d].Name,
                    $"factors of {problem.Dims[d].Name} multiply to {product} but the problem has {problem.Dims[d].Name} = {problem.Dims[d].Size}");
            }
        }
        return cm;
    }

    public static int AllowedMask(StorageLevel level, ProblemShape problem)
    {
        int mask = 0;
        for (int t = 0; t < problem.Tensors.Length; t++)
            if (level.MayHoldTensor(problem.Tensors[t].Name)) mask |= 1 << t;
        return mask;
    }
}
