using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>Local changes to a mapping that stay inside the map-space (used by guided search).</summary>
public sealed class MappingMoves
{
    private readonly MapSpace _space;
    private readonly SearchWorker _w;
    private readonly int[] _nonUnit;
    private readonly int[] _order;
    private readonly List<long> _sig = new();
    private readonly int[] _freeSlots;

    public MappingMoves(SearchWorker w)
    {
        _w = w;
        _space = w.Space;
        _nonUnit = new int[_space.Levels];
        _order = new int[_space.Dims];
        _freeSlots = new int[_space.Slots];
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

    /// <summary>Moves one prime factor of a dimension from one loop slot to another. False if none is possible.</summary>
    public bool MoveFactor(CompactMapping m, DeterministicRandom rng)
    {
        var s = _space;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            int d = rng.Next(s.Dims);
            if (s.PrimeFactors(d).Count == 0) continue;
            int nFree = 0;
            for (int slot = 0; slot < s.Slots; slot++)
                if (s.IsFreeSlot(d, slot)) _freeSlots[nFree++] = slot;
            if (nFree < 2) continue;
            // A source slot holding a factor.
            int from = -1, seen = 0;
            for (int k = 0; k < nFree; k++)
                if (Get(s, m, d, _freeSlots[k]) > 1 && rng.Next(++seen) == 0) from = _freeSlots[k];
            if (from < 0) continue;
            int v = Get(s, m, d, from);
            int p = RandomPrimeOf(s, d, v, rng);
            int to = -1;
            seen = 0;
            for (int k = 0; k < nFree; k++)
            {
                int slot = _freeSlots[k];
                if (slot == from) continue;
                if ((long)Get(s, m, d, slot) * p > s.MaxFactor(d, slot)) continue;
                if (rng.Next(++seen) == 0) to = slot;
            }
            if (to < 0) continue;
            Set(s, m, d, from, v / p);
            Set(s, m, d, to, Get(s, m, d, to) * p);
            if (!s.DimensionOk(m, d) || !s.SpatialOk(m))
            {
                Set(s, m, d, to, Get(s, m, d, to) / p);
                Set(s, m, d, from, v);
                continue;
            }
            return true;
        }
        return false;
    }

    private static int RandomPrimeOf(MapSpace s, int d, int v, DeterministicRandom rng)
    {
        int pick = 0, seen = 0;
        foreach (var p in s.PrimeFactors(d))
        {
            if (v % p != 0) continue;
            if (rng.Next(++seen) == 0) pick = p;
        }
        return pick;
    }

    /// <summary>Chooses another order class at a random level with a choice. False if no level has one.</summary>
    public bool ChangeOrder(CompactMapping m, DeterministicRandom rng)
    {
        var s = _space;
        Refresh(m);
        int level = -1, seen = 0;
        for (int l = 0; l < s.Levels; l++)
        {
            var classes = _w.OrderClasses(l, _nonUnit[l], s.ActiveMask(m, l, _nonUnit));
            if (classes.Length > 1 && rng.Next(++seen) == 0) level = l;
        }
        if (level < 0) return false;
        var cls = _w.OrderClasses(level, _nonUnit[level], s.ActiveMask(m, level, _nonUnit));
        s.WriteOrder(m, level, cls[rng.Next(cls.Length)]);
        return true;
    }

    /// <summary>Switches one level to another keep choice. False if no level has a choice.</summary>
    public bool ChangeKeep(CompactMapping m, DeterministicRandom rng)
    {
        var s = _space;
        int level = -1, seen = 0;
        for (int l = 1; l < s.Levels; l++)
            if (s.KeepOptions(l).Count > 1 && rng.Next(++seen) == 0) level = l;
        if (level < 0) return false;
        var opts = s.KeepOptions(level);
        // Flip one free bit: a neighbour rather than an arbitrary keep set.
        int free = 0;
        foreach (var o in opts) free |= o ^ opts[0];
        int bits = System.Numerics.BitOperations.PopCount((uint)free);
        int which = rng.Next(bits);
        int bit = 0;
        for (int b = 0, n = 0; b < 31; b++)
            if ((free & (1 << b)) != 0 && n++ == which) { bit = 1 << b; break; }
        m.KeepMask[level] ^= bit;
        return true;
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
