using AccelSim.Einsum.Checking;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// Every shipped attention workload, evaluated by the interpreter on small random inputs, equals a direct
/// softmax(Q K^T / sqrt(d)) V (or the direct formula its `reference:` names) to 1e-12, with and without causal
/// masks, sliding windows, uneven tiles and keys longer than queries.
/// </summary>
public class InterpreterEquivalenceTests
{
    private const double Tolerance = 1e-12;

    public static IEnumerable<string> AttentionWorkloads() =>
        Directory.GetFiles(RepoPaths.Of("workloads", "attention"), "*.yaml").Select(Path.GetFileName).Order()!;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        string[] variants = ["dense", "causal", "window", "longer-keys", "causal-longer-keys", "even-tiles"];
        foreach (var w in AttentionWorkloads())
            foreach (var v in variants)
                data.Add(w, v);
        return data;
    }

    /// <summary>Small sizes for whichever of these parameters the workload declares.</summary>
    public static Dictionary<string, string> Small(WorkloadSpec spec, string variant)
    {
        var declared = spec.Params.Select(p => p.Name).ToHashSet();
        var decode = spec.Name.StartsWith("decode", StringComparison.Ordinal);
        var want = new Dictionary<string, string>
        {
            ["batch"] = "2", ["heads"] = "4", ["kv_heads"] = spec.Name.StartsWith("mqa", StringComparison.Ordinal) ? "1" : "2",
            ["seq_len"] = decode ? "1" : "10", ["head_dim"] = "4", ["tile"] = "4", ["chunk"] = "4", ["block_size"] = "3",
            ["causal"] = "false", ["window"] = "0", ["kv_len"] = decode ? "9" : "seq_len",
        };
        switch (variant)
        {
            case "causal": want["causal"] = "true"; break;
            case "window": want["causal"] = "true"; want["window"] = "3"; break;
            case "longer-keys": want["kv_len"] = decode ? "13" : "seq_len + 5"; break;
            case "causal-longer-keys": want["kv_len"] = decode ? "13" : "seq_len + 5"; want["causal"] = "true"; break;
            case "even-tiles": want["seq_len"] = decode ? "1" : "12"; want["kv_len"] = decode ? "12" : "seq_len"; break;
        }
        return want.Where(kv => declared.Contains(kv.Key)).ToDictionary();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CascadeEqualsDirectAttention(string workload, string variant) =>
        AssertEqualsItsReference(RepoPaths.Of("workloads", "attention", workload), variant);

    /// <summary>
    /// Softmax cascades (an attention: section, no other reference declared) are compared with this file's own
    /// <see cref="AttentionReference"/>; a file declaring another `reference:` with that direct formula, so a sigmoid
    /// or linear cascade dropped into workloads/attention is checked by its own formula instead of breaking the test.
    /// </summary>
    internal static void AssertEqualsItsReference(string path, string variant)
    {
        var spec = WorkloadLoader.LoadSpec(path);
        var cascade = WorkloadLoader.Bind(spec, Small(spec, variant));
        var inputs = Interpreter.RandomInputs(cascade, seed: 42);
        var result = Interpreter.Run(cascade, inputs);
        var formula = CascadeCheck.ChooseFormula(spec, null);
        var output = cascade.Attention is { } info ? cascade.Tensor(info.Output) : cascade.Tensors.Single(t => t.Role == TensorRole.Output);

        DenseTensor expected;
        if (formula.Name is "softmax-attention" or "block-sparse-attention")
        {
            Func<long, long, bool>? extra = null;
            if (formula.Name == "block-sparse-attention")
            {
                var density = cascade.Parameter("density");
                var seed = (long)cascade.Parameter("mask_seed");
                var b = (long)cascade.Parameter("block_size");
                extra = (p, m) => p / b == m / b || BlockMaskExpr.Keep(p / b, m / b, density, seed);
            }
            expected = AttentionReference.Compute(cascade, inputs, extra);
        }
        else expected = formula.Compute(cascade, inputs);
        var error = AttentionReference.MaxRelativeError(CanonicalView.Of(cascade, output, result[output.Name]), expected);
        Assert.True(error <= Tolerance, $"{Path.GetFileName(path)} ({variant}): max relative error {error:E3} against {formula.Name}");
    }

    [Theory]
    [InlineData("sigmoid-attention.yaml")]
    [InlineData("chunked-linear-attention.yaml")]
    public void ANonSoftmaxFileInTheAttentionFolderUsesItsDeclaredReference(string variant)
    {
        // As if the file had been dropped into workloads/attention: same code path, its own formula.
        foreach (var v in new[] { "dense", "causal", "longer-keys", "even-tiles" })
            AssertEqualsItsReference(RepoPaths.Of("workloads", "variants", variant), v);
    }

    [Fact]
    public void ReferenceDetectsAWrongCascade()
    {
        // The oracle must be able to fail: a cascade that forgets the max subtraction's partner (divides by the
        // wrong denominator) differs from the reference.
        var yaml = File.ReadAllText(RepoPaths.Of("workloads", "attention", "attention-3pass.yaml"))
            .Replace("A[b,h,m,p] = SN[b,h,m,p] / SD[b,h,p]", "A[b,h,m,p] = SN[b,h,m,p] / (SD[b,h,p] + 1e-3)");
        var path = RepoPaths.TempYaml(yaml);
        var spec = WorkloadLoader.LoadSpec(path);
        var cascade = WorkloadLoader.Bind(spec, Small(spec, "causal"));
        var inputs = Interpreter.RandomInputs(cascade, 7);
        var error = AttentionReference.MaxRelativeError(Interpreter.Run(cascade, inputs)["AV"], AttentionReference.Compute(cascade, inputs));
        Assert.True(error > 1e-6, $"a perturbed cascade must not match (error {error:E3})");
    }

    [Fact]
    public void TransformerLayerMatchesDirectImplementation()
    {
        var spec = WorkloadLoader.LoadSpec(RepoPaths.Of("workloads", "layers", "transformer-layer.yaml"));
        var cascade = WorkloadLoader.Bind(spec, new Dictionary<string, string>
        {
            ["batch"] = "2", ["seq_len"] = "6", ["d_model"] = "8", ["heads"] = "2", ["head_dim"] = "4", ["ffn_dim"] = "10", ["tile"] = "4",
        });
        var inputs = Interpreter.RandomInputs(cascade, 3);
        var actual = Interpreter.Run(cascade, inputs)["Y2"];
        var expected = TransformerLayerReference(cascade, inputs);
        var error = AttentionReference.MaxRelativeError(actual, expected);
        Assert.True(error <= Tolerance, $"transformer layer: max relative error {error:E3}");
    }

    private static DenseTensor TransformerLayerReference(Cascade c, IReadOnlyDictionary<string, DenseTensor> t)
    {
        long B = c.Rank("B").Size, P = c.Rank("P").Size, D = c.Rank("D").Size, H = c.Rank("H").Size, E = c.Rank("E").Size, S = c.Rank("S").Size;
        var eps = c.Parameter("eps");
        var scale = 1 / Math.Sqrt(E);
        var y2 = new DenseTensor("Y2", [B, P, D]);
        double Gelu(double x) => x / (1 + Math.Exp(-1.702 * x));
        double[] LayerNorm(double[] x, DenseTensor g, DenseTensor beta)
        {
            var mu = x.Average();
            var var = x.Select(v => (v - mu) * (v - mu)).Average();
            return x.Select((v, d) => (v - mu) / Math.Sqrt(var + eps) * g[d] + beta[d]).ToArray();
        }
        for (long b = 0; b < B; b++)
        {
            var q = new double[H, P, E];
            var k = new double[H, P, E];
            var v = new double[H, P, E];
            for (long h = 0; h < H; h++) for (long p = 0; p < P; p++) for (long e = 0; e < E; e++)
                for (long d = 0; d < D; d++)
                {
                    q[h, p, e] += t["X"][b, p, d] * t["WQ"][d, h, e];
                    k[h, p, e] += t["X"][b, p, d] * t["WK"][d, h, e];
                    v[h, p, e] += t["X"][b, p, d] * t["WV"][d, h, e];
                }
            for (long p = 0; p < P; p++)
            {
                var z = new double[D];
                for (long h = 0; h < H; h++)
                {
                    var s = new double[P];
                    for (long m = 0; m < P; m++) { for (long e = 0; e < E; e++) s[m] += q[h, p, e] * k[h, m, e]; s[m] *= scale; }
                    var max = s.Max();
                    var w = s.Select(x => Math.Exp(x - max)).ToArray();
                    var sum = w.Sum();
                    for (long f = 0; f < E; f++)
                    {
                        double av = 0;
                        for (long m = 0; m < P; m++) av += w[m] / sum * v[h, m, f];
                        for (long d = 0; d < D; d++) z[d] += av * t["WO"][h, f, d];
                    }
                }
                var r1 = Enumerable.Range(0, (int)D).Select(d => t["X"][b, p, d] + z[d]).ToArray();
                var y1 = LayerNorm(r1, t["G1"], t["BE1"]);
                var a1 = new double[S];
                for (long s = 0; s < S; s++)
                {
                    double h1 = 0;
                    for (long d = 0; d < D; d++) h1 += y1[d] * t["W1"][d, s];
                    a1[s] = Gelu(h1 + t["B1"][s]);
                }
                var r2 = new double[D];
                for (long d = 0; d < D; d++)
                {
                    double h2 = 0;
                    for (long s = 0; s < S; s++) h2 += a1[s] * t["W2"][s, d];
                    r2[d] = y1[d] + h2 + t["B2"][d];
                }
                var out2 = LayerNorm(r2, t["G2"], t["BE2"]);
                for (long d = 0; d < D; d++) y2[b, p, d] = out2[d];
            }
        }
        return y2;
    }
}
