namespace AccelSim.Mapping.MapSpaces;

/// <summary>Integer helpers for tilings: prime factors and divisors.</summary>
public static class Factoring
{
    /// <summary>Prime factors with multiplicity, ascending (12 -> 2, 2, 3).</summary>
    public static int[] PrimeFactors(long n)
    {
        var result = new List<int>();
        for (long p = 2; p * p <= n; p++)
            while (n % p == 0)
            {
                result.Add((int)p);
                n /= p;
            }
        if (n > 1) result.Add((int)n);
        return result.ToArray();
    }

    /// <summary>All divisors of n, ascending.</summary>
    public static long[] Divisors(long n)
    {
        var small = new List<long>();
        var large = new List<long>();
        for (long i = 1; i * i <= n; i++)
            if (n % i == 0)
            {
                small.Add(i);
                if (i != n / i) large.Add(n / i);
            }
        large.Reverse();
        small.AddRange(large);
        return small.ToArray();
    }
}
