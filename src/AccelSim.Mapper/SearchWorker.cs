using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;

namespace AccelSim.Mapper;

/// <summary>
/// Per-thread state of a search: the model's result buffer, an order-class cache, and the best mapping of the unit
/// being run. Strategies call <see cref="Evaluate"/>; the worker prices through the model (the mapper never prices on
/// its own), counts evaluations and keeps the improvement history the engine merges deterministically.
/// </summary>
public sealed class SearchWorker
{
    private readonly SearchEngine _engine;
    private readonly List<Improvement> _history = new();
    private readonly int[] _nonUnit;
    private long _limit;
    private long _evaluations;
    private long _rejected;
    private long _pendingTicks;
    private Score _best;
    private CompactMapping? _bestMapping;
    private int _poolSize;
    private readonly List<PoolEntry> _pool = new();
    private MappingMoves? _moves;

    internal SearchWorker(SearchEngine engine, MapSpace space, ModelContext model, Objective objective)
    {
        _engine = engine;
        Space = space;
        Model = model;
        Objective = objective;
        Result = model.CreateResult();
        _nonUnit = new int[space.Levels];
    }

    public MapSpace Space { get; }
    public ModelContext Model { get; }
    public Objective Objective { get; }
    /// <summary>The model's result for the last mapping evaluated or checked.</summary>
    public EvalResult Result { get; }
    public long UnitIndex { get; private set; }
    public long Evaluations => _evaluations;
    public long Rejected => _rejected;
    public bool HasBest => _bestMapping is not null;
    public Score Best => _best;
    public CompactMapping? BestMapping => _bestMapping;

    /// <summary>True once the unit's budget is spent, the search timed out, or the unit's results can no longer count.</summary>
    public bool ShouldStop => _evaluations >= _limit || _engine.Stopping(UnitIndex);

    /// <summary>Moves and equivalence keys for this worker's mappings.</summary>
    public MappingMoves Moves => _moves ??= new MappingMoves(this);

    internal void BeginUnit(long index, long limit, int poolSize)
    {
        UnitIndex = index;
        _poolSize = poolSize;
        _pool.Clear();
        _limit = limit;
        _evaluations = 0;
        _rejected = 0;
        _best = Score.Worst;
        _bestMapping = null;
        _history.Clear();
    }

    internal UnitResult EndUnit()
    {
        Flush();
        return new UnitResult(UnitIndex, _evaluations, _rejected, _history.ToArray(), _pool.ToArray());
    }

    internal void Flush()
    {
        if (_pendingTicks > 0) _engine.AddProgress(_pendingTicks);
        _pendingTicks = 0;
    }

    /// <summary>Counts a candidate rejected before pricing (fan-out, utilisation or order constraints).</summary>
    public void Reject() => _rejected++;

    /// <summary>Capacity, fan-out and keep check only (no pricing, not counted as an evaluation).</summary>
    public bool Fits(CompactMapping m)
    {
        if (Model.CheckCapacity(m, Result)) return true;
        _rejected++;
        return false;
    }

    /// <summary>Prices a mapping with the model. Returns false (and counts a rejection) when it is invalid.</summary>
    public bool Evaluate(CompactMapping m, out Score score)
    {
        if (!Model.Evaluate(m, Result))
        {
            _rejected++;
            score = Score.Worst;
            return false;
        }
        _evaluations++;
        score = Objective.ScoreOf(Result);
        int c = Score.Compare(score, _best);
        if (c < 0 || (c == 0 && _bestMapping is not null && MappingOrder.Compare(Space, m, _bestMapping) < 0))
        {
            _best = score;
            var copy = m.Clone();
            _bestMapping = copy;
            _history.Add(new Improvement(_evaluations, score, copy));
            _engine.OfferBest(score);
        }
        if (_poolSize > 0) OfferPool(m, score);
        if (++_pendingTicks >= 256) Flush();
        return true;
    }

    private void OfferPool(CompactMapping m, in Score score)
    {
        if (_pool.Count >= _poolSize && Score.Compare(score, _pool[^1].Score) >= 0) return;
        var key = Moves.Key(m);
        foreach (var e in _pool)
            if (e.Key == key) return;
        var entry = new PoolEntry(score, key, m.Clone());
        int i = 0;
        while (i < _pool.Count && Score.Compare(_pool[i].Score, score) <= 0) i++;
        _pool.Insert(i, entry);
        if (_pool.Count > _poolSize) _pool.RemoveAt(_pool.Count - 1);
    }

    /// <summary>Order classes of level l for the mapping's tiling and keep masks (cached in the map-space).</summary>
    public int[][] OrderClasses(CompactMapping m, int l)
    {
        for (int x = 0; x < Space.Levels; x++) _nonUnit[x] = Space.NonUnitMask(m, x);
        int active = Space.ActiveMask(m, l, _nonUnit);
        return OrderClasses(l, _nonUnit[l], active);
    }

    public int[][] OrderClasses(int l, int nonUnitMask, int activeMask) => Space.CachedOrderClasses(l, nonUnitMask, activeMask);
}

/// <summary>A new best within one unit, after <see cref="EvaluationIndex"/> evaluations of that unit.</summary>
public sealed record Improvement(long EvaluationIndex, Score Score, CompactMapping Mapping);

/// <summary>What one unit of work produced.</summary>
public sealed record UnitResult(long Index, long Evaluations, long Rejected, Improvement[] History, PoolEntry[] Pool);

/// <summary>The total order used to break ties between equally good mappings (so results never depend on timing).</summary>
public static class MappingOrder
{
    public static int Compare(MapSpace space, CompactMapping a, CompactMapping b)
    {
        int c = CompareArrays(a.Temporal, b.Temporal);
        if (c != 0) return c;
        c = CompareArrays(a.SpatialX, b.SpatialX);
        if (c != 0) return c;
        c = CompareArrays(a.SpatialY, b.SpatialY);
        if (c != 0) return c;
        Span<int> oa = stackalloc int[space.Dims];
        Span<int> ob = stackalloc int[space.Dims];
        for (int l = 0; l < space.Levels; l++)
        {
            int na = space.ReadOrder(a, l, oa), nb = space.ReadOrder(b, l, ob);
            c = oa[..na].SequenceCompareTo(ob[..nb]);
            if (c != 0) return c;
        }
        return CompareArrays(a.KeepMask, b.KeepMask);
    }

    private static int CompareArrays(int[] a, int[] b) => a.AsSpan().SequenceCompareTo(b);
}
