using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// The mask counter against brute force: random small spaces and random combinations of the masks the language has
/// (causal with offsets, windows, block masks, block-diagonal tests, abs/max/min comparisons, split ranks, and/or/not),
/// counted by <see cref="PointCounter"/> and by enumerating every point with the evaluator below, which is written
/// here from the operators' definitions and shares no code with the counter.
/// </summary>
public class MaskCountingTests
{
    // ---- the oracle ----

    private static double Value(BoundExpr e, long[] point) => e switch
    {
        ConstExpr c => c.Value,
        IndexValueExpr i => i.Index.Constant + i.Index.Terms.Sum(t => t.Coefficient * point[t.Variable]),
        UnaryBound { Fn: UnaryFn.Neg } u => -Value(u.Operand, point),
        UnaryBound { Fn: UnaryFn.Not } u => Value(u.Operand, point) == 0 ? 1 : 0,
        UnaryBound { Fn: UnaryFn.Abs } u => Math.Abs(Value(u.Operand, point)),
        BinaryBound b => Binary(b.Fn, Value(b.Left, point), Value(b.Right, point)),
        BlockMaskExpr m => BlockMaskExpr.Keep((long)Math.Floor(Value(m.RowBlock, point)), (long)Math.Floor(Value(m.ColBlock, point)), m.Density, m.Seed) ? 1 : 0,
        _ => throw new ArgumentException(e.ToString()),
    };

    private static double Binary(BinaryFn fn, double a, double b) => fn switch
    {
        BinaryFn.Add => a + b, BinaryFn.Sub => a - b, BinaryFn.Mul => a * b, BinaryFn.Div => a / b,
        BinaryFn.FloorDiv => Math.Floor(a / b), BinaryFn.Mod => a - b * Math.Floor(a / b),
        BinaryFn.Max => Math.Max(a, b), BinaryFn.Min => Math.Min(a, b),
        BinaryFn.Lt => a < b ? 1 : 0, BinaryFn.Le => a <= b ? 1 : 0, BinaryFn.Gt => a > b ? 1 : 0,
        BinaryFn.Ge => a >= b ? 1 : 0, BinaryFn.Eq => a == b ? 1 : 0, BinaryFn.Ne => a != b ? 1 : 0,
        BinaryFn.And => a != 0 && b != 0 ? 1 : 0, BinaryFn.Or => a != 0 || b != 0 ? 1 : 0,
        _ => throw new ArgumentException(fn.ToString()),
    };

    private static long BruteForce(BoundExpr condition, IReadOnlyList<IterationVariable> space)
    {
        var point = new long[space.Count];
        long count = 0;
        while (true)
        {
            if (Value(condition, point) != 0) count++;
            var k = 0;
            for (; k < space.Count; k++)
            {
                if (++point[k] < space[k].Size) break;
                point[k] = 0;
            }
            if (k == space.Count) return count;
        }
    }

    // ---- random masks, built as the binder builds them ----

    private sealed class MaskGenerator(Random rng, IReadOnlyList<IterationVariable> space, int splitOuter, int splitInner)
    {
        private BoundExpr Index(long constant, params (int Variable, long Coefficient)[] terms) =>
            new IndexValueExpr(new AffineIndex(constant, [.. terms.Where(t => t.Coefficient != 0).Select(t => new AffineTerm(t.Variable, space[t.Variable].Name, t.Coefficient))]));

        /// <summary>A position: a variable, or the split rank's `m1*M0 + m0` when the space has one.</summary>
        private BoundExpr Position()
        {
            if (splitOuter >= 0 && rng.Next(3) == 0)
                return Index(0, (splitOuter, space[splitInner].Size), (splitInner, 1));
            return Index(0, (rng.Next(space.Count), 1));
        }

        private static BoundExpr Add(BoundExpr a, BoundExpr b) => new BinaryBound(BinaryFn.Add, a, b);
        private static BoundExpr Sub(BoundExpr a, BoundExpr b) => new BinaryBound(BinaryFn.Sub, a, b);
        private static BoundExpr K(double v) => new ConstExpr(v);

        private BoundExpr Block(BoundExpr position) =>
            rng.Next(4) == 0 && splitOuter >= 0 ? Index(0, (splitOuter, 1)) // a block per tile of the split rank
                : new BinaryBound(BinaryFn.FloorDiv, rng.Next(3) == 0 ? Add(position, K(rng.Next(-3, 4))) : position, K(rng.Next(1, 9)));

        public BoundExpr Atom() => rng.Next(30) switch
        {
            // causal(p, m[, offset]): m <= p + offset
            < 3 => new BinaryBound(BinaryFn.Le, Position(), Add(Position(), K(rng.Next(0, 6)))),
            // window(p, m, w): p - m < w and -(p - m) < w
            < 6 => Window(Position(), Position(), rng.Next(1, 8)),
            < 12 => new BlockMaskExpr(Block(Position()), Block(Position()), Math.Round(rng.NextDouble(), 2), rng.Next(-5, 100)),
            // p // b == m // b (the block diagonal)
            < 15 => new BinaryBound(BinaryFn.Eq, new BinaryBound(BinaryFn.FloorDiv, Position(), K(4)), new BinaryBound(BinaryFn.FloorDiv, Position(), K(4))),
            // |y - y'| <= r (neighbourhood attention)
            < 18 => new BinaryBound(rng.Next(2) == 0 ? BinaryFn.Le : BinaryFn.Lt, new UnaryBound(UnaryFn.Abs, Sub(Position(), Position())), K(rng.Next(0, 5))),
            // max / min / relu of affine values
            < 21 => new BinaryBound(Comparison(), new BinaryBound(rng.Next(2) == 0 ? BinaryFn.Max : BinaryFn.Min, Position(), Add(Position(), K(rng.Next(-4, 5)))), Position()),
            // a general affine comparison, possibly fractional (p / 2 <= m, 0.5 * p > m - 3)
            < 24 => new BinaryBound(Comparison(), Affine(), Affine()),
            < 29 => new BinaryBound(Comparison(), new BinaryBound(BinaryFn.Div, Position(), K(rng.Next(1, 4))), Add(Position(), K(rng.Next(-3, 4)))),
            // an atom outside the tile and affine classes (rarely, so that most conditions are counted by tiles)
            _ => new BinaryBound(BinaryFn.Eq, new BinaryBound(BinaryFn.Mod, Add(Position(), Position()), K(3)), K(rng.Next(3))),
        };

        private BoundExpr Window(BoundExpr p, BoundExpr m, long w)
        {
            var d = Sub(p, m);
            return new BinaryBound(BinaryFn.And, new BinaryBound(BinaryFn.Lt, d, K(w)), new BinaryBound(BinaryFn.Lt, new UnaryBound(UnaryFn.Neg, d), K(w)));
        }

        private BinaryFn Comparison() => (BinaryFn)rng.Next((int)BinaryFn.Lt, (int)BinaryFn.Ne + 1);

        private BoundExpr Affine()
        {
            var terms = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => (rng.Next(space.Count), (long)rng.Next(-3, 4))).ToArray();
            BoundExpr e = Index(rng.Next(-5, 6), terms);
            return rng.Next(3) == 0 ? new BinaryBound(BinaryFn.Mul, K(0.5), e) : e;
        }

        public BoundExpr Condition(int depth) => depth == 0 || rng.Next(3) == 0 ? Atom() : rng.Next(5) switch
        {
            0 => new UnaryBound(UnaryFn.Not, Condition(depth - 1)),
            1 or 2 => new BinaryBound(BinaryFn.And, Condition(depth - 1), Condition(depth - 1)),
            _ => new BinaryBound(BinaryFn.Or, Condition(depth - 1), Condition(depth - 1)),
        };
    }

    private static (IterationVariable[] Space, int SplitOuter, int SplitInner) RandomSpace(Random rng)
    {
        var n = rng.Next(1, 5);
        var space = Enumerable.Range(0, n).Select(i => new IterationVariable("v" + i, "V" + i, rng.Next(1, n <= 2 ? 40 : 14))).ToArray();
        if (n < 3 || rng.Next(2) == 0) return (space, -1, -1);
        // a split rank m = m1 * M0 + m0 over the last two variables
        space[n - 2] = new IterationVariable("m1", "M1", rng.Next(1, 6));
        space[n - 1] = new IterationVariable("m0", "M0", rng.Next(1, 6));
        return (space, n - 2, n - 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void RandomMasksCountAsBruteForce(int seed)
    {
        var rng = new Random(seed);
        for (var trial = 0; trial < 60; trial++)
        {
            var (space, outer, inner) = RandomSpace(rng);
            var condition = new MaskGenerator(rng, space, outer, inner).Condition(3);
            var expected = BruteForce(condition, space);
            var counted = PointCounter.Count(condition, space);
            Assert.True(expected == counted,
                $"seed {seed} trial {trial}: counted {counted}, brute force {expected}, over [{string.Join(", ", space.Select(v => $"{v.Name}:{v.Size}"))}] for {condition.Format(i => "in" + i)}");
        }
    }

    [Fact]
    public void CombinedShippedMasksCountAsBruteForce()
    {
        // causal with an offset, a window and a block mask together, on non-square and unaligned shapes
        var rng = new Random(42);
        for (var trial = 0; trial < 40; trial++)
        {
            var p = new IterationVariable("p", "P", rng.Next(1, 90));
            var m = new IterationVariable("m", "M", rng.Next(1, 90));
            IterationVariable[] space = [new("b", "B", 2), p, m];
            BoundExpr P = Var(1, "p"), M = Var(2, "m");
            var block = rng.Next(1, 12);
            var offset = rng.Next(0, 20);
            var width = rng.Next(1, 30);
            BoundExpr causal = new BinaryBound(BinaryFn.Le, M, new BinaryBound(BinaryFn.Add, P, new ConstExpr(offset)));
            var d = new BinaryBound(BinaryFn.Sub, new BinaryBound(BinaryFn.Add, P, new ConstExpr(offset)), M);
            BoundExpr window = new BinaryBound(BinaryFn.And, new BinaryBound(BinaryFn.Lt, d, new ConstExpr(width)),
                new BinaryBound(BinaryFn.Lt, new UnaryBound(UnaryFn.Neg, d), new ConstExpr(width)));
            BoundExpr pb = new BinaryBound(BinaryFn.FloorDiv, P, new ConstExpr(block)), mb = new BinaryBound(BinaryFn.FloorDiv, M, new ConstExpr(block));
            BoundExpr blocks = new BinaryBound(BinaryFn.Or, new BinaryBound(BinaryFn.Eq, pb, mb), new BlockMaskExpr(pb, mb, rng.NextDouble(), rng.Next()));
            var condition = new BinaryBound(BinaryFn.And, new BinaryBound(BinaryFn.And, causal, window), blocks);
            Assert.Equal(BruteForce(condition, space), PointCounter.Count(condition, space));
        }
    }

    private static IndexValueExpr Var(int v, string name) => new(new AffineIndex(0, [new AffineTerm(v, name, 1)]));

    [Fact]
    public void NeighbourhoodMaskFactorsIntoItsAxes()
    {
        // |y - y'| <= r and |x - x'| <= r over a 2-D query and key grid: the count is the product of the two 1-D counts
        const long side = 256, r = 7;
        IterationVariable[] space = [new("y", "Y", side), new("x", "X", side), new("ky", "KY", side), new("kx", "KX", side)];
        BoundExpr Near(int a, int b) => new BinaryBound(BinaryFn.Le,
            new UnaryBound(UnaryFn.Abs, new BinaryBound(BinaryFn.Sub, Var(a, space[a].Name), Var(b, space[b].Name))), new ConstExpr(r));
        long axis = 0;
        for (long i = 0; i < side; i++) axis += Math.Min(side - 1, i + r) - Math.Max(0, i - r) + 1;
        Assert.Equal(axis * axis, PointCounter.Count(new BinaryBound(BinaryFn.And, Near(0, 2), Near(1, 3)), space));
    }

    [Fact]
    public void CausalBlockSparseAtLongSequencesEqualsATileByTileSum()
    {
        // The shipped block-sparse mask at 64K tokens, against the sum over kept tiles of the causal points in each.
        const long n = 65536, block = 64;
        var r = CascadeAnalyzer.Analyze(WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", "block-sparse-3pass.yaml"),
            new Dictionary<string, string> { ["seq_len"] = n.ToString(), ["causal"] = "true", ["heads"] = "1", ["density"] = "0.3", ["mask_seed"] = "7" }));
        long expected = 0;
        for (long rb = 0; rb < n / block; rb++)
            for (long cb = 0; cb <= rb; cb++)
                if (rb == cb || BlockMaskExpr.Keep(rb, cb, 0.3, 7))
                    expected += rb == cb ? block * (block + 1) / 2 : block * block; // causal m <= p
        Assert.Equal(expected * 64, r.Einsum("QK").Ops.Mac);
        Assert.Equal(expected, r.Einsum("SN").Points);
        Assert.Equal(expected, r.Einsum("A").Points);
    }

    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void BlockSparseCausalAnalyzesThroughTheCli()
    {
        const long n = 131072, block = 64;
        var (code, stdout, stderr) = Cli("analyze", RepoPaths.Of("workloads", "attention", "block-sparse-3pass.yaml"),
            "--set", $"seq_len={n}", "--set", "causal=true", "--set", "heads=1");
        Assert.True(code == 0, stderr);
        long expected = 0;
        for (long rb = 0; rb < n / block; rb++)
            for (long cb = 0; cb <= rb; cb++)
                if (rb == cb || BlockMaskExpr.Keep(rb, cb, 0.25, 1)) expected += rb == cb ? block * (block + 1) / 2 : block * block;
        var sn = stdout.Split('\n').First(l => l.StartsWith("SN "));
        Assert.Contains(expected.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), sn);
    }

    [Fact]
    public void AMaskTooLargeToCountIsOneLocatedLine()
    {
        // (p + m + e) % 3 is neither affine nor constant on tiles: counted point by point, refused at 2^48 points.
        using var dir = new Experiments.TempDir();
        var file = dir.Write("mod-mask.yaml", """
            name: mod-mask
            params: {n: 65536}
            ranks: {P: n, M: n, E: n}
            tensors: {Q: [P, E], K: [M, E]}
            einsums:
              - expr: S[p,m] = Q[p,e] * K[m,e]
                where: (p + m + e) % 3 == 0
            """);
        var (code, stdout, stderr) = Cli("analyze", file);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith(file + ":", line);
        Assert.Contains("too complex for exact analytical counting", line);
        Assert.DoesNotContain("Exception", line);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void SplitRankCausalCountsAtAMillionTokens()
    {
        // The 1-pass cascade's causal mask is over m = m1*256 + m0: it counts as the triangle, without enumerating m1.
        var r = CascadeAnalyzer.Analyze(WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"),
            new Dictionary<string, string> { ["seq_len"] = "1048576", ["causal"] = "true", ["heads"] = "1" }));
        const long P = 1048576;
        Assert.Equal(P * (P + 1) / 2, r.Einsum("SLN").Points);
    }
}
