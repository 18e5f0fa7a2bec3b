using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;

namespace AccelSim.Mapping.MapSpaces;

/// <summary>
/// The map-space of one Einsum on one architecture path, with the user's constraints compiled in:
/// * tilings: for every dimension, every exact factorisation of its size over the loop slots (per level: temporal,
///   fan-out along mesh X, fan-out along mesh Y), each slot bounded by its fan-out and the constraints;
/// * keep/bypass: per level, the tensors it may keep (level 0, the backing store, keeps everything);
/// * loop orders: per level, the orders of its loops of factor &gt; 1 that satisfy the order constraints, up to exact
///   equivalence (see <see cref="OrderSignature"/>): orders that cannot change any count are one class.
/// Immutable after construction and thread-safe; per-thread scratch lives in <see cref="OrderCache"/>.
/// Imperfect factorisation (padding a rank to a multiple of its tile) is not part of the space: the model prices exact
/// tilings only.
/// </summary>
public sealed class MapSpace
{
    public const int SlotsPerLevel = 3;
    public const int SlotTemporal = 0, SlotX = 1, SlotY = 2;
    /// <summary>Largest number of loops at one level whose orders are enumerated (8! = 40,320 permutations).</summary>
    public const int MaxEnumeratedLoops = 8;

    public ArchPath Path { get; }
    public ProblemShape Problem { get; }
    public MapSpaceConstraints Constraints { get; }
    public int Levels { get; }
    public int Dims { get; }
    public int Tensors { get; }
    /// <summary>Loop slots: <c>level * 3 + {0 temporal, 1 mesh X, 2 mesh Y}</c>.</summary>
    public int Slots { get; }

    private readonly long[] _fixed, _min, _max;          // [d * Slots + s]; _fixed 0 = free
    private readonly long[] _spFixed, _spMin, _spMax;    // [d * Levels + l]: the fan-out's X*Y product
    private readonly int[] _fanX, _fanY;
    private readonly int[][] _keepOptions;
    private readonly int[] _keepBase, _keepAllowed;
    private readonly ResolvedPattern[][][] _orderRules;  // [l][directive][alternative]
    private readonly long[] _factorizationCount;
    private readonly Lazy<int[]>[] _factorizations;
    private readonly int[][] _primes;

    /// <summary>Bit d set when dimension d indexes tensor t.</summary>
    public ImmutableArray<int> RelevantDims { get; }
    /// <summary>True when some rank of the tensor is indexed by two or more dimensions (a sliding window).</summary>
    public ImmutableArray<bool> Sliding { get; }
    public int ComputeInstances { get; }
    /// <summary>Busy compute units a mapping needs (from the minimum-utilisation constraint; 1 without one).</summary>
    public long MinBusyUnits { get; }
    public double MinUtilization { get; }

    private readonly List<MapDirective>[] _byLevel;
    private readonly List<MapDirective>[] _byDim;

    private sealed record ResolvedPattern(int[] Outer, bool Wildcard, int[] Inner);

    public MapSpace(ArchPath path, ProblemShape problem, MapSpaceConstraints? constraints = null)
    {
        Path = path;
        Problem = problem;
        Constraints = constraints ?? MapSpaceConstraints.None;
        int L = Levels = path.LevelCount, D = Dims = problem.Dims.Length, T = Tensors = problem.Tensors.Length;
        if (D > 30 || T > 30) throw new InputException(null, "problem", "at most 30 dimensions and 30 tensors are supported");
        int S = Slots = L * SlotsPerLevel;
        _fixed = new long[D * S];
        _min = new long[D * S];
        _max = new long[D * S];
        _spFixed = new long[D * L];
        _spMin = new long[D * L];
        _spMax = new long[D * L];
        _fanX = new int[L];
        _fanY = new int[L];
        _byLevel = Enumerable.Range(0, L).Select(_ => new List<MapDirective>()).ToArray();
        _byDim = Enumerable.Range(0, D).Select(_ => new List<MapDirective>()).ToArray();
        for (int l = 0; l < L; l++)
        {
            _fanX[l] = path.FanoutX(l);
            _fanY[l] = path.FanoutY(l);
            for (int d = 0; d < D; d++)
            {
                _min[d * S + l * 3 + SlotTemporal] = _min[d * S + l * 3 + SlotX] = _min[d * S + l * 3 + SlotY] = 1;
                _max[d * S + l * 3 + SlotTemporal] = long.MaxValue;
                _max[d * S + l * 3 + SlotX] = _fanX[l];
                _max[d * S + l * 3 + SlotY] = _fanY[l];
                _spMin[d * L + l] = 1;
                _spMax[d * L + l] = long.MaxValue;
            }
        }
        ComputeInstances = path.Compute.Instances;
        var relevant = new int[T];
        var sliding = new bool[T];
        for (int t = 0; t < T; t++)
            foreach (var rank in problem.Tensors[t].Ranks)
            {
                int inRank = 0;
                foreach (var term in rank.Terms)
                    if (term.Coefficient != 0)
                    {
                        relevant[t] |= 1 << term.Dim;
                        inRank++;
                    }
                if (inRank > 1) sliding[t] = true;
            }
        RelevantDims = relevant.ToImmutableArray();
        Sliding = sliding.ToImmutableArray();

        // Keep/bypass.
        _keepAllowed = new int[L];
        _keepBase = new int[L];
        var mustKeep = new int[L];
        var mustBypass = new int[L];
        for (int l = 0; l < L; l++) _keepAllowed[l] = CompactMapping.AllowedMask(path.Levels[l], problem);
        var orderRules = Enumerable.Range(0, L).Select(_ => new List<ResolvedPattern[]>()).ToArray();
        double minUtil = 0;
        var levelNames = string.Join(", ", path.Levels.Select(x => x.Name));

        foreach (var dir in Constraints.Directives)
        {
            if (dir is MinUtilizationDirective mu)
            {
                minUtil = Math.Max(minUtil, mu.Fraction);
                continue;
            }
            int l = path.IndexOf(dir.Level);
            if (l < 0) throw dir.Error($"unknown level '{dir.Level}'{Suggest.DidYouMean(dir.Level, path.Levels.Select(x => x.Name))} (levels on the path to {path.Compute.Name}: {levelNames})");
            _byLevel[l].Add(dir);
            switch (dir)
            {
                case FactorDirective f:
                {
                    int d = problem.DimIndex(f.Dim);
                    _byDim[d].Add(dir);
                    ApplyFactor(f, l, d);
                    break;
                }
                case AxisDirective a:
                {
                    int d = problem.DimIndex(a.Dim);
                    _byDim[d].Add(dir);
                    // The other axis gets factor 1.
                    var other = d * S + l * 3 + (a.Axis == MeshAxis.X ? SlotY : SlotX);
                    _max[other] = 1;
                    break;
                }
                case SpatialRanksDirective sr:
                {
                    var allowed = sr.Dims.Select(problem.DimIndex).ToHashSet();
                    for (int d = 0; d < D; d++)
                        if (!allowed.Contains(d))
                        {
                            _max[d * S + l * 3 + (sr.Axis == MeshAxis.X ? SlotX : SlotY)] = 1;
                            _byDim[d].Add(dir);
                        }
                    break;
                }
                case OrderDirective o:
                    orderRules[l].Add(o.Alternatives.Select(p => new ResolvedPattern(
                        p.Outer.Select(problem.DimIndex).ToArray(), p.Wildcard, p.Inner.Select(problem.DimIndex).ToArray())).ToArray());
                    break;
                case KeepDirective k:
                {
                    int t = problem.TensorIndex(k.Tensor);
                    int bit = 1 << t;
                    if (k.Keep)
                    {
                        if ((mustBypass[l] & bit) != 0) throw dir.Error($"{dir.Level} both keeps and bypasses {k.Tensor}");
                        if ((_keepAllowed[l] & bit) == 0) throw dir.Error($"level {dir.Level} may not hold tensor '{k.Tensor}'");
                        mustKeep[l] |= bit;
                    }
                    else
                    {
                        if ((mustKeep[l] & bit) != 0) throw dir.Error($"{dir.Level} both keeps and bypasses {k.Tensor}");
                        if (l == 0) throw dir.Error($"the backing store {dir.Level} must keep every tensor; it cannot bypass {k.Tensor}");
                        mustBypass[l] |= bit;
                    }
                    break;
                }
            }
        }
        MinUtilization = minUtil;
        MinBusyUnits = Math.Max(1, (long)Math.Ceiling(minUtil * ComputeInstances - 1e-9));
        _orderRules = orderRules.Select(x => x.ToArray()).ToArray();

        int all = (1 << T) - 1;
        _keepOptions = new int[L][];
        for (int l = 0; l < L; l++)
        {
            if (l == 0)
            {
                if ((_keepAllowed[0] & all) != all)
                    throw new InputException(path.Levels[0].Location, $"storage.{path.Levels[0].Name}.may_hold", "the backing store must be able to hold every tensor");
                _keepBase[0] = all;
                _keepOptions[0] = new[] { all };
                continue;
            }
            int free = _keepAllowed[l] & ~mustKeep[l] & ~mustBypass[l] & all;
            _keepBase[l] = mustKeep[l];
            var options = new List<int>();
            // Enumerate subsets of the free bits (ascending).
            for (int sub = 0; ; sub = (sub - free) & free)
            {
                options.Add(_keepBase[l] | sub);
                if (sub == free) break;
            }
            options.Sort();
            _keepOptions[l] = options.ToArray();
        }

        // Factorisations.
        _primes = problem.Dims.Select(d => Factoring.PrimeFactors(d.Size)).ToArray();
        _factorizationCount = new long[D];
        _factorizations = new Lazy<int[]>[D];
        for (int d = 0; d < D; d++)
        {
            CheckFixedProducts(d);
            _factorizationCount[d] = CountFactorizations(d);
            if (_factorizationCount[d] == 0) throw EmptyDimension(d);
            int dd = d;
            _factorizations[d] = new Lazy<int[]>(() => EnumerateFactorizations(dd), LazyThreadSafetyMode.ExecutionAndPublication);
        }
        if (MinBusyUnits > MaxSpatialProduct())
            throw FirstOf<MinUtilizationDirective>()?.Error(
                      $"no mapping can keep {Invariant.Grouped(MinBusyUnits)} of {Invariant.Grouped(ComputeInstances)} compute units busy " +
                      $"(min utilisation {Invariant.Num(MinUtilization)}); the fan-outs and dimension sizes allow at most {Invariant.Grouped(MaxSpatialProduct())}")
                  ?? new InputException("minimum utilisation cannot be reached");
    }

    private T? FirstOf<T>() where T : MapDirective => Constraints.Directives.OfType<T>().FirstOrDefault();

    private void ApplyFactor(FactorDirective f, int l, int d)
    {
        int S = Slots;
        long size = Problem.Dims[d].Size;
        if (f.Kind == FactorKind.Rest) return; // "whatever remains" is what a free slot takes in an exact factorisation
        if (f.Slot == FactorSlot.Spatial)
        {
            int i = d * Levels + l;
            switch (f.Kind)
            {
                case FactorKind.Fixed:
                    if (_spFixed[i] != 0 && _spFixed[i] != f.Value) throw f.Error($"{f.Dim} at {f.Level} is fixed twice ({_spFixed[i]} and {f.Value})");
                    if (size % f.Value != 0) throw f.Error($"{f.Dim}={f.Value} does not divide {f.Dim} = {size}");
                    if (f.Value > (long)_fanX[l] * _fanY[l]) throw f.Error($"{f.Dim}={f.Value} exceeds the fan-out below {f.Level} ({_fanX[l]}x{_fanY[l]})");
                    _spFixed[i] = f.Value;
                    break;
                case FactorKind.Max: _spMax[i] = Math.Min(_spMax[i], f.Value); break;
                case FactorKind.Min: _spMin[i] = Math.Max(_spMin[i], f.Value); break;
            }
            // Neither axis can exceed the bound on their product.
            long bound = _spFixed[i] != 0 ? _spFixed[i] : _spMax[i];
            _max[d * S + l * 3 + SlotX] = Math.Min(_max[d * S + l * 3 + SlotX], bound);
            _max[d * S + l * 3 + SlotY] = Math.Min(_max[d * S + l * 3 + SlotY], bound);
            return;
        }
        int slot = f.Slot switch { FactorSlot.Temporal => SlotTemporal, FactorSlot.SpatialX => SlotX, _ => SlotY };
        int k = d * S + l * 3 + slot;
        switch (f.Kind)
        {
            case FactorKind.Fixed:
                if (_fixed[k] != 0 && _fixed[k] != f.Value) throw f.Error($"{f.Dim} at {f.Level} is fixed twice ({_fixed[k]} and {f.Value})");
                if (size % f.Value != 0) throw f.Error($"{f.Dim}={f.Value} does not divide {f.Dim} = {size}");
                if (slot != SlotTemporal && f.Value > _max[k])
                    throw f.Error($"{f.Dim}={f.Value} exceeds the fan-out below {f.Level} along mesh {(slot == SlotX ? "X" : "Y")} ({(slot == SlotX ? _fanX[l] : _fanY[l])})");
                _fixed[k] = f.Value;
                break;
            case FactorKind.Max: _max[k] = Math.Min(_max[k], f.Value); break;
            case FactorKind.Min: _min[k] = Math.Max(_min[k], f.Value); break;
        }
    }

    /// <summary>Fixed factors of one dimension must multiply to a divisor of its size.</summary>
    private void CheckFixedProducts(int d)
    {
        long size = Problem.Dims[d].Size;
        long product = 1;
        FactorDirective? last = null;
        foreach (var dir in _byDim[d].OfType<FactorDirective>().Where(f => f.Kind == FactorKind.Fixed))
        {
            product *= dir.Value;
            last = dir;
            if (product > size || size % product != 0)
                throw dir.Error($"the fixed factors of {Problem.Dims[d].Name} multiply to {product}, which does not divide {Problem.Dims[d].Name} = {size}");
        }
        _ = last;
    }

    private InputException EmptyDimension(int d)
    {
        var name = Problem.Dims[d].Name;
        var dirs = _byDim[d];
        var where = string.Join("; ", dirs.Take(4).Select(x => x.Location is { } loc ? $"{x.Field} at {loc}" : x.Field));
        var first = dirs.FirstOrDefault();
        var problem = $"no factorisation of {name} = {Problem.Dims[d].Size} satisfies its constraints" +
                      (dirs.Count > 0 ? $" ({where})" : " and the fan-outs");
        return first is not null ? first.Error(problem) : new InputException(null, "constraints." + name, problem);
    }

    // ---- tilings ----

    public int FanoutX(int level) => _fanX[level];
    public int FanoutY(int level) => _fanY[level];
    public int KeepAllowed(int level) => _keepAllowed[level];
    public int KeepBase(int level) => _keepBase[level];
    public IReadOnlyList<int> KeepOptions(int level) => _keepOptions[level];
    public IReadOnlyList<int> PrimeFactors(int dim) => _primes[dim];
    public long FactorizationCount(int dim) => _factorizationCount[dim];

    /// <summary>Fixed factor of a slot (0 when free).</summary>
    public long FixedFactor(int dim, int slot) => _fixed[dim * Slots + slot];
    public long MaxFactor(int dim, int slot) => _fixed[dim * Slots + slot] != 0 ? _fixed[dim * Slots + slot] : _max[dim * Slots + slot];

    /// <summary>Whether a slot may take a factor other than its current one (not fixed and its bound exceeds 1).</summary>
    public bool IsFreeSlot(int dim, int slot) => _fixed[dim * Slots + slot] == 0 && _max[dim * Slots + slot] > 1;

    /// <summary>Number of tilings ignoring capacity and cross-dimension fan-out limits (a double: it may be huge).</summary>
    public double TilingCount => _factorizationCount.Aggregate(1.0, (a, b) => a * b);

    public double KeepCount => _keepOptions.Aggregate(1.0, (a, o) => a * o.Length);

    /// <summary>Every factorisation of a dimension, flattened with stride <see cref="Slots"/> (built on first use).</summary>
    public int[] Factorizations(int dim) => _factorizations[dim].Value;

    /// <summary>Whether slot values for one dimension satisfy its per-slot and per-fan-out constraints.</summary>
    public bool SlotOk(int d, int slot, long value)
    {
        int k = d * Slots + slot;
        if (_fixed[k] != 0) return value == _fixed[k];
        return value >= _min[k] && value <= _max[k];
    }

    private bool SpatialGroupOk(int d, int l, long xy)
    {
        int i = d * Levels + l;
        if (_spFixed[i] != 0) return xy == _spFixed[i];
        return xy >= _spMin[i] && xy <= _spMax[i];
    }

    /// <summary>Whether one dimension's factors (in a mapping) satisfy every constraint on that dimension.</summary>
    public bool DimensionOk(CompactMapping m, int d)
    {
        int D = Dims;
        long product = 1;
        for (int l = 0; l < Levels; l++)
        {
            long t = m.Temporal[l * D + d], x = m.SpatialX[l * D + d], y = m.SpatialY[l * D + d];
            if (!SlotOk(d, l * 3 + SlotTemporal, t) || !SlotOk(d, l * 3 + SlotX, x) || !SlotOk(d, l * 3 + SlotY, y) || !SpatialGroupOk(d, l, x * y))
                return false;
            product *= t * x * y;
        }
        return product == Problem.Dims[d].Size;
    }

    private long CountFactorizations(int d)
    {
        var memo = new Dictionary<(int, long), long>();
        long Count(int l, long n)
        {
            if (l == Levels) return n == 1 ? 1 : 0;
            if (memo.TryGetValue((l, n), out var c)) return c;
            long total = 0;
            ForEachLevelChoice(d, l, n, (t, x, y) => total = checked(total + Count(l + 1, n / (t * x * y))));
            memo[(l, n)] = total;
            return total;
        }
        try { return Count(0, Problem.Dims[d].Size); }
        catch (OverflowException) { return long.MaxValue; }
    }

    /// <summary>Calls back every (temporal, X, Y) factor triple of dimension d at level l that divides n and is allowed.</summary>
    private void ForEachLevelChoice(int d, int l, long n, Action<long, long, long> action)
    {
        bool last = l == Levels - 1;
        foreach (var t in Factoring.Divisors(n))
        {
            if (!SlotOk(d, l * 3 + SlotTemporal, t)) continue;
            long r1 = n / t;
            foreach (var x in Factoring.Divisors(r1))
            {
                if (!SlotOk(d, l * 3 + SlotX, x)) continue;
                long r2 = r1 / x;
                if (last)
                {
                    // The innermost level takes the rest.
                    if (SlotOk(d, l * 3 + SlotY, r2) && SpatialGroupOk(d, l, x * r2)) action(t, x, r2);
                    continue;
                }
                foreach (var y in Factoring.Divisors(r2))
                    if (SlotOk(d, l * 3 + SlotY, y) && SpatialGroupOk(d, l, x * y)) action(t, x, y);
            }
        }
    }

    private int[] EnumerateFactorizations(int d)
    {
        long count = _factorizationCount[d];
        if (count > 4_000_000)
            throw new InputException(null, "map-space",
                $"{Problem.Dims[d].Name} = {Problem.Dims[d].Size} has {Invariant.Grouped(count)} factorisations over the loop slots: too many to enumerate; " +
                "constrain it (fixed factors, spatial ranks) or use --search guided/random");
        var result = new int[count * Slots];
        var cur = new int[Slots];
        int k = 0;
        void Rec(int l, long n)
        {
            if (l == Levels)
            {
                if (n != 1) return;
                cur.CopyTo(result, k * Slots);
                k++;
                return;
            }
            ForEachLevelChoice(d, l, n, (t, x, y) =>
            {
                cur[l * 3 + SlotTemporal] = (int)t;
                cur[l * 3 + SlotX] = (int)x;
                cur[l * 3 + SlotY] = (int)y;
                Rec(l + 1, n / (t * x * y));
            });
        }
        Rec(0, Problem.Dims[d].Size);
        return result;
    }

    /// <summary>Writes factorisation <paramref name="index"/> of dimension d into the mapping.</summary>
    public void ApplyFactorization(CompactMapping m, int d, int index)
    {
        var f = Factorizations(d);
        int o = index * Slots, D = Dims;
        for (int l = 0; l < Levels; l++)
        {
            m.Temporal[l * D + d] = f[o + l * 3 + SlotTemporal];
            m.SpatialX[l * D + d] = f[o + l * 3 + SlotX];
            m.SpatialY[l * D + d] = f[o + l * 3 + SlotY];
        }
    }

    /// <summary>Fan-out products per level and the minimum-utilisation bound (cheap; the model checks capacity).</summary>
    public bool SpatialOk(CompactMapping m)
    {
        int D = Dims;
        long busy = 1;
        for (int l = 0; l < Levels; l++)
        {
            long px = 1, py = 1;
            for (int d = 0; d < D; d++)
            {
                px *= m.SpatialX[l * D + d];
                py *= m.SpatialY[l * D + d];
            }
            if (px > _fanX[l] || py > _fanY[l]) return false;
            busy *= px * py;
        }
        return busy >= MinBusyUnits;
    }

    /// <summary>Upper bound on busy compute units: every fan-out filled as far as the dimension sizes allow.</summary>
    private long MaxSpatialProduct()
    {
        long total = 1;
        for (int l = 0; l < Levels; l++) total *= (long)_fanX[l] * _fanY[l];
        return Math.Min(total, Problem.Points);
    }

    // ---- loop orders ----

    /// <summary>Mask of the dimensions with a temporal factor &gt; 1 at a level.</summary>
    public int NonUnitMask(CompactMapping m, int l)
    {
        int mask = 0, D = Dims;
        for (int d = 0; d < D; d++)
            if (m.Temporal[l * D + d] > 1) mask |= 1 << d;
        return mask;
    }

    /// <summary>
    /// Tensors for which the loop order at level l can matter: kept at some level below l, and (unless it is indexed
    /// through a sliding window) with no loop of its own between l and the next level that keeps it.
    /// </summary>
    public int ActiveMask(CompactMapping m, int l, ReadOnlySpan<int> nonUnit)
    {
        int active = 0;
        for (int t = 0; t < Tensors; t++)
        {
            int bit = 1 << t;
            int c = l + 1;
            while (c < Levels && (m.KeepMask[c] & bit) == 0) c++;
            if (c >= Levels) continue;
            if (!Sliding[t])
            {
                bool blocked = false;
                for (int x = l + 1; x < c && !blocked; x++)
                    if ((nonUnit[x] & RelevantDims[t]) != 0) blocked = true;
                if (blocked) continue;
            }
            active |= bit;
        }
        return active;
    }

    /// <summary>
    /// The exact invariant of a level's loop order (its non-unit loops, outermost first) with respect to the active
    /// tensors. For a tensor without sliding windows, every tile move above its child level refetches the whole tile
    /// unless only loops it does not depend on turned, so only the set of innermost loops it does not depend on
    /// matters. For any tensor, two adjacent loops it does not depend on commute. Orders with equal signatures give
    /// identical counts in the model (a property test checks this).
    /// </summary>
    public void OrderSignature(ReadOnlySpan<int> order, int activeMask, List<long> into)
    {
        into.Clear();
        for (int t = 0; t < Tensors; t++)
        {
            if ((activeMask & (1 << t)) == 0) continue;
            int rel = RelevantDims[t];
            if (!Sliding[t])
            {
                long suffix = 0;
                for (int i = order.Length - 1; i >= 0 && (rel & (1 << order[i])) == 0; i--) suffix |= 1L << order[i];
                into.Add(suffix);
            }
            else
            {
                long run = 0;
                foreach (var d in order)
                {
                    if ((rel & (1 << d)) == 0) { run |= 1L << d; continue; }
                    if (run != 0) { into.Add((1L << 40) | run); run = 0; }
                    into.Add(d);
                }
                if (run != 0) into.Add((1L << 40) | run);
            }
            into.Add(-1 - t);
        }
    }

    /// <summary>Whether a level's order (non-unit loops, outermost first) satisfies its order constraints.</summary>
    public bool OrderAllowed(int l, ReadOnlySpan<int> order, int nonUnitMask)
    {
        foreach (var alternatives in _orderRules[l])
        {
            bool any = false;
            foreach (var p in alternatives)
                if (Matches(p, order, nonUnitMask)) { any = true; break; }
            if (!any) return false;
        }
        return true;
    }

    public bool HasOrderRules(int l) => _orderRules[l].Length > 0;

    private static bool Matches(ResolvedPattern p, ReadOnlySpan<int> order, int nonUnit)
    {
        int n = order.Length;
        int i = 0;
        foreach (var d in p.Outer)
        {
            if ((nonUnit & (1 << d)) == 0) continue;
            if (i >= n || order[i] != d) return false;
            i++;
        }
        if (!p.Wildcard) return i == n;
        int j = n;
        for (int k = p.Inner.Length - 1; k >= 0; k--)
        {
            int d = p.Inner[k];
            if ((nonUnit & (1 << d)) == 0) continue;
            j--;
            if (j < i || order[j] != d) return false;
        }
        return true;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int, int), int[][]> _classCache = new();

    /// <summary><see cref="OrderClasses"/>, computed once per (level, loops, active tensors) and shared by all threads.</summary>
    public int[][] CachedOrderClasses(int l, int nonUnitMask, int activeMask) =>
        _classCache.TryGetValue((l, nonUnitMask, activeMask), out var c)
            ? c
            : _classCache.GetOrAdd((l, nonUnitMask, activeMask), k => OrderClasses(k.Item1, k.Item2, k.Item3));

    /// <summary>
    /// One representative order per equivalence class of the level's non-unit loops (outermost first) that satisfies
    /// the level's order constraints, for a level with the given non-unit loops and active tensors.
    /// </summary>
    public int[][] OrderClasses(int l, int nonUnitMask, int activeMask)
    {
        var dims = new List<int>();
        for (int d = 0; d < Dims; d++) if ((nonUnitMask & (1 << d)) != 0) dims.Add(d);
        if (dims.Count > MaxEnumeratedLoops && (activeMask != 0 || HasOrderRules(l)))
            throw new InputException(null, $"map-space.{Path.Levels[l].Name}",
                $"{dims.Count} loops at {Path.Levels[l].Name}: too many orders to enumerate; constrain the level's order or factors");
        var perm = dims.ToArray();
        var classes = new List<int[]>();
        var seen = new HashSet<long[]>(SignatureComparer.Instance);
        var sig = new List<long>();
        bool sliding = false;
        for (int t = 0; t < Tensors; t++) if ((activeMask & (1 << t)) != 0 && Sliding[t]) sliding = true;
        if (!HasOrderRules(l) && !sliding)
        {
            // Without sliding windows the class is fixed once every active tensor has met, walking outwards from the
            // innermost loop, a loop it depends on; grow orders from the inside and stop there (far fewer than n!).
            var inner = new List<int>();
            void Grow(int used, int done)
            {
                if (done == activeMask || inner.Count == perm.Length)
                {
                    var order = perm.Where(d => (used & (1 << d)) == 0).Concat(Enumerable.Reverse(inner)).ToArray();
                    OrderSignature(order, activeMask, sig);
                    if (seen.Add(sig.ToArray())) classes.Add(order);
                    return;
                }
                foreach (var d in perm)
                {
                    if ((used & (1 << d)) != 0) continue;
                    int nowDone = done;
                    for (int t = 0; t < Tensors; t++)
                        if ((activeMask & (1 << t)) != 0 && (RelevantDims[t] & (1 << d)) != 0) nowDone |= 1 << t;
                    inner.Add(d);
                    Grow(used | (1 << d), nowDone);
                    inner.RemoveAt(inner.Count - 1);
                }
            }
            Grow(0, 0);
            return classes.ToArray();
        }
        while (true)
        {
            if (OrderAllowed(l, perm, nonUnitMask))
            {
                OrderSignature(perm, activeMask, sig);
                if (seen.Add(sig.ToArray())) classes.Add((int[])perm.Clone());
                if (activeMask == 0) break; // nothing can tell orders apart: the first allowed one represents all
            }
            if (!NextPermutation(perm)) break;
        }
        return classes.ToArray();
    }

    private sealed class SignatureComparer : IEqualityComparer<long[]>
    {
        public static readonly SignatureComparer Instance = new();
        public bool Equals(long[]? a, long[]? b) => a.AsSpan().SequenceEqual(b);
        public int GetHashCode(long[] a)
        {
            var h = new HashCode();
            foreach (var x in a) h.Add(x);
            return h.ToHashCode();
        }
    }

    private static bool NextPermutation(int[] a)
    {
        int i = a.Length - 2;
        while (i >= 0 && a[i] >= a[i + 1]) i--;
        if (i < 0) return false;
        int j = a.Length - 1;
        while (a[j] <= a[i]) j--;
        (a[i], a[j]) = (a[j], a[i]);
        Array.Reverse(a, i + 1, a.Length - i - 1);
        return true;
    }

    /// <summary>Writes a level's order: the given non-unit loops, then the unit dimensions in index order.</summary>
    public void WriteOrder(CompactMapping m, int l, ReadOnlySpan<int> nonUnitOrder)
    {
        int D = Dims, o = l * D, k = 0;
        int used = 0;
        foreach (var d in nonUnitOrder)
        {
            m.Order[o + k++] = d;
            used |= 1 << d;
        }
        for (int d = 0; d < D; d++)
            if ((used & (1 << d)) == 0) m.Order[o + k++] = d;
    }

    /// <summary>The non-unit loops of a level in the mapping's order (outermost first); returns how many.</summary>
    public int ReadOrder(CompactMapping m, int l, Span<int> into)
    {
        int D = Dims, n = 0;
        for (int k = 0; k < D; k++)
        {
            int d = m.Order[l * D + k];
            if (m.Temporal[l * D + d] > 1) into[n++] = d;
        }
        return n;
    }

    /// <summary>Whether every part of a mapping lies in this space (factors, fan-outs, utilisation, keep masks, orders).</summary>
    public bool Contains(CompactMapping m)
    {
        for (int d = 0; d < Dims; d++)
            if (!DimensionOk(m, d)) return false;
        if (!SpatialOk(m)) return false;
        for (int l = 0; l < Levels; l++)
            if (Array.IndexOf(_keepOptions[l], m.KeepMask[l] & ((1 << Tensors) - 1)) < 0) return false;
        Span<int> order = stackalloc int[Dims];
        for (int l = 0; l < Levels; l++)
        {
            int n = ReadOrder(m, l, order);
            if (!OrderAllowed(l, order[..n], NonUnitMask(m, l))) return false;
        }
        return true;
    }

    /// <summary>Constraints written for a level, for diagnostics.</summary>
    public IReadOnlyList<MapDirective> DirectivesAt(int level) => _byLevel[level];

    public IReadOnlyList<MapDirective> DirectivesOn(int dim) => _byDim[dim];
}
