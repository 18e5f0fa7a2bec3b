using AccelSim.Pruning.Traces;

namespace AccelSim.Pruning.Engine;

/// <summary>Supplies the rank (0-based, ascending) of the pivot chosen among the current candidates.</summary>
public interface IPivotRankSource
{
    int NextRank(int candidates);
}

/// <summary>Uniformly random pivot ranks from a seeded, platform-independent RNG (exactly reproducible).</summary>
public sealed class SeededPivots(ulong seed) : IPivotRankSource
{
    private readonly SplitMix64 _rng = new(seed);
    public int NextRank(int candidates) => _rng.NextInt(candidates);
}

/// <summary>Replays a recorded sequence of pivot ranks (used to check the model against an element-level simulation).</summary>
public sealed class ReplayedPivots(IEnumerable<int> ranks) : IPivotRankSource
{
    private readonly IEnumerator<int> _ranks = ranks.GetEnumerator();

    public int NextRank(int candidates)
    {
        if (!_ranks.MoveNext()) throw new InvalidOperationException("recorded pivot sequence exhausted");
        if (_ranks.Current < 0 || _ranks.Current >= candidates)
            throw new InvalidOperationException($"recorded pivot rank {_ranks.Current} outside [0, {candidates})");
        return _ranks.Current;
    }
}

/// <summary>Cycles, elements streamed through the comparators, and partition rounds of one selection.</summary>
public readonly record struct SelectionCost(long Cycles, long ElementsScanned, int Rounds);

/// <summary>
/// Cycle model of SpAtten's quick-select top-k engine (released RTL: utils/QuickSelect.scala, latency model
/// sim/TopKLatencyModel.scala): each partition round streams the current candidates through
/// <see cref="Comparators"/> comparators (ceil(m / P) cycles) plus <see cref="RoundOverhead"/> cycles, then recurses into
/// the side that holds the target rank; it stops when the pivot is the k-th largest. The engine then filters the
/// input against that threshold and compacts the survivors through the zero eliminator (one more pass).
/// </summary>
public sealed record QuickSelectModel(int Comparators, int RoundOverhead, int ZeroEliminatorLatency)
{
    /// <summary>Elements compared per cycle while a partition round streams: the engine's throughput.</summary>
    public int ThroughputElementsPerCycle => Comparators;

    /// <summary>Cycles of one partition round over <paramref name="candidates"/> elements.</summary>
    public long RoundCycles(int candidates) => (candidates + Comparators - 1) / Comparators + RoundOverhead;

    /// <summary>
    /// Quick-select for the k-th largest of n distinct values (ascending target rank n - k), pivots from
    /// <paramref name="pivots"/>. Returns the cost of the selection rounds only.
    /// </summary>
    public SelectionCost Select(int n, int k, IPivotRankSource pivots)
    {
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"k={k} must be in [1, n={n}]");
        var m = n;
        var target = n - k;
        long cycles = 0, scanned = 0;
        var rounds = 0;
        while (true)
        {
            cycles += RoundCycles(m);
            scanned += m;
            rounds++;
            var r = pivots.NextRank(m);
            if (r == target) break;
            if (target < r) m = r;
            else
            {
                target -= r + 1;
                m -= r + 1;
            }
        }
        return new SelectionCost(cycles, scanned, rounds);
    }

    /// <summary>Full top-k latency: quick-select rounds plus the filter/compaction pass. Zero when nothing is pruned.</summary>
    public SelectionCost TopK(int n, int k, IPivotRankSource pivots)
    {
        if (k >= n) return default;
        var s = Select(n, k, pivots);
        return s with { Cycles = s.Cycles + FilterPassCycles(n), ElementsScanned = s.ElementsScanned + n };
    }

    public long FilterPassCycles(int n) => (n + Comparators - 1) / Comparators + ZeroEliminatorLatency;

    // ---------------- closed-form expectation ----------------

    /// <summary>H_n, exact sum for small n, asymptotic expansion beyond.</summary>
    public static double Harmonic(int n)
    {
        if (n <= 0) return 0;
        if (n <= 64)
        {
            var h = 0.0;
            for (var i = 1; i <= n; i++) h += 1.0 / i;
            return h;
        }
        double x = n, x2 = x * x;
        return Math.Log(x) + 0.57721566490153286 + 1 / (2 * x) - 1 / (12 * x2) + 1 / (120 * x2 * x2);
    }

    /// <summary>Expected partition rounds to select ascending rank j (1-based) of n: H_j + H_{n-j+1} - 1.</summary>
    public static double ExpectedRounds(int n, int j) => Harmonic(j) + Harmonic(n - j + 1) - 1;

    /// <summary>
    /// Expected elements streamed (sum of the candidate-set sizes over rounds) to select ascending rank j of n:
    /// Knuth's expected comparison count for selection, 2[n + 3 + (n+1)H_n - (j+2)H_j - (n-j+3)H_{n-j+1}],
    /// plus one per round (a round streams m elements, m - 1 of them compared against the pivot).
    /// </summary>
    public static double ExpectedScanned(int n, int j) =>
        2 * (n + 3 + (n + 1) * Harmonic(n) - (j + 2) * Harmonic(j) - (n - j + 3) * Harmonic(n - j + 1)) + ExpectedRounds(n, j);

    /// <summary>
    /// Closed-form expected quick-select cycles for the k-th largest of n: E[scanned] / P + E[rounds] * (c + (P - 1) / 2P),
    /// the last term approximating E[ceil(m / P)] - m / P by its mean over m mod P.
    /// </summary>
    public double ExpectedSelectCycles(int n, int k)
    {
        var j = n - k + 1;
        var p = (double)Comparators;
        return ExpectedScanned(n, j) / p + ExpectedRounds(n, j) * (RoundOverhead + (p - 1) / (2 * p));
    }

    public double ExpectedTopKCycles(int n, int k) => k >= n ? 0 : ExpectedSelectCycles(n, k) + FilterPassCycles(n);

    /// <summary>
    /// Exact expected quick-select cycles (with the ceil) by dynamic programming over (candidates, target rank): O(n^2)
    /// memory, O(n^3) time. A brute-force oracle for tests and small n.
    /// </summary>
    public double ExactExpectedSelectCycles(int n, int k)
    {
        if (n > 400) throw new ArgumentOutOfRangeException(nameof(n), "exact expectation is for n <= 400");
        // e[m][t]: expected cycles with m candidates and 0-based ascending target t.
        var e = new double[n + 1][];
        for (var m = 0; m <= n; m++) e[m] = new double[Math.Max(m, 1)];
        for (var m = 1; m <= n; m++)
            for (var t = 0; t < m; t++)
            {
                var sum = 0.0;
                for (var r = 0; r < m; r++)
                {
                    if (r == t) continue;
                    sum += t < r ? e[r][t] : e[m - r - 1][t - r - 1];
                }
                e[m][t] = RoundCycles(m) + sum / m;
            }
        return e[n][n - k];
    }
}
