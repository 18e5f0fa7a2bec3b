using System.Collections.Immutable;
using System.Text.Json;
using AccelSim.Einsum.Loading;
using AccelSim.Gpu;
using AccelSim.Gpu.Generic;

namespace AccelSim.Tests.Gpu.Generic;

/// <summary>`--kernel generic`: any cascade priced on a GPU from its own Einsums.</summary>
public class GenericKernelTests
{
    private static readonly string H100 = RepoPaths.Of("arch", "gpu", "h100.yaml");

    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private static JsonElement Generic(string workload, params string[] sets)
    {
        var args = new List<string> { "eval", "--arch", H100, "--workload", workload, "--kernel", "generic", "--json" };
        foreach (var s in sets) args.AddRange(["--set", s]);
        var (code, output, err) = Cli([.. args]);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("NaN", output);
        Assert.DoesNotContain("Infinity", output);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static double Latency(string kernel, string workload, params string[] sets)
    {
        var args = new List<string> { "eval", "--arch", H100, "--workload", workload, "--kernel", kernel, "--json" };
        foreach (var s in sets) args.AddRange(["--set", s]);
        var (code, output, err) = Cli([.. args]);
        Assert.True(code == 0, err);
        return JsonDocument.Parse(output).RootElement.GetProperty("latency_s").GetDouble();
    }

    private static double MufuBusy(JsonElement r) => r.GetProperty("resource_busy_s").GetProperty(GpuResources.Exp).GetDouble();

    private static string Attention(string file) => RepoPaths.Of("workloads", "attention", file);

    public static TheoryData<string> ShippedWorkloads()
    {
        var data = new TheoryData<string>();
        foreach (var dir in new[] { "attention", "layers" })
            foreach (var f in Directory.GetFiles(RepoPaths.Of("workloads", dir), "*.yaml").Order(StringComparer.Ordinal))
                data.Add(Path.GetRelativePath(RepoPaths.Root, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedWorkloads))]
    public void EveryShippedWorkloadIsPricedWithinPeakAndWithAnalyzesCounts(string relative)
    {
        var r = Generic(RepoPaths.Of(relative));
        Assert.Equal("generic", r.GetProperty("kernel").GetString());
        var latency = r.GetProperty("latency_s").GetDouble();
        Assert.True(latency > 0 && double.IsFinite(latency));
        Assert.True(r.GetProperty("tflops").GetDouble() <= r.GetProperty("peak_tflops").GetDouble());
        Assert.InRange(r.GetProperty("utilization").GetDouble(), 0, 1);
        foreach (var u in r.GetProperty("resource_utilization").EnumerateObject()) Assert.InRange(u.Value.GetDouble(), 0, 1);
        Assert.True(r.GetProperty("energy_pJ").GetDouble() > 0);

        // The same required op counts as analyze, kind by kind; flops = 2 x MACs; groups partition the cascade.
        var (code, analyzed, err) = Cli("analyze", RepoPaths.Of(relative), "--json");
        Assert.True(code == 0, err);
        var analysis = JsonDocument.Parse(analyzed).RootElement;
        var total = analysis.GetProperty("total_ops");
        var required = r.GetProperty("required_ops");
        foreach (var kind in total.EnumerateObject())
        {
            Assert.Equal(kind.Value.GetInt64(), required.GetProperty(kind.Name).GetInt64());
            Assert.Equal(kind.Value.GetInt64(), r.GetProperty("groups").EnumerateArray().Sum(g => g.GetProperty("required_ops").GetProperty(kind.Name).GetInt64()));
        }
        Assert.Equal(2.0 * total.GetProperty("mac").GetInt64(), r.GetProperty("flops").GetDouble());
        var grouped = r.GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("einsums").EnumerateArray().Select(e => e.GetString())).ToList();
        Assert.Equal(analysis.GetProperty("einsums").EnumerateArray().Select(e => e.GetProperty("name").GetString()), grouped);
        foreach (var g in r.GetProperty("groups").EnumerateArray())
            foreach (var u in g.GetProperty("resource_utilization").EnumerateObject()) Assert.InRange(u.Value.GetDouble(), 0, 1);
    }

    [Fact]
    public void OnePassAttentionIsOneFusedKernelThatKeepsItsIntermediatesOnChip()
    {
        var r = Generic(Attention("attention-1pass.yaml"), "seq_len=8192");
        var group = Assert.Single(r.GetProperty("groups").EnumerateArray());
        var onChip = group.GetProperty("on_chip").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("QK", onChip);
        Assert.Contains("SLN", onChip);
        Assert.Contains("RNV", onChip);
        Assert.Equal(["AV"], group.GetProperty("writes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["M1"], group.GetProperty("loop_ranks").EnumerateArray().Select(e => e.GetString()));
        // HBM traffic is the compulsory Q, K, V reads and the AV write: 4 x 12 heads x 8192 x 64 x 2 bytes.
        Assert.Equal(4.0 * 12 * 8192 * 64 * 2, r.GetProperty("traffic_bytes").GetProperty("hbm").GetDouble(), 6);
    }

    [Fact]
    public void CausalAttentionCostsLessThanDense()
    {
        foreach (var file in new[] { "attention-1pass.yaml", "attention-3pass.yaml", "gqa-1pass.yaml" })
        {
            var dense = Generic(Attention(file), "seq_len=4096", "causal=false");
            var causal = Generic(Attention(file), "seq_len=4096", "causal=true");
            Assert.True(causal.GetProperty("latency_s").GetDouble() < dense.GetProperty("latency_s").GetDouble(), file);
            Assert.True(MufuBusy(causal) < MufuBusy(dense), file);
            Assert.True(causal.GetProperty("flops").GetDouble() < 0.6 * dense.GetProperty("flops").GetDouble(), file);
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void LongDenseSoftmaxAttentionIsWithinAFactorOfTwoOfFlashAttention2(int headDim)
    {
        string[] sets = ["seq_len=16384", $"head_dim={headDim}"];
        var generic = Latency("generic", Attention("attention-1pass.yaml"), sets);
        var fa2 = Latency("fa2", Attention("attention-1pass.yaml"), sets);
        Assert.InRange(fa2 / generic, 0.5, 2.0);
    }

    // Linear attention (Katharopoulos et al., 2020, eq. 5 with the identity feature map): no exponentials, one
    // division per output element.
    private const string LinearAttention = """
        name: linear-attention
        params: {batch: 1, heads: 12, seq_len: 4096, head_dim: 64, word_bits: 16}
        ranks: {B: batch, H: heads, P: seq_len, M: seq_len, E: head_dim, F: head_dim}
        tensors: {Q: [B, H, P, E], K: [B, H, M, E], V: [B, H, M, F]}
        outputs: [AV]
        einsums:
          - KV[b,h,e,f] = K[b,h,m,e] * V[b,h,m,f]
          - KS[b,h,e] = sum[m](K[b,h,m,e])
          - NUM[b,h,p,f] = Q[b,h,p,e] * KV[b,h,e,f]
          - DEN[b,h,p] = Q[b,h,p,e] * KS[b,h,e]
          - AV[b,h,p,f] = NUM[b,h,p,f] / DEN[b,h,p]
        """;

    // Sigmoid attention (Ramapuram et al., 2024): S = sigmoid(QK^T * scale + bias), no normalisation over the keys.
    private const string SigmoidAttention = """
        name: sigmoid-attention
        params: {batch: 1, heads: 12, seq_len: 4096, head_dim: 64, scale: 1 / sqrt(head_dim), bias: -8, word_bits: 16}
        ranks: {B: batch, H: heads, P: seq_len, M: seq_len, E: head_dim, F: head_dim}
        tensors: {Q: [B, H, P, E], K: [B, H, M, E], V: [B, H, M, F]}
        outputs: [AV]
        einsums:
          - QK[b,h,m,p] = Q[b,h,p,e] * K[b,h,m,e]
          - S[b,h,m,p] = sigmoid(QK[b,h,m,p] * scale + bias)
          - AV[b,h,p,f] = S[b,h,m,p] * V[b,h,m,f]
        """;

    [Fact]
    public void CascadesThatDifferFromSoftmaxGetTheirOwnSpecialFunctionTime()
    {
        var softmax = Generic(Attention("attention-1pass.yaml"), "seq_len=4096");
        var linear = Generic(RepoPaths.TempYaml(LinearAttention, "linear.yaml"));
        var sigmoid = Generic(RepoPaths.TempYaml(SigmoidAttention, "sigmoid.yaml"));
        // Dropping the exponentials lowers the MUFU time; a sigmoid costs an exponential and a reciprocal per score.
        Assert.True(MufuBusy(linear) < 0.05 * MufuBusy(softmax)); // one division per output vs one exp per score: F/M = 1/64
        Assert.True(MufuBusy(sigmoid) > MufuBusy(softmax));
        Assert.True(linear.GetProperty("latency_s").GetDouble() < softmax.GetProperty("latency_s").GetDouble());
        // Sigmoid attention needs no running maximum: QK, S and AV fuse with the scores on chip.
        var group = Assert.Single(sigmoid.GetProperty("groups").EnumerateArray());
        Assert.Contains("S", group.GetProperty("on_chip").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void MatmulClassIsAContractionWithReuseOfBothOperands()
    {
        var layer = WorkloadLoader.Load(RepoPaths.Of("workloads", "layers", "transformer-layer.yaml"));
        bool Matmul(string name) => EinsumWork.IsMatmul(layer.FindEinsum(name)!);
        Assert.True(Matmul("Q"));
        Assert.True(Matmul("QK"));
        Assert.True(Matmul("SLNV"));
        Assert.True(Matmul("H2"));
        Assert.False(Matmul("MU1"));   // a sum of R1 * constant: a reduction, not a GEMM
        Assert.False(Matmul("VAR1"));  // sum of squares
        Assert.False(Matmul("SLN"));   // element-wise exp
        var linear = WorkloadLoader.Load(RepoPaths.TempYaml(LinearAttention, "linear.yaml"));
        Assert.False(EinsumWork.IsMatmul(linear.FindEinsum("DEN")!)); // a matrix-vector product: no reuse of Q
        Assert.True(EinsumWork.IsMatmul(linear.FindEinsum("KV")!));
    }

    [Fact]
    public void ThePartitionIsNoSlowerThanOneKernelPerEinsum()
    {
        var gpu = GpuSpecLoader.LoadFile(H100);
        foreach (var file in new[] { Attention("attention-3pass.yaml"), RepoPaths.Of("workloads", "layers", "transformer-layer.yaml") })
        {
            var cascade = WorkloadLoader.Load(file);
            var report = GenericKernel.Evaluate(gpu, cascade);
            var analysis = AccelSim.Einsum.Analysis.CascadeAnalyzer.Analyze(cascade);
            var work = cascade.Einsums.Select((e, i) => EinsumWork.Of(e, analysis.Einsums[i])).ToImmutableArray();
            var coster = new GroupCoster(gpu, cascade, GenericKernel.DTypeOf(cascade), work);
            var unfused = Enumerable.Range(0, cascade.Einsums.Length).Sum(i => coster.Cost([i]).Seconds);
            Assert.True(report.LatencySeconds <= unfused * (1 + 1e-12), file);
            Assert.True(report.Groups.Length < cascade.Einsums.Length, file);
        }
    }

    [Fact]
    public void NoShapeOrMaskExceedsPeakOrFullUtilisation()
    {
        var cases = new List<(string File, string[] Sets)>();
        foreach (var seq in new[] { 1, 100, 4096, 32768 })
            foreach (var causal in new[] { "false", "true" })
                foreach (var headDim in new[] { 64, 256 })
                    cases.Add(("attention-1pass.yaml", [$"seq_len={seq}", $"causal={causal}", $"head_dim={headDim}"]));
        foreach (var density in new[] { "0.05", "1" })
            cases.Add(("block-sparse-3pass.yaml", [$"density={density}"]));
        foreach (var window in new[] { 1, 300 })
            foreach (var causal in new[] { "false", "true" })
                cases.Add(("sliding-window-1pass.yaml", [$"window={window}", $"causal={causal}"]));
        foreach (var spec in new[] { "a100.yaml", "h100.yaml" })
        {
            var gpu = GpuSpecLoader.LoadFile(RepoPaths.Of("arch", "gpu", spec));
            foreach (var (file, sets) in cases)
            {
                var cascade = WorkloadLoader.Load(Attention(file), WorkloadLoader.ParseOverrides(sets));
                var r = GenericKernel.Evaluate(gpu, cascade);
                var what = $"{spec} {file} {string.Join(" ", sets)}";
                Assert.True(r.LatencySeconds > 0 && double.IsFinite(r.LatencySeconds), what);
                Assert.True(r.Tflops <= r.PeakTflops, what);
                Assert.True(2 * r.Groups.Sum(g => (double)g.Cost.TensorMacs) / r.LatencySeconds / 1e12 <= r.TensorPeakTflops, what);
                Assert.All(r.Resources, u => Assert.InRange(u.Utilization, 0, 1));
                Assert.All(r.Resources, u => Assert.True(u.BusySeconds <= r.LatencySeconds * (1 + 1e-12), what + " " + u.Resource));
                Assert.True(double.IsFinite(r.EnergyJoules) && r.EnergyJoules > 0, what);
            }
        }
    }

    [Fact]
    public void TextOutputNamesTheKernelAndTheGroups()
    {
        var (code, output, err) = Cli("eval", "--arch", H100, "--workload", Attention("attention-3pass.yaml"), "--kernel", "generic");
        Assert.True(code == 0, err);
        Assert.Contains("--kernel generic", output);
        Assert.Contains("group 1", output);
        Assert.Contains("on chip:", output);
    }

    [Theory]
    [InlineData("--direction", "bwd")]
    [InlineData("--dtype", "fp4")]
    [InlineData("--dtype", "fp12")]
    public void WhatTheGenericKernelCannotPriceIsOneLineOfBadInput(string option, string value)
    {
        var (code, _, err) = Cli("eval", "--arch", H100, "--workload", Attention("attention-1pass.yaml"), "--kernel", "generic", option, value);
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("Exception", err);
    }
}
