namespace AccelSim.Pruning.Traces;

/// <summary>
/// Small deterministic RNG (SplitMix64). Used instead of System.Random so seeded results are identical on every
/// platform and .NET version.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong NextULong()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, bound) without modulo bias (Lemire's method).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        var threshold = (ulong)(-(long)bound) % (ulong)bound;
        while (true)
        {
            var r = NextULong();
            var m = (UInt128)r * (ulong)bound;
            if ((ulong)m >= threshold) return (int)(m >> 64);
        }
    }

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal sample (Box-Muller).</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A seed derived from a parent seed and a few integers (for independent, reproducible streams).</summary>
    public static ulong Derive(ulong seed, params int[] parts)
    {
        var rng = new SplitMix64(seed);
        var h = rng.NextULong();
        foreach (var p in parts)
        {
            rng = new SplitMix64(h ^ (ulong)(uint)p * 0xD6E8FEB86659FD93UL);
            h = rng.NextULong();
        }
        return h;
    }
}
