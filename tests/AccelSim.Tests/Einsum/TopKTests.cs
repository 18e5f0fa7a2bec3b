using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>`topk[m](S[...], k)` in a where: keeps the k largest scores per row; counted as k/M of the points.</summary>
public class TopKTests
{
    // TokenSelect-style (arXiv 2411.02886) top-k key selection: each query attends to its k highest-scoring keys.
    private const string Yaml = """
        name: topk-keys
        source: TokenSelect (arXiv 2411.02886), per-query top-k key selection
        params:
          heads: 2
          seq_len: 5
          kv_len: 7
          head_dim: 3
          k: 3
          scale: 1 / sqrt(head_dim)
        ranks:
          H: heads
          P: seq_len
          M: kv_len
          E: head_dim
          F: head_dim
        tensors:
          Q: [H, P, E]
          K: [H, M, E]
          V: [H, M, F]
        outputs: [AV]
        einsums:
          - S[h,p,m] = Q[h,p,e] * K[h,m,e] * scale
          - expr: QK[h,p,m] = S[h,p,m]
            where: topk[m](S[h,p,m], k) > 0
          - MX[h,p] = max[m](QK[h,p,m])
          - SN[h,p,m] = exp(QK[h,p,m] - MX[h,p])
          - SD[h,p] = sum[m](SN[h,p,m])
          - AV[h,p,f] = SN[h,p,m] * V[h,m,f] / SD[h,p]
        """;

    private static (int Code, string Err, string Out) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(args, o, e);
        return (code, e.ToString(), o.ToString());
    }

    [Fact]
    public void Interpreter_attends_to_exactly_the_k_best_keys()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Yaml));
        var inputs = Interpreter.RandomInputs(cascade, 5);
        var result = Interpreter.Run(cascade, inputs);
        var (q, k, v, av) = (inputs["Q"], inputs["K"], inputs["V"], result["AV"]);
        const int heads = 2, n = 5, keys = 7, d = 3, top = 3;
        for (var h = 0; h < heads; h++)
            for (var p = 0; p < n; p++)
            {
                var s = Enumerable.Range(0, keys).Select(m => Enumerable.Range(0, d).Sum(e => q.Values[q.Offset([h, p, e])] * k.Values[k.Offset([h, m, e])]) / Math.Sqrt(d)).ToArray();
                var chosen = Enumerable.Range(0, keys).OrderByDescending(m => s[m]).ThenBy(m => m).Take(top).ToList();
                var mx = chosen.Max(m => s[m]);
                var z = chosen.Sum(m => Math.Exp(s[m] - mx));
                for (var f = 0; f < d; f++)
                {
                    var expected = chosen.Sum(m => Math.Exp(s[m] - mx) * v.Values[v.Offset([h, m, f])]) / z;
                    var got = av.Values[av.Offset([h, p, f])];
                    Assert.True(Math.Abs(got - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"AV[{h},{p},{f}] = {got}, expected {expected}");
                }
            }
        Assert.Equal(heads * n * top, result.ExecutedPoints["QK"]);
    }

    [Fact]
    public void Analyze_counts_k_over_m_without_a_declared_density()
    {
        var (code, err, output) = Run("analyze", RepoPaths.TempYaml(Yaml), "--json");
        Assert.True(code == 0, err);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        long Points(string name) => doc.RootElement.GetProperty("einsums").EnumerateArray()
            .First(e => e.GetProperty("name").GetString() == name).GetProperty("points").GetInt64();
        Assert.Equal(2 * 5 * 3, Points("QK"));
        Assert.Equal(2 * 5 * 3, Points("SN"));
        Assert.Equal(2 * 5 * 7 * 3, Points("S")); // h, p, m, e: the scores are computed densely
    }

    [Theory]
    [InlineData("topk[m](S[h,p,m], 0) > 0", "topk k must be a whole number in [1, 7]")]
    [InlineData("topk[m](S[h,p,m], 8) > 0", "topk k must be a whole number in [1, 7]")]
    [InlineData("topk[m](p, 2) > 0", "must read a tensor")]
    public void Bad_topk_is_one_located_line(string where, string message)
    {
        var (code, err, _) = Run("analyze", RepoPaths.TempYaml(Yaml.Replace("topk[m](S[h,p,m], k) > 0", where)));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, err);
    }

    [Fact]
    public void Topk_outside_a_where_is_one_located_line()
    {
        var yaml = Yaml.Replace("- MX[h,p] = max[m](QK[h,p,m])", "- MX[h,p] = max[m](QK[h,p,m] * topk[m](S[h,p,m], 2))");
        var (code, err, _) = Run("analyze", RepoPaths.TempYaml(yaml));
        Assert.Equal(2, code);
        Assert.Contains("may appear only in a where:", err);
    }
}
