using System.Text.Json;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Loading;
using AccelSim.Mapping;
using AccelSim.Model;

namespace AccelSim.Tests.Model;

/// <summary>
/// Mask-aware spatial pricing: tiles a `where:` mask leaves empty are skipped. With 1-point tiles the computed
/// points equal `analyze`'s exact count; on random mappings the non-empty tiles of every level and the compute steps
/// equal a brute-force walk of the loop nest (at least it, where block masks straddle tiles), computed points lie
/// between required and dense, utilisation stays within 1, and a dense Einsum prices exactly as before.
/// </summary>
public class MaskedModelTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private static ProblemShape Qk(string where)
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(QkYaml(where)));
        return EinsumProblems.FromEinsum(cascade.Einsums[0], cascade);
    }

    public static TheoryData<string> Masks() => new()
    {
        "causal(p, m)",
        "window(p, m, 3)",
        "causal(p, m) and window(p, m, 5)",
        "blockmask(p // 2, m // 2, 0.5, 7)",
        "causal(p, m) and (p // 4 == m // 4 or blockmask(p // 4, m // 4, 0.6, 3))",
        "h == 0 or m < 2 or window(p, m, 3)",
    };

    [Theory]
    [MemberData(nameof(Masks))]
    public void OnePointTilesComputeExactlyAnalyzesCount(string where)
    {
        var problem = Qk(where);
        var path = ModelTestKit.Path(ModelTestKit.Level("DRAM", null, null, cls: "dram"), ModelTestKit.Level("RF", "DRAM", 64), ModelTestKit.Pe("RF"));
        var ctx = new ModelContext(path, problem);
        var m = ctx.CreateMapping();
        int D = problem.Dims.Length;
        for (int d = 0; d < D; d++) { m.Temporal[d] = (int)problem.Dims[d].Size; m.Order[d] = d; m.Order[D + d] = d; }
        m.KeepMask[0] = (1 << problem.Tensors.Length) - 1;
        m.KeepMask[1] = 1 << problem.TensorIndex("QK");
        var r = ctx.CreateResult();
        Assert.True(ctx.Evaluate(m, r), r.Status.ToString());
        var analyze = CascadeAnalyzer.Analyze(WorkloadLoader.Load(RepoPaths.TempYaml(QkYaml(where)))).Einsum("QK").Points;
        Assert.Equal(analyze, problem.RequiredPoints);
        Assert.Equal(analyze, (long)r.Operations);
        Assert.True(analyze < problem.Points);
        // Every operand is read once per computed point, and the output is written once per computed point.
        Assert.Equal(analyze, r.Reads[problem.TensorIndex("Q")]);
        Assert.Equal(analyze, r.Updates[path.LevelCount - 1 == 1 ? 1 * problem.Tensors.Length + problem.TensorIndex("QK") : 0]);
    }

    private static string QkYaml(string where) => $$"""
        name: masked-qk
        params:
          heads: 2
          seq_len: 12
          tile: 4
          head_dim: 2
        ranks:
          H: heads
          P: seq_len
          M:
            size: seq_len
            split: {M1: auto, M0: tile}
          E: head_dim
        tensors:
          Q: [H, P, E]
          K: [H, M, E]
        einsums:
          - expr: QK[h,m1,m0,p] = Q[h,p,e] * K[h,m,e]
            where: {{where}}
        """;

    [Theory]
    [MemberData(nameof(Masks))]
    public void NonEmptyTilesMatchTheLoopNestOnRandomMappings(string where)
    {
        var problem = Qk(where);
        var mask = problem.Mask!;
        // One comparison counts tiles exactly; `and` of several (a window is two) and block masks may keep a tile
        // whose points satisfy each side in different places (never fewer than the exact count).
        bool exact = where == "causal(p, m)";
        var dense = new ModelContext(ModelTestKit.Architectures()[0].Path, problem with { Mask = null });
        foreach (var (name, path) in ModelTestKit.Architectures())
        {
            var ctx = new ModelContext(path, problem);
            var denseCtx = new ModelContext(path, problem with { Mask = null });
            var r = ctx.CreateResult();
            var rd = denseCtx.CreateResult();
            var rng = new Random(name.Length * 31 + where.Length);
            int valid = 0;
            for (int attempt = 0; attempt < 400 && valid < 40; attempt++)
            {
                var m = ModelTestKit.RandomMapping(path, problem, rng);
                if (!ctx.Evaluate(m, r)) continue;
                Assert.True(denseCtx.Evaluate(m, rd));
                valid++;
                var (tiles, steps) = BruteForce(problem, m, path.LevelCount, mask);
                for (int l = 0; l < path.LevelCount; l++)
                    if (exact) Assert.Equal(tiles[l], r.NonEmptyTiles[l]);
                    else Assert.True(r.NonEmptyTiles[l] >= tiles[l], $"{name} level {l}: {r.NonEmptyTiles[l]} < {tiles[l]}");
                if (exact) Assert.Equal(steps, r.NonEmptyTiles[path.LevelCount]);
                else Assert.True(r.NonEmptyTiles[path.LevelCount] >= steps);
                Assert.InRange(r.Operations, problem.RequiredPoints, problem.Points);
                Assert.True(r.Utilization <= 1 + 1e-12, $"utilisation {r.Utilization}");
                Assert.True(r.Cycles <= rd.Cycles + 1e-9);
                for (int i = 0; i < r.Reads.Length; i++)
                {
                    Assert.InRange(r.Reads[i], 0, rd.Reads[i]);
                    Assert.InRange(r.Fills[i], 0, rd.Fills[i]);
                    Assert.InRange(r.Updates[i], 0, rd.Updates[i]);
                }
            }
            Assert.True(valid >= 10, $"{name}: only {valid} valid mappings");
        }
        _ = dense;
    }

    /// <summary>Non-empty level tiles and compute steps, by walking every point of the loop nest.</summary>
    private static (long[] Tiles, long Steps) BruteForce(ProblemShape p, CompactMapping m, int L, IterationMask mask)
    {
        int D = p.Dims.Length;
        var ext = new long[(L + 1) * D];
        for (int d = 0; d < D; d++) ext[L * D + d] = 1;
        for (int l = L - 1; l >= 0; l--)
            for (int d = 0; d < D; d++)
                ext[l * D + d] = (long)m.Temporal[l * D + d] * m.SpatialX[l * D + d] * m.SpatialY[l * D + d] * ext[(l + 1) * D + d];
        var tileSets = Enumerable.Range(0, L).Select(_ => new HashSet<string>()).ToArray();
        var stepSet = new HashSet<string>();
        var point = new long[D];
        long total = p.Points;
        for (long k = 0; k < total; k++)
        {
            long rem = k;
            for (int d = D - 1; d >= 0; d--) { point[d] = rem % p.Dims[d].Size; rem /= p.Dims[d].Size; }
            if (!ScalarEvaluator.Truth(mask.Condition, point)) continue;
            for (int l = 0; l < L; l++)
                tileSets[l].Add(string.Join(",", mask.UsedDims.Select(d => point[d] / ext[l * D + d])));
            // The temporal digits of every dimension place the step (counts are over the dimensions the mask reads).
            var key = new List<long>();
            foreach (var d in mask.UsedDims)
                for (int l = 0; l < L; l++)
                    key.Add(point[d] / (ext[(l + 1) * D + d] * m.SpatialX[l * D + d] * m.SpatialY[l * D + d]) % m.Temporal[l * D + d]);
            stepSet.Add(string.Join(",", key));
        }
        return (tileSets.Select(s => (long)s.Count).ToArray(), stepSet.Count);
    }

    [Fact]
    public void EvaluationAllocatesNothingMaskedOrNot()
    {
        var masked = Qk("causal(p, m)");
        foreach (var problem in new[] { masked, masked with { Mask = null } })
        {
            var path = ModelTestKit.Architectures()[2].Path;
            var ctx = new ModelContext(path, problem);
            var r = ctx.CreateResult();
            var rng = new Random(5);
            var m = ModelTestKit.RandomMapping(path, problem, rng);
            while (!ctx.Evaluate(m, r)) m = ModelTestKit.RandomMapping(path, problem, rng);
            ctx.Evaluate(m, r); // the first evaluation of a tile shape counts it; later ones look it up
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) ctx.Evaluate(m, r);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void DenseEinsumsHaveNoMask()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"));
        foreach (var e in cascade.Einsums) Assert.Null(EinsumProblems.FromEinsum(e, cascade).Mask);
    }

    private static string Mapping4K() => RepoPaths.TempYaml("""
        mapping:
          compute: PE2D
          levels:
            - {level: DRAM, temporal: H=12 P=4}
            - {level: L3, temporal: P=4 M1=16, spatial_x: M0=256}
            - {level: RF1D, spatial_y: P=256, keep: []}
            - {level: RF2D, temporal: E=64, keep: [QK]}
        """, "qk-4k.yaml");

    private static JsonElement EvalQk(bool causal, string mapping)
    {
        var (code, stdout, stderr) = Cli("eval", "--arch", RepoPaths.Of("arch", "fusemax", "hardware", "fusemax-hardware.yaml"),
            "--workload", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--einsum", "QK", "--mapping", mapping,
            "--set", "seq_len=4096", "--set", causal ? "causal=true" : "causal=false", "--json");
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public void CausalQkAt4KComputesAtMostSixTenthsOfTheDensePoints()
    {
        var map = Mapping4K();
        var dense = EvalQk(false, map);
        var causal = EvalQk(true, map);
        double dp = dense.GetProperty("points_computed").GetDouble(), cp = causal.GetProperty("points_computed").GetDouble();
        Assert.Equal(12.0 * 4096 * 4096 * 64, dp);
        Assert.Equal(dp, dense.GetProperty("points_required").GetDouble());
        Assert.True(cp <= 0.6 * dp, $"causal computes {cp} of {dp}");
        // 256 x 256 blocks of (key, query): 136 of the 256 per head hold a visible key.
        Assert.Equal(dp * 136 / 256, cp);
        var required = causal.GetProperty("points_required").GetDouble();
        Assert.Equal(12.0 * 4096 * 4097 / 2 * 64, required);
        Assert.True(cp >= required);
        Assert.Equal(dense.GetProperty("compute_cycles").GetDouble() * 136 / 256, causal.GetProperty("compute_cycles").GetDouble());
        Assert.True(causal.GetProperty("energy_pJ").GetDouble() < 0.6 * dense.GetProperty("energy_pJ").GetDouble());
        Assert.True(causal.GetProperty("utilization").GetDouble() <= 1);
        // Every global-buffer tile (1,024 queries x all keys) holds a visible key, so QK's DRAM traffic stays whole.
        Assert.Equal(dense.GetProperty("offchip_bytes").GetDouble(), causal.GetProperty("offchip_bytes").GetDouble());

        var (code, text, err) = Cli("eval", "--arch", RepoPaths.Of("arch", "fusemax", "hardware", "fusemax-hardware.yaml"),
            "--workload", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--einsum", "QK", "--mapping", map,
            "--set", "seq_len=4096", "--set", "causal=true");
        Assert.True(code == 0, err);
        Assert.Contains("points computed", text);
        Assert.Contains("required by the mask", text);
    }

    [Fact]
    public void MapOfCausalQkAt4KComputesAtMostSixTenthsOfTheDensePoints()
    {
        double Points(bool causal)
        {
            var (code, stdout, stderr) = Cli("map", "--arch", RepoPaths.Of("arch", "fusemax", "hardware", "fusemax-hardware.yaml"),
                "--workload", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--einsum", "QK",
                "--set", "seq_len=4096", "--set", causal ? "causal=true" : "causal=false", "--budget", "300", "--seed", "1", "--json");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var json = doc.RootElement.ToString();
            var start = json.IndexOf("\"points_computed\":", StringComparison.Ordinal);
            Assert.True(start >= 0, "map --json names points_computed");
            var rest = json[(start + 18)..].TrimStart();
            var end = rest.IndexOfAny([',', '}', '\n']);
            return double.Parse(rest[..end], System.Globalization.CultureInfo.InvariantCulture);
        }
        var dense = Points(false);
        var causal = Points(true);
        Assert.Equal(12.0 * 4096 * 4096 * 64, dense);
        Assert.True(causal <= 0.6 * dense, $"causal computes {causal} of {dense}");
    }
}
