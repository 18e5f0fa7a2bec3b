using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>`where:` reading a tensor (a data-dependent mask): interpreted from the values, counted by declared density.</summary>
public class DataMaskTests
{
    // XAttention-style block-selected attention: keep[b,h,p1,m1] selects (query block, key block) pairs.
    private static string Yaml(string density) => """
        name: block-selected
        source: XAttention (arXiv 2503.16428), block selection applied as a keep mask
        params:
          batch: 1
          heads: 2
          seq_len: 8
          head_dim: 3
          block: 4
          scale: 1 / sqrt(head_dim)
        ranks:
          B: batch
          H: heads
          P: {size: seq_len, split: {P1: auto, P0: block}}
          M: {size: seq_len, split: {M1: auto, M0: block}}
          E: head_dim
          F: head_dim
        tensors:
          Q: [B, H, P, E]
          K: [B, H, M, E]
          V: [B, H, M, F]
          keep: [B, H, P1, M1]
        outputs: [AV]
        einsums:
          - expr: QK[b,h,p1,p0,m1,m0] = Q[b,h,p,e] * K[b,h,m,e] * scale
            where: keep[b,h,p1,m1] > 0
        DENSITY
          - MX[b,h,p1,p0] = max[m1,m0](QK[b,h,p1,p0,m1,m0])
          - SN[b,h,p1,p0,m1,m0] = exp(QK[b,h,p1,p0,m1,m0] - MX[b,h,p1,p0])
          - SD[b,h,p1,p0] = sum[m1,m0](SN[b,h,p1,p0,m1,m0])
          - AV[b,h,p1,p0,f] = SN[b,h,p1,p0,m1,m0] * V[b,h,m,f] / SD[b,h,p1,p0]
        """.Replace("DENSITY", density);

    private static (int Code, string Err, string Out) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(args, o, e);
        return (code, e.ToString(), o.ToString());
    }

    [Fact]
    public void Interpreter_evaluates_the_mask_from_the_keep_tensor()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Yaml("")));
        var inputs = Interpreter.RandomInputs(cascade, 7).ToDictionary();
        var keep = inputs["keep"];
        for (long o = 0; o < keep.Length; o++)
        {
            var ix = keep.IndexOf(o); // b, h, query block, key block
            keep.Values[o] = ix[2] == ix[3] || (ix[1] + ix[3]) % 2 == 0 ? 1 : 0;
        }
        var result = Interpreter.Run(cascade, inputs);
        var av = result["AV"];
        var (q, k, v) = (inputs["Q"], inputs["K"], inputs["V"]);
        const int heads = 2, n = 8, d = 3, block = 4;
        var scale = 1 / Math.Sqrt(d);
        long kept = 0;
        for (var h = 0; h < heads; h++)
            for (var p = 0; p < n; p++)
            {
                var keys = Enumerable.Range(0, n).Where(m => keep.Values[keep.Offset([0, h, p / block, m / block])] > 0).ToList();
                kept += keys.Count * d;
                var s = keys.Select(m => Enumerable.Range(0, d).Sum(e => q.Values[q.Offset([0, h, p, e])] * k.Values[k.Offset([0, h, m, e])]) * scale).ToList();
                var mx = s.Max();
                var w = s.Select(x => Math.Exp(x - mx)).ToList();
                var z = w.Sum();
                for (var f = 0; f < d; f++)
                {
                    var expected = keys.Select((m, i) => w[i] * v.Values[v.Offset([0, h, m, f])]).Sum() / z;
                    var got = av.Values[av.Offset([0, h, p / block, p % block, f])];
                    Assert.True(Math.Abs(got - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"AV[{h},{p},{f}] = {got}, expected {expected}");
                }
            }
        Assert.Equal(kept, result.ExecutedPoints["QK"]);
    }

    [Fact]
    public void Analyze_without_a_declared_density_is_one_located_line()
    {
        var (code, err, _) = Run("analyze", RepoPaths.TempYaml(Yaml("")));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^[^:]+\.yaml:\d+:\d+: .*QK: the number of points depends on the values of keep.*density: ", err);
    }

    [Fact]
    public void Analyze_with_a_declared_density_scales_the_count_and_says_so()
    {
        var (code, err, output) = Run("analyze", RepoPaths.TempYaml(Yaml("    density: 0.25")), "--json");
        Assert.True(code == 0, err);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var qk = doc.RootElement.GetProperty("einsums").EnumerateArray().First(e => e.GetProperty("name").GetString() == "QK");
        Assert.Equal(0.25 * 2 * 8 * 8 * 3, qk.GetProperty("points").GetDouble());
        Assert.Contains("keep", qk.GetProperty("points_declared").GetString());
        var (_, _, text) = Run("analyze", RepoPaths.TempYaml(Yaml("    density: 0.25")));
        Assert.Contains("points are declared, not exact", text);
    }

    [Theory]
    [InlineData("    density: 0", "density must be in (0, 1]")]
    [InlineData("    density: 1.5", "density must be in (0, 1]")]
    public void Bad_density_is_one_located_line(string density, string message)
    {
        var (code, err, _) = Run("analyze", RepoPaths.TempYaml(Yaml(density)));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, err);
    }
}
