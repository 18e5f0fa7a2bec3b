using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Traces;
using static AccelSim.Tests.Pruning.PruningTestData;

namespace AccelSim.Tests.Pruning;

public class QuickSelectTests
{
    private static readonly QuickSelectModel Model = new(16, 3, 4);

    [Fact]
    public void TopKThroughputEqualsThePapersSixteenElementsPerCycle()
    {
        // Paper (HPCA 2021, Sec. V; via review): the top-k engine has 16 comparators, and more than 16 gives no
        // speedup because 16 matches the Q.K data rate. RTL: TopKLatencyModel runs with parallelism 16.
        var engine = new SpattenEngine(Arch).TopKModel;
        Assert.Equal(16, engine.ThroughputElementsPerCycle);
        // A partition round streams n candidates at 16 per cycle plus the fixed 3-cycle overhead.
        foreach (var n in new[] { 16, 256, 1024, 4096 })
            Assert.Equal(n / 16 + 3, engine.RoundCycles(n));
        // The 16-wide engine keeps up with the Q.K array at the 6-bit fused rate (8 keys/cycle x 2 fused matrices).
        Assert.Equal(engine.ThroughputElementsPerCycle, Arch.QkKeysPerCycle(64, 6));
    }

    /// <summary>
    /// Element-level brute force: real distinct values, random pivot element, three-way partition, recursion into the
    /// side holding the k-th largest; records the rank of each pivot it chose and counts ceil(m/16) + 3 per round.
    /// </summary>
    private static (long Cycles, List<int> PivotRanks, int Result) BruteForce(int n, int k, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var values = Enumerable.Range(0, n).Select(_ => rng.NextULong()).Distinct().ToList();
        Assert.Equal(n, values.Count);
        var target = n - k; // ascending rank of the k-th largest
        var current = values;
        var ranks = new List<int>();
        long cycles = 0;
        while (true)
        {
            cycles += (current.Count + 15) / 16 + 3;
            var pivot = current[rng.NextInt(current.Count)];
            var less = current.Where(v => v < pivot).ToList();
            var greater = current.Where(v => v > pivot).ToList();
            ranks.Add(less.Count);
            if (less.Count == target)
                return (cycles, ranks, values.Count(v => v > pivot) + 1);
            if (target < less.Count) current = less;
            else
            {
                target -= less.Count + 1;
                current = greater;
            }
        }
    }

    [Fact]
    public void RecurrenceMatchesElementLevelSimulationExactly()
    {
        var checkedCases = 0;
        foreach (var n in new[] { 1, 2, 17, 64, 100, 257, 1000 })
            foreach (var k in new[] { 1, n / 3 + 1, n / 2 + 1, n })
            {
                if (k > n) continue;
                for (var seed = 1UL; seed <= 20; seed++)
                {
                    var (cycles, ranks, rankOfPivot) = BruteForce(n, k, seed);
                    Assert.Equal(k, rankOfPivot); // the brute force really found the k-th largest
                    var modelled = Model.Select(n, k, new ReplayedPivots(ranks));
                    Assert.Equal(cycles, modelled.Cycles);
                    Assert.Equal(ranks.Count, modelled.Rounds);
                    checkedCases++;
                }
            }
        Assert.True(checkedCases > 400);
    }

    [Fact]
    public void SeededSelectionIsReproducible()
    {
        var a = Model.Select(1000, 300, new SeededPivots(7));
        var b = Model.Select(1000, 300, new SeededPivots(7));
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 2)]
    [InlineData(64, 16)]
    [InlineData(128, 64)]
    [InlineData(200, 1)]
    [InlineData(200, 200)]
    public void ClosedFormRoundsAndScannedEqualTheExactRecurrence(int n, int k)
    {
        // Exact expectations of rounds and of elements streamed (no ceil), by dynamic programming over
        // (candidates, 1-based target rank): E(m, j) = cost(m) + (1/m) [sum_{r<j} E(m-r, j-r) + sum_{r>j} E(r-1, j)].
        var rounds = new double[n + 1, n + 2];
        var scanned = new double[n + 1, n + 2];
        for (var m = 1; m <= n; m++)
            for (var j = 1; j <= m; j++)
            {
                double sr = 0, ss = 0;
                for (var r = 1; r <= m; r++)
                {
                    if (r < j) { sr += rounds[m - r, j - r]; ss += scanned[m - r, j - r]; }
                    else if (r > j) { sr += rounds[r - 1, j]; ss += scanned[r - 1, j]; }
                }
                rounds[m, j] = 1 + sr / m;
                scanned[m, j] = m + ss / m;
            }
        var target = n - k + 1;
        Assert.Equal(rounds[n, target], QuickSelectModel.ExpectedRounds(n, target), 9);
        Assert.Equal(scanned[n, target], QuickSelectModel.ExpectedScanned(n, target), 9);
    }

    [Theory]
    [InlineData(64, 16, 0.03)]
    [InlineData(128, 64, 0.03)]
    [InlineData(256, 32, 0.03)]
    [InlineData(400, 120, 0.03)]
    public void ClosedFormCyclesTrackTheExactExpectationWithCeil(int n, int k, double tolerance)
    {
        var exact = Model.ExactExpectedSelectCycles(n, k);
        var closed = Model.ExpectedSelectCycles(n, k);
        Assert.InRange(closed / exact, 1 - tolerance, 1 + tolerance);
    }

    [Theory]
    [InlineData(256, 32)]
    [InlineData(400, 120)]
    public void SeededSimulationMeanConvergesToTheExactExpectation(int n, int k)
    {
        var exact = Model.ExactExpectedSelectCycles(n, k);
        var pivots = new SeededPivots(12345);
        var mean = Enumerable.Range(0, 20000).Average(_ => (double)Model.Select(n, k, pivots).Cycles);
        Assert.InRange(mean / exact, 0.98, 1.02);
    }

    [Fact]
    public void SelectionIsLinearNotNLogN()
    {
        // Expected cycles per element settle to a constant ((2 to 3.4)/16 by the textbook quick-select constants).
        var perElement = new[] { 1024, 4096, 16384, 65536 }.Select(n => Model.ExpectedSelectCycles(n, n / 4) / n).ToArray();
        Assert.InRange(perElement[^1], 2.0 / 16, 3.4 / 16 + 0.01);
        Assert.InRange(perElement[^1] / perElement[^2], 0.98, 1.02);
    }

    [Fact]
    public void NothingToPruneCostsNothing()
    {
        Assert.Equal(default, Model.TopK(100, 100, new SeededPivots(1)));
        Assert.Equal(0, Model.ExpectedTopKCycles(100, 100));
    }
}
