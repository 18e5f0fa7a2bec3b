using System.Text.Json;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Loading;
using AccelSim.Gpu;

namespace AccelSim.Tests.Gpu;

/// <summary>The GPU engine prices the bound cascade: its roles, its mask (the IR's definition) and its own Einsums.</summary>
public class GpuCascadeTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private static string Workload(string file) => RepoPaths.Of("workloads", "attention", file);

    private static readonly string OnePass = File.ReadAllText(Workload("attention-1pass.yaml"));

    /// <summary>attention-1pass.yaml with its score Einsum's mask also thinned by 128 x 128 blocks (density 0.25).</summary>
    private static string BlockSparseOnePass()
    {
        const string where = "where: (not causal or causal(p, m, kv_len - seq_len)) and (window == 0 or window(p + kv_len - seq_len, m, window))";
        Assert.Contains(where, OnePass);
        return RepoPaths.TempYaml(OnePass.Replace(where, where + " and (p // 128 == m // 128 or blockmask(p // 128, m // 128, 0.25, 7))"),
            "block-sparse-1pass.yaml");
    }

    private static (GpuReport Report, CascadeReport Analysis) Price(string workload, string kernel, string gpu, params string[] sets)
    {
        var cascade = WorkloadLoader.Load(workload, WorkloadLoader.ParseOverrides(sets));
        var spec = GpuTestData.Gpu(gpu);
        var report = GpuEvaluation.Price(spec, GpuTestData.Catalog.Get(kernel), cascade, Direction.Forward, null, workload);
        return (report, CascadeAnalyzer.Analyze(cascade));
    }

    public static TheoryData<long, long, bool> Lengths()
    {
        var data = new TheoryData<long, long, bool>();
        foreach (var seq in new long[] { 1024, 4096, 16384 })
            foreach (var window in new long[] { 0, 128, 512 })
                foreach (var causal in new[] { false, true })
                    data.Add(seq, window, causal);
        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TileSkippingCountsExactlyWhatAnalyzeCounts(long seq, long window, bool causal)
    {
        foreach (var (kernel, gpu) in new[] { ("fa2", "a100"), ("fa3", "h100"), ("fa4", "b200"), ("xformers", "h100") })
        {
            var (r, analysis) = Price(Workload("attention-1pass.yaml"), kernel, gpu,
                $"seq_len={seq}", $"window={window}", $"causal={(causal ? "true" : "false")}", "head_dim=128");
            var required = 2.0 * analysis.TotalOps.Mac;
            Assert.Equal(required, r.Flops);
            // The model's own count: visible pairs inside the tiles it visits (never fewer than analyze, never more).
            Assert.True(Math.Abs(r.CountedFlops - required) <= 1e-9 * required, $"{kernel}: counted {r.CountedFlops}, analyze {required}");
            Assert.True(r.ExecutedFlops >= required, kernel);
            Assert.True(r.PercentOfPeak <= 100, $"{kernel}: {r.PercentOfPeak}% of peak");
        }
    }

    [Fact]
    public void TheWindowIsSymmetricWithoutCausalAndTrailingWithIt()
    {
        // The issue's case: 4K tokens, window 512, non-causal: analyze counts 12.1 GFLOP, not 31.8.
        var (r, analysis) = Price(Workload("attention-1pass.yaml"), "fa3", "h100", "seq_len=4096", "window=512");
        Assert.Equal(2.0 * analysis.TotalOps.Mac, r.Flops);
        Assert.InRange(r.Flops / 1e9, 12.0, 12.2);
        Assert.True(r.PercentOfPeak < 100);
        Assert.Equal(-511, r.Shape.Mask.MinOffset);
        Assert.Equal(511, r.Shape.Mask.MaxOffset);
        var (causal, _) = Price(Workload("attention-1pass.yaml"), "fa3", "h100", "seq_len=4096", "window=512", "causal=true");
        Assert.Equal(-511, causal.Shape.Mask.MinOffset);
        Assert.Equal(0, causal.Shape.Mask.MaxOffset);
        Assert.True(causal.LatencySeconds < r.LatencySeconds);
    }

    [Theory]
    [InlineData(1024L, false)]
    [InlineData(1024L, true)]
    [InlineData(4096L, false)]
    public void BlockMasksAreSkippedByTheFamiliesThatCanAndCountedExactly(long seq, bool causal)
    {
        var workload = BlockSparseOnePass();
        // head_dim 128: FlashAttention-1's 16 x 128 tiles line up with the 128 x 128 mask blocks
        var sets = new[] { $"seq_len={seq}", $"causal={(causal ? "true" : "false")}", "head_dim=128" };
        var (r, analysis) = Price(workload, "fa1", "a100", sets);
        var required = 2.0 * analysis.TotalOps.Mac;
        Assert.Equal(required, r.Flops);
        Assert.True(Math.Abs(r.CountedFlops - required) <= 1e-9 * required, $"counted {r.CountedFlops}, analyze {required}");
        // About a quarter of the blocks (plus the diagonal) are visited, not all of them.
        var dense = Price(Workload("attention-1pass.yaml"), "fa1", "a100", sets).Report;
        Assert.True(r.ExecutedFlops < 0.6 * dense.ExecutedFlops);
        Assert.True(r.LatencySeconds < dense.LatencySeconds);

        // The materialised kernel applies the same mask to the full S of the 3-pass cascade.
        var (u, uAnalysis) = Price(Workload("block-sparse-3pass.yaml"), "standard", "a100", sets);
        Assert.Equal(2.0 * uAnalysis.TotalOps.Mac, u.Flops);
        Assert.True(Math.Abs(u.CountedFlops - u.Flops) <= 1e-9 * u.Flops);
    }

    [Fact]
    public void BackwardCountsTheSameVisiblePairs()
    {
        foreach (var sets in new[] { new[] { "seq_len=4096", "causal=true" }, new[] { "seq_len=4096", "window=256" } })
        {
            var cascade = WorkloadLoader.Load(Workload("attention-1pass.yaml"), WorkloadLoader.ParseOverrides(sets));
            var r = GpuEvaluation.Price(GpuTestData.Gpu("h100"), GpuTestData.Catalog.Get("fa2"), cascade, Direction.ForwardBackward, null, "w");
            var required = 3.5 * 2.0 * CascadeAnalyzer.Analyze(cascade).TotalOps.Mac;
            Assert.Equal(required, r.Flops);
            Assert.True(Math.Abs(r.CountedFlops - required) <= 1e-9 * required);
        }
    }

    private static void OneLine((int Code, string Out, string Err) r, params string[] contains)
    {
        Assert.Equal(2, r.Code);
        var line = r.Err.TrimEnd();
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", line);
        foreach (var c in contains) Assert.Contains(c, line);
    }

    private static (int, string, string) Eval(string workload, string kernel, params string[] extra) =>
        Cli(["eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"), "--workload", workload, "--kernel", kernel, .. extra]);

    private const string Sigmoid = """
        name: sigmoid-attention
        params: {batch: 1, heads: 4, seq_len: 1024, head_dim: 64, scale: 1 / sqrt(head_dim), bias: -7}
        ranks: {B: batch, H: heads, P: seq_len, M: seq_len, E: head_dim, F: head_dim}
        tensors: {Q: [B, H, P, E], K: [B, H, M, E], V: [B, H, M, F]}
        outputs: [AV]
        einsums:
          - QK[b,h,m,p] = Q[b,h,p,e] * K[b,h,m,e]
          - SLN[b,h,m,p] = sigmoid(QK[b,h,m,p] * scale + bias)
          - AV[b,h,p,f] = SLN[b,h,m,p] * V[b,h,m,f]
        attention:
          query: Q
          key: K
          value: V
          output: AV
          ranks: {batch: B, heads: H, query: P, key: M, head_dim: E, value_dim: F}
        """;

    [Fact]
    public void ACascadeThatIsNotSoftmaxAttentionIsRefusedNamingWhatDiffers()
    {
        var sigmoid = RepoPaths.TempYaml(Sigmoid, "sigmoid.yaml");
        foreach (var kernel in new[] { "fa2", "fa3", "cudnn", "standard" })
            OneLine(Eval(sigmoid, kernel), "sigmoid.yaml", $"--kernel {kernel}", $"{kernel} implements softmax attention, but Einsum SLN applies sigmoid");

        // exp without the row maximum is not the softmax the kernels compute either
        var noMax = RepoPaths.TempYaml(Sigmoid.Replace("sigmoid(QK[b,h,m,p] * scale + bias)", "exp(QK[b,h,m,p] * scale)"), "nomax.yaml");
        OneLine(Eval(noMax, "fa3"), "nomax.yaml", "Einsum SLN applies exp without subtracting a maximum");

        // the same Einsums with the softmax normalisation are accepted
        var softmax = RepoPaths.TempYaml(Sigmoid.Replace("""
              - SLN[b,h,m,p] = sigmoid(QK[b,h,m,p] * scale + bias)
              - AV[b,h,p,f] = SLN[b,h,m,p] * V[b,h,m,f]
            """, """
              - MX[b,h,p] = max[m](QK[b,h,m,p])
              - SN[b,h,m,p] = exp(QK[b,h,m,p] - MX[b,h,p])
              - SD[b,h,p] = sum[m](SN[b,h,m,p])
              - A[b,h,m,p] = SN[b,h,m,p] / SD[b,h,p]
              - AV[b,h,p,f] = A[b,h,m,p] * V[b,h,m,f]
            """), "softmax.yaml");
        var ok = Eval(softmax, "standard", "--json");
        Assert.True(ok.Item1 == 0, ok.Item3);
    }

    [Fact]
    public void StructureMismatchesAreOneLineErrors()
    {
        OneLine(Eval(Workload("attention-3pass.yaml"), "fa3"), "--kernel fa3", "1-pass softmax attention with online rescaling", "3 passes over key rank M");
        OneLine(Eval(Workload("attention-1pass.yaml"), "standard"), "--kernel standard", "materialised", "running maximum RM");
        OneLine(Eval(BlockSparseOnePass(), "fa2"), "--kernel fa2", "kernel fa2 cannot skip blockmask tiles");
        OneLine(Eval(Workload("sliding-window-1pass.yaml"), "fa1"), "--kernel fa1", "kernel fa1 cannot skip window tiles");
        OneLine(Eval(RepoPaths.Of("workloads", "layers", "transformer-layer.yaml"), "fa3"), "transformer-layer.yaml", "no `attention:` section");
        // a head-dependent mask is not one the flash kernels skip
        var streaming = RepoPaths.TempYaml(OnePass.Replace("where: (not causal", "where: (h < 2 or p == m) and (not causal"), "heads.yaml");
        OneLine(Eval(streaming, "fa3"), "heads.yaml", "cannot skip the mask of Einsum QK");
    }

    [Fact]
    public void TheReadmeCommandStillWorksAndReportsOpsByKind()
    {
        var (code, output, err) = Eval(Workload("attention-1pass.yaml"), "fa3", "--set", "seq_len=8192", "--json");
        Assert.True(code == 0, err);
        var json = JsonDocument.Parse(output).RootElement;
        var ops = json.GetProperty("ops");
        Assert.Equal(2.0 * ops.GetProperty("mac").GetDouble(), json.GetProperty("flops").GetDouble());
        foreach (var kind in new[] { "mul", "add", "max", "exp", "div" }) Assert.True(ops.GetProperty(kind).GetDouble() > 0, kind);
        Assert.Equal("attention-1pass", json.GetProperty("workload").GetString());
    }

    private static IEnumerable<string> ShippedWorkloads() =>
        Directory.EnumerateFiles(RepoPaths.Of("workloads"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.Contains(Path.DirectorySeparatorChar + "sweeps" + Path.DirectorySeparatorChar))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// Every shipped workload x every kernel family x A100/H100/H200/B200: a one-line refusal, or flops = 2 x analyze's
    /// MACs, at most the peak, utilisations in [0, 1], finite numbers; causal never slower than non-causal. Each
    /// cascade is read once and priced through the same GpuEvaluation.Price that `eval` and the sweeps use.
    /// </summary>
    [Fact]
    public void InvariantsOverEveryShippedWorkloadKernelAndGpu()
    {
        var gpus = new[] { "a100", "h100", "h200", "b200" }.Select(GpuTestData.Gpu).ToArray();
        var families = GpuTestData.Catalog.Families;
        var priced = 0;
        var slower = new List<string>();
        foreach (var workload in ShippedWorkloads())
        {
            var name = Path.GetFileName(workload);
            var cascade = TryLoad(workload, []);
            if (cascade is null) continue;   // not a workload (a model shape, a SpAtten benchmark list): eval refuses it
            var macs = CascadeAnalyzer.Analyze(cascade).TotalOps.Mac;
            // The workload as shipped ("") and, where it has a causal switch, both settings; the comparison runs at
            // 1K queries at most (analyze's exact count of a causal block mask at 4K takes seconds).
            var readings = new Dictionary<string, BoundAttention> { [""] = BoundAttention.Of(cascade) };
            if (cascade.Parameters.TryGetValue("causal", out var shipped))
            {
                var seq = cascade.Parameters.GetValueOrDefault("seq_len", 1);
                var shorter = seq > 1024 ? new[] { "seq_len=1024" } : [];
                foreach (var c in new[] { "false", "true" })
                {
                    if ((shipped != 0) == (c == "true") && shorter.Length == 0) readings[c] = readings[""];
                    // A workload may refuse a setting (a causal-only cascade with causal=false): that is bad input, not a price.
                    else if (TryLoad(workload, [$"causal={c}", .. shorter]) is { } variant) readings[c] = BoundAttention.Of(variant);
                }
            }
            foreach (var gpu in gpus)
                foreach (var family in families)
                {
                    var results = new Dictionary<string, GpuReport>();
                    var byReading = new Dictionary<BoundAttention, GpuReport?>(ReferenceEqualityComparer.Instance);
                    foreach (var (setting, attention) in readings)
                    {
                        if (byReading.TryGetValue(attention, out var seen))
                        {
                            if (seen is not null) results[setting] = seen;
                            continue;
                        }
                        byReading[attention] = null;
                        var what = $"{name} {family.Name} {gpu.Name} {setting}";
                        GpuReport r;
                        try
                        {
                            r = GpuEvaluation.Price(gpu, family, attention, Direction.Forward, null, workload);
                        }
                        catch (AccelSim.Core.InputException e)
                        {
                            Assert.False(e.Message.Contains('\n'), $"{what}: {e.Message}");
                            Assert.Contains(name, e.Message);
                            continue;
                        }
                        var json = GpuReportFormatter.ToJson(r);
                        Assert.DoesNotContain("NaN", json);
                        Assert.DoesNotContain("Infinity", json);
                        if (setting == "")
                            Assert.True(Math.Abs(r.Flops - 2.0 * macs) <= 0.01 * 2.0 * macs, $"{what}: flops {r.Flops} vs 2 x {macs} MACs");
                        Assert.True(r.PercentOfPeak <= 100, $"{what}: {r.PercentOfPeak}% of peak");
                        Assert.InRange(r.Utilization, 0, 1);
                        foreach (var u in r.Resources) Assert.True(u.Utilization is >= 0 and <= 1, $"{what}: {u.Resource} {u.Utilization}");
                        Assert.True(r.ExecutedFlops >= r.Flops * (1 - 1e-12), $"{what}: executed {r.ExecutedFlops} < required {r.Flops}");
                        results[setting] = byReading[attention] = r;
                        priced++;
                    }
                    if (!results.TryGetValue("false", out var off) || !results.TryGetValue("true", out var on)) continue;
                    if (on.LatencySeconds <= off.LatencySeconds * (1 + 1e-12)) continue;
                    // Two explained exceptions, both properties of the kernels rather than of the pricing of masks:
                    // the unfused benchmark builds the N x N causal mask and adds it to the whole S (validated against
                    // the measured PyTorch-standard causal rows); and a flash grid of at most one wave ends with its
                    // last query block, which visits every key tile in both cases and masks its diagonal tiles too.
                    if (family.Algorithm == KernelAlgorithm.Unfused || on.Phases[0].Waves <= 1) continue;
                    slower.Add($"{name} {family.Name} {gpu.Name}: causal {on.LatencySeconds} s > non-causal {off.LatencySeconds} s");
                }
        }
        Assert.True(slower.Count == 0, string.Join("\n", slower));
        Assert.True(priced > 100, $"only {priced} runs priced");
    }

    [Fact]
    public void EvalRefusesWhatItCannotPriceOnOneLine()
    {
        foreach (var workload in ShippedWorkloads())
        {
            var (code, output, err) = Eval(workload, "fa3", "--json");
            if (code == 0) { Assert.DoesNotContain("NaN", output); continue; }
            OneLine((code, output, err), Path.GetFileName(workload));
        }
    }

    private static AccelSim.Einsum.Ir.Cascade? TryLoad(string file, string[] sets)
    {
        try { return WorkloadLoader.Load(file, WorkloadLoader.ParseOverrides(sets)); }
        catch (AccelSim.Core.InputException) { return null; }
    }

    [Fact]
    public void BandCountsMatchTheDefinitionPointByPoint()
    {
        var rng = new Random(5);
        for (var trial = 0; trial < 200; trial++)
        {
            long q = rng.Next(1, 40), kv = rng.Next(1, 40);
            long? min = rng.Next(3) == 0 ? null : rng.Next(-45, 45), max = rng.Next(3) == 0 ? null : rng.Next(-45, 45);
            var mask = new ScoreMask(q, kv, min, max, rng.Next(2) == 0 ? null : new BlockPattern(5, 7, (r, c) => (r * 3 + c) % 4 != 1, "test"));
            long q0 = rng.Next(-3, (int)q + 3), q1 = rng.Next(-3, (int)q + 3), k0 = rng.Next(-3, (int)kv + 3), k1 = rng.Next(-3, (int)kv + 3);
            long expected = 0;
            for (var p = Math.Max(0, q0); p <= Math.Min(q - 1, q1); p++)
                for (var m = Math.Max(0, k0); m <= Math.Min(kv - 1, k1); m++)
                    if ((min is null || m - p >= min) && (max is null || m - p <= max) && (mask.Blocks is null || mask.Blocks.Keep(p / 5, m / 7)))
                        expected++;
            Assert.Equal(expected, mask.Count(q0, q1, k0, k1));
        }
    }
}
