using System.Collections.Immutable;
using AccelSim.Hardware;
using AccelSim.Mapper;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;
using AccelSim.Tests.Model;

namespace AccelSim.Tests.Mapper;

/// <summary>The map-space: tilings against brute force, loop-order classes against the model, the optimum proven.</summary>
public class MapSpaceTests
{
    public static TheoryData<string, string> Combos()
    {
        var data = new TheoryData<string, string>();
        foreach (var (a, _) in ModelTestKit.Architectures())
            foreach (var (p, _) in ModelTestKit.Problems())
                data.Add(a, p);
        return data;
    }

    private static ArchPath Arch(string name) => ModelTestKit.Architectures().Single(x => x.Name == name).Path;
    private static ProblemShape Problem(string name) => ModelTestKit.Problems().Single(x => x.Name == name).Problem;

    [Theory]
    [MemberData(nameof(Combos))]
    public void FactorisationsAreExactlyTheBruteForceOnes(string archName, string problemName)
    {
        var path = Arch(archName);
        var problem = Problem(problemName);
        var space = new MapSpace(path, problem);
        int S = space.Slots;
        for (int d = 0; d < problem.Dims.Length; d++)
        {
            long n = problem.Dims[d].Size;
            // Brute force: every tuple of slot factors whose product is n, spatial slots within the fan-out.
            var expected = new HashSet<string>();
            var cur = new long[S];
            void Rec(int s, long rem)
            {
                if (s == S)
                {
                    if (rem == 1) expected.Add(string.Join(",", cur));
                    return;
                }
                int l = s / 3, k = s % 3;
                long max = k == 0 ? long.MaxValue : k == 1 ? path.FanoutX(l) : path.FanoutY(l);
                for (long f = 1; f <= rem; f++)
                    if (rem % f == 0 && f <= max)
                    {
                        cur[s] = f;
                        Rec(s + 1, rem / f);
                    }
            }
            Rec(0, n);
            var list = space.Factorizations(d);
            var actual = Enumerable.Range(0, list.Length / S).Select(i => string.Join(",", list.Skip(i * S).Take(S))).ToList();
            Assert.Equal(expected.Count, space.FactorizationCount(d));
            Assert.Equal(expected.Count, actual.Count);
            Assert.True(expected.SetEquals(actual), $"{problem.Dims[d].Name}: factorisations differ");
        }
    }

    /// <summary>
    /// The pruning is exact: for random valid tilings and keep choices, every permutation of a level's loops that has
    /// the same order signature as another gives identical counts, cycles and energy in the model.
    /// </summary>
    [Theory]
    [MemberData(nameof(Combos))]
    public void OrdersWithEqualSignaturesPriceIdentically(string archName, string problemName)
    {
        var path = Arch(archName);
        var problem = Problem(problemName);
        var space = new MapSpace(path, problem);
        var ctx = new ModelContext(path, problem);
        var r = ctx.CreateResult();
        var rng = new Random(archName.Length * 131 + problemName.Length);
        int L = path.LevelCount, D = problem.Dims.Length, checkedMerges = 0, samples = 0;
        var nonUnit = new int[L];
        var sig = new List<long>();
        for (int attempt = 0; attempt < 400 && samples < 25; attempt++)
        {
            var m = ModelTestKit.RandomMapping(path, problem, rng);
            if (!ctx.CheckCapacity(m, r)) continue;
            samples++;
            for (int l = 0; l < L; l++) nonUnit[l] = space.NonUnitMask(m, l);
            for (int l = 0; l < L; l++)
            {
                var loops = Enumerable.Range(0, D).Where(d => (nonUnit[l] & (1 << d)) != 0).ToArray();
                if (loops.Length < 2) continue;
                int active = space.ActiveMask(m, l, nonUnit);
                var groups = new Dictionary<string, Snapshot>();
                foreach (var perm in Permutations(loops))
                {
                    space.OrderSignature(perm, active, sig);
                    space.WriteOrder(m, l, perm);
                    Assert.True(ctx.Evaluate(m, r));
                    var snap = Snapshot.Of(r);
                    var key = string.Join(",", sig);
                    if (groups.TryGetValue(key, out var first))
                    {
                        Assert.True(first.Equals(snap), $"{archName}/{problemName} level {l}: orders with signature {key} price differently");
                        checkedMerges++;
                    }
                    else groups[key] = snap;
                }
                Assert.Equal(groups.Count, space.OrderClasses(l, nonUnit[l], active).Length);
            }
        }
        Assert.True(samples >= 10, "too few valid random mappings");
        Assert.True(checkedMerges > 0, "no two orders were merged: the test checked nothing");
    }

    private sealed record Snapshot(string Counts, double Cycles, double Energy)
    {
        public static Snapshot Of(EvalResult r) =>
            new(string.Join(",", r.Reads) + "|" + string.Join(",", r.Fills) + "|" + string.Join(",", r.Updates), r.Cycles, r.EnergyPJ);
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1) { yield return (int[])items.Clone(); yield break; }
        for (int i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, k) => k != i).ToArray();
            foreach (var p in Permutations(rest)) yield return new[] { items[i] }.Concat(p).ToArray();
        }
    }

    /// <summary>
    /// Exhaustive search over order classes finds the same optimum as brute force over every tiling, every keep
    /// choice and every permutation of every level's loops.
    /// </summary>
    [Theory]
    [InlineData("2-level", "gemm")]
    [InlineData("2-level", "conv-dilated")]
    [InlineData("3-level-x4", "gemm-small")]
    [InlineData("2-level", "attention-qk")]
    public void ExhaustiveFindsTheBruteForceOptimum(string archName, string problemName)
    {
        var path = Arch(archName);
        var problem = problemName == "gemm-small"
            ? ModelTestKit.Parse("problem: {name: gemm, dims: {M: 2, N: 4, K: 4}, tensors: {A: [M, K], B: [K, N], Z: {ranks: [M, N], output: true}}}")
            : Problem(problemName);
        var space = new MapSpace(path, problem);
        var ctx = new ModelContext(path, problem);
        var r = ctx.CreateResult();
        int L = path.LevelCount, D = problem.Dims.Length;
        var counts = Enumerable.Range(0, D).Select(d => (int)space.FactorizationCount(d)).ToArray();
        double best = double.PositiveInfinity;
        long valid = 0;
        var m = ctx.CreateMapping();
        var allPerms = Permutations(Enumerable.Range(0, D).ToArray()).ToList();
        void Tilings(int d)
        {
            if (d == D)
            {
                if (!space.SpatialOk(m)) return;
                Keeps(1);
                return;
            }
            for (int i = 0; i < counts[d]; i++)
            {
                space.ApplyFactorization(m, d, i);
                Tilings(d + 1);
            }
        }
        void Keeps(int l)
        {
            if (l == L)
            {
                m.KeepMask[0] = space.KeepOptions(0)[0];
                if (!ctx.CheckCapacity(m, r)) return;
                Orders(0);
                return;
            }
            foreach (var k in space.KeepOptions(l))
            {
                m.KeepMask[l] = k;
                Keeps(l + 1);
            }
        }
        void Orders(int l)
        {
            if (l == L)
            {
                Assert.True(ctx.Evaluate(m, r));
                valid++;
                best = Math.Min(best, r.Cycles * r.EnergyPJ);
                return;
            }
            // Every permutation, but skip ones that only move loops of factor 1 (they are the same mapping).
            var seen = new HashSet<string>();
            foreach (var p in allPerms)
            {
                var real = p.Where(d => m.Temporal[l * D + d] > 1).ToArray();
                if (!seen.Add(string.Join(",", real))) continue;
                for (int k = 0; k < D; k++) m.Order[l * D + k] = p[k];
                Orders(l + 1);
            }
        }
        Tilings(0);
        var result = MapSearch.Run(new MapRequest(path.Architecture, problem, MapSpaceConstraints.None, Objective.Edp, "exhaustive", Threads: 2));
        Assert.True(valid > result.Evaluations, $"pruning should skip equivalent orders ({valid} brute force vs {result.Evaluations})");
        Assert.Equal(best, result.Outcome.BestScore.Primary);
        Assert.Equal(best, result.Report.Cycles * result.Report.EnergyPJ);
    }
}
