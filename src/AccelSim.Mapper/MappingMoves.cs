using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>Kinds of local change guided search tries.</summary>
public enum MoveKind
{
    /// <summary>Move one prime factor of a dimension from one loop slot to another.</summary>
    Prime,
    /// <summary>Move a slot's whole (composite) factor of a dimension to another slot.</summary>
    Whole,
    /// <summary>Give a level another loop-order class.</summary>
    Order,
    /// <summary>Flip whether a level keeps one tensor.</summary>
    Keep,
    /// <summary>Swap parallelism between two dimensions on one fan-out (one leaves to its temporal loop, the other enters).</summary>
    Exchange,
}

/// <summary>One candidate change to a mapping (a neighbour in guided search).</summary>
public readonly record struct Move(MoveKind Kind, int Dim, int From, int To, int Factor, bool Outermost = false,
    int Dim2 = 0, int From2 = 0, int Factor2 = 0, int[]? Order = null, int Level = 0);

/// <summary>
/// Local changes that stay inside the map-space, and the equivalence key guided search uses to skip mappings it has
/// already priced. One instance per worker (it holds scratch buffers).
/// </summary>
public sealed class MappingMoves
{
    private readonly MapSpace _space;
    private readonly SearchWorker _w;
    private readonly int[] _nonUnit;
    private readonly int[] _order;
    private readonly List<long> _sig = new();

    public MappingMoves(SearchWorker w)
    {
        _w = w;
        _space = w.Space;
        _nonUnit = new int[_space.Levels];
        _order = new int[_space.Dims];
    }

    public static int Get(MapSpace s, CompactMapping m, int d, int slot)
    {
        int l = slot / 3, k = slot % 3, i = l * s.Dims + d;
        return k == 0 ? m.Temporal[i] : k == 1 ? m.SpatialX[i] : m.SpatialY[i];
    }

    public static void Set(MapSpace s, CompactMapping m, int d, int slot, int v)
    {
        int l = slot / 3, k = slot % 3, i = l * s.Dims + d;
        if (k == 0) m.Temporal[i] = v;
        else if (k == 1) m.SpatialX[i] = v;
        else m.SpatialY[i] = v;
    }

    /// <summary>Every single change of <paramref name="m"/> of the kinds above (validity is checked when applied).</summary>
    public void Neighbours(CompactMapping m, List<Move> into)
    {
        into.Clear();
        var s = _space;
        int D = s.Dims, S = s.Slots;
        Span<int> primes = stackalloc int[32];
        Span<int> p2 = stackalloc int[32];
        for (int d = 0; d < D; d++)
            for (int a = 0; a < S; a++)
            {
                if (!s.IsFreeSlot(d, a)) continue;
                int fa = Get(s, m, d, a);
                if (fa <= 1) continue;
                int np = DistinctPrimes(s, d, fa, primes);
                for (int b = 0; b < S; b++)
                {
                    if (b == a || !s.IsFreeSlot(d, b)) continue;
                    long fb = Get(s, m, d, b), max = s.MaxFactor(d, b);
                    bool newLoop = b % 3 == 0 && fb == 1;
                    for (int i = 0; i < np; i++)
                        if (fb * primes[i] <= max)
                        {
                            into.Add(new Move(MoveKind.Prime, d, a, b, primes[i]));
                            if (newLoop) into.Add(new Move(MoveKind.Prime, d, a, b, primes[i], Outermost: true));
                        }
                    if (np > 1 || fa != primes[0])
                        if (fb * fa <= max)
                        {
                            into.Add(new Move(MoveKind.Whole, d, a, b, fa));
                            if (newLoop) into.Add(new Move(MoveKind.Whole, d, a, b, fa, Outermost: true));
                        }
                }
            }
        // Parallelism exchanges: dimension d1 leaves a fan-out slot for its temporal loop at that level, d2 enters.
        for (int l = 0; l < s.Levels; l++)
            for (int axis = 1; axis <= 2; axis++)
            {
                int slot = l * 3 + axis;
                for (int d1 = 0; d1 < D; d1++)
                {
                    int f1 = Get(s, m, d1, slot);
                    if (f1 <= 1 || !s.IsFreeSlot(d1, slot) || !s.IsFreeSlot(d1, l * 3)) continue;
                    int np1 = DistinctPrimes(s, d1, f1, primes);
                    for (int i = 0; i < np1; i++)
                    {
                        int p = primes[i];
                        for (int d2 = 0; d2 < D; d2++)
                        {
                            if (d2 == d1 || !s.IsFreeSlot(d2, slot)) continue;
                            for (int t = 0; t < S; t++)
                            {
                                if (t % 3 != 0 || !s.IsFreeSlot(d2, t)) continue;
                                int f2 = Get(s, m, d2, t);
                                if (f2 <= 1) continue;
                                int np2 = DistinctPrimes(s, d2, f2, p2);
                                for (int j = 0; j < np2; j++)
                                    into.Add(new Move(MoveKind.Exchange, d1, slot, l * 3, p, false, d2, t, p2[j]));
                            }
                        }
                    }
                }
            }
        Refresh(m);
        for (int l = 0; l < s.Levels; l++)
        {
            var classes = _w.OrderClasses(l, _nonUnit[l], s.ActiveMask(m, l, _nonUnit));
            if (classes.Length > 1)
                foreach (var c in classes) into.Add(new Move(MoveKind.Order, 0, 0, 0, 0, Order: c, Level: l));
        }
        for (int l = 1; l < s.Levels; l++)
        {
            var opts = s.KeepOptions(l);
            int free = 0;
            foreach (var o in opts) free |= o ^ opts[0];
            for (int t = 0; t < s.Tensors; t++)
                if ((free & (1 << t)) != 0) into.Add(new Move(MoveKind.Keep, t, 0, 0, 0, Level: l));
        }
    }

    private static int DistinctPrimes(MapSpace s, int d, int v, Span<int> into)
    {
        int n = 0, last = 0;
        foreach (var p in s.PrimeFactors(d))
            if (p != last && v % p == 0)
            {
                into[n++] = p;
                last = p;
            }
        return n;
    }

    /// <summary>Applies a move in place; false (mapping unspecified) when the result leaves the space.</summary>
    public bool Apply(CompactMapping m, in Move mv)
    {
        var s = _space;
        switch (mv.Kind)
        {
            case MoveKind.Prime:
            case MoveKind.Whole:
            {
                int fa = Get(s, m, mv.Dim, mv.From);
                if (fa % mv.Factor != 0) return false;
                Set(s, m, mv.Dim, mv.From, fa / mv.Factor);
                Set(s, m, mv.Dim, mv.To, Get(s, m, mv.Dim, mv.To) * mv.Factor);
                if (!s.DimensionOk(m, mv.Dim) || !s.SpatialOk(m)) return false;
                if (mv.Outermost) MoveOutermost(m, mv.To / 3, mv.Dim);
                return true;
            }
            case MoveKind.Exchange:
            {
                int f1 = Get(s, m, mv.Dim, mv.From), f2 = Get(s, m, mv.Dim2, mv.From2);
                if (f1 % mv.Factor != 0 || f2 % mv.Factor2 != 0) return false;
                Set(s, m, mv.Dim, mv.From, f1 / mv.Factor);
                Set(s, m, mv.Dim, mv.To, Get(s, m, mv.Dim, mv.To) * mv.Factor);
                Set(s, m, mv.Dim2, mv.From2, f2 / mv.Factor2);
                Set(s, m, mv.Dim2, mv.From, Get(s, m, mv.Dim2, mv.From) * mv.Factor2);
                return s.DimensionOk(m, mv.Dim) && s.DimensionOk(m, mv.Dim2) && s.SpatialOk(m);
            }
            case MoveKind.Order:
                s.WriteOrder(m, mv.Level, mv.Order);
                return true;
            case MoveKind.Keep:
                m.KeepMask[mv.Level] ^= 1 << mv.Dim;
                return true;
        }
        return false;
    }

    private void MoveOutermost(CompactMapping m, int l, int d)
    {
        int n = _space.ReadOrder(m, l, _order);
        int k = Array.IndexOf(_order, d, 0, n);
        if (k <= 0) return;
        Array.Copy(_order, 0, _order, 1, k);
        _order[0] = d;
        _space.WriteOrder(m, l, _order.AsSpan(0, n));
    }

    /// <summary>Normalises every level's order and replaces orders that break an order constraint. False if impossible.</summary>
    public bool FixOrders(CompactMapping m)
    {
        var s = _space;
        Refresh(m);
        for (int l = 0; l < s.Levels; l++)
        {
            int n = s.ReadOrder(m, l, _order);
            if (s.OrderAllowed(l, _order.AsSpan(0, n), _nonUnit[l]))
            {
                s.WriteOrder(m, l, _order.AsSpan(0, n));
                continue;
            }
            var classes = _w.OrderClasses(l, _nonUnit[l], s.ActiveMask(m, l, _nonUnit));
            if (classes.Length == 0) return false;
            s.WriteOrder(m, l, classes[0]);
        }
        return true;
    }

    private void Refresh(CompactMapping m)
    {
        for (int l = 0; l < _space.Levels; l++) _nonUnit[l] = _space.NonUnitMask(m, l);
    }

    /// <summary>
    /// A 128-bit key equal for mappings the model cannot tell apart: same factors and keep choices, and orders in the
    /// same equivalence class at every level.
    /// </summary>
    public UInt128 Key(CompactMapping m)
    {
        var s = _space;
        Refresh(m);
        ulong h1 = 14695981039346656037UL, h2 = 0x9E3779B97F4A7C15UL;
        void Mix(long x)
        {
            unchecked
            {
                h1 = (h1 ^ (ulong)x) * 1099511628211UL;
                h2 = (h2 + (ulong)x) * 0xBF58476D1CE4E5B9UL;
                h2 ^= h2 >> 29;
            }
        }
        foreach (var v in m.Temporal) Mix(v);
        foreach (var v in m.SpatialX) Mix(v);
        foreach (var v in m.SpatialY) Mix(v);
        foreach (var v in m.KeepMask) Mix(v);
        for (int l = 0; l < s.Levels; l++)
        {
            int n = s.ReadOrder(m, l, _order);
            s.OrderSignature(_order.AsSpan(0, n), s.ActiveMask(m, l, _nonUnit), _sig);
            Mix(-7 - l);
            foreach (var x in _sig) Mix(x);
        }
        return new UInt128(h1, h2);
    }
}
