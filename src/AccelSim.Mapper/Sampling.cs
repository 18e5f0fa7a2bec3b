using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>Random points of a map-space (used by random search and to seed guided chains).</summary>
public static class Sampling
{
    /// <summary>Factorisation lists up to this length are sampled uniformly; longer ones by random prime placement.</summary>
    public const long UniformLimit = 200_000;

    public static bool SampleDimension(MapSpace space, CompactMapping m, int d, DeterministicRandom rng)
    {
        long count = space.FactorizationCount(d);
        if (count <= UniformLimit)
        {
            space.ApplyFactorization(m, d, rng.Next((int)count));
            return true;
        }
        int S = space.Slots, D = space.Dims;
        Span<long> v = stackalloc long[S];
        Span<int> free = stackalloc int[S];
        Span<int> room = stackalloc int[S];
        for (int attempt = 0; attempt < 64; attempt++)
        {
            long q = space.Problem.Dims[d].Size;
            int nFree = 0;
            for (int s = 0; s < S; s++)
            {
                long f = space.FixedFactor(d, s);
                v[s] = f != 0 ? f : 1;
                if (f != 0) q /= f;
                else if (space.MaxFactor(d, s) > 1) free[nFree++] = s;
            }
            var primes = Factoring.PrimeFactors(q);
            // Shuffle, then place each prime on a free slot that still has room.
            for (int i = primes.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (primes[i], primes[j]) = (primes[j], primes[i]);
            }
            bool ok = true;
            foreach (var p in primes)
            {
                int n = 0;
                for (int k = 0; k < nFree; k++)
                    if (v[free[k]] * p <= space.MaxFactor(d, free[k])) room[n++] = free[k];
                if (n == 0) { ok = false; break; }
                v[room[rng.Next(n)]] *= p;
            }
            if (!ok) continue;
            for (int l = 0; l < space.Levels; l++)
            {
                m.Temporal[l * D + d] = (int)v[l * 3];
                m.SpatialX[l * D + d] = (int)v[l * 3 + 1];
                m.SpatialY[l * D + d] = (int)v[l * 3 + 2];
            }
            if (space.DimensionOk(m, d)) return true;
        }
        return false;
    }

    /// <summary>
    /// A random tiling, keep choice and order class per level. False (counted as a rejection) when the sample is
    /// outside the space or over capacity; orders are drawn only for samples that fit.
    /// </summary>
    public static bool SampleMapping(SearchWorker w, CompactMapping m, DeterministicRandom rng)
    {
        var space = w.Space;
        for (int d = 0; d < space.Dims; d++)
            if (!SampleDimension(space, m, d, rng)) { w.Reject(); return false; }
        if (!space.SpatialOk(m)) { w.Reject(); return false; }
        for (int l = 0; l < space.Levels; l++)
        {
            var opts = space.KeepOptions(l);
            m.KeepMask[l] = opts[rng.Next(opts.Count)];
        }
        if (!w.Fits(m)) return false;
        if (RandomOrders(w, m, rng)) return true;
        w.Reject();
        return false;
    }

    /// <summary>A uniformly chosen order class at every level; false when a level's order constraints admit none.</summary>
    public static bool RandomOrders(SearchWorker w, CompactMapping m, DeterministicRandom rng)
    {
        var space = w.Space;
        Span<int> nonUnit = stackalloc int[space.Levels];
        for (int l = 0; l < space.Levels; l++) nonUnit[l] = space.NonUnitMask(m, l);
        for (int l = 0; l < space.Levels; l++)
        {
            var classes = w.OrderClasses(l, nonUnit[l], space.ActiveMask(m, l, nonUnit));
            if (classes.Length == 0) return false;
            space.WriteOrder(m, l, classes[rng.Next(classes.Length)]);
        }
        return true;
    }
}
