using AccelSim.Core;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>An index may be a tensor lookup (a gather): paged-KV decode reads K and V through a page table.</summary>
public class GatherTests
{
    // vLLM-style paged attention decode (Kwon et al., SOSP 2023, arXiv 2309.06180): one query per sequence; the
    // keys of logical block p1 of sequence b live in physical page page[b,p1] of a shared pool of N pages.
    private const string Yaml = """
        name: paged-decode
        source: PagedAttention (arXiv 2309.06180), decode step
        params:
          batch: 2
          heads: 2
          blocks: 3
          page_size: 2
          pages: 7
          head_dim: 3
          scale: 1 / sqrt(head_dim)
        ranks:
          B: batch
          H: heads
          P1: blocks
          M0: page_size
          N: pages
          E: head_dim
          F: head_dim
        tensors:
          Q: [B, H, E]
          K: [N, H, M0, E]
          V: [N, H, M0, F]
          page: [B, P1]
        outputs: [AV]
        einsums:
          - QK[b,h,p1,m0] = Q[b,h,e] * K[page[b,p1],h,m0,e] * scale
          - MX[b,h] = max[p1,m0](QK[b,h,p1,m0])
          - SN[b,h,p1,m0] = exp(QK[b,h,p1,m0] - MX[b,h])
          - SD[b,h] = sum[p1,m0](SN[b,h,p1,m0])
          - AV[b,h,f] = SN[b,h,p1,m0] * V[page[b,p1],h,m0,f] / SD[b,h]
        """;

    private static (int Code, string Err, string Out) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(args, o, e);
        return (code, e.ToString(), o.ToString());
    }

    private static Dictionary<string, DenseTensor> Inputs(AccelSim.Einsum.Ir.Cascade cascade, Func<long, long, double> page)
    {
        var inputs = Interpreter.RandomInputs(cascade, 3).ToDictionary();
        var table = inputs["page"];
        for (long o = 0; o < table.Length; o++) { var ix = table.IndexOf(o); table.Values[o] = page(ix[0], ix[1]); }
        return inputs;
    }

    [Fact]
    public void Paged_decode_matches_attention_over_the_gathered_pages()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Yaml));
        var inputs = Inputs(cascade, (b, p1) => (5 * b + 2 * p1 + 1) % 7); // b=0: 1,3,5; b=1: 6,1,3 (shared page)
        var av = Interpreter.Run(cascade, inputs)["AV"];
        var (q, k, v, page) = (inputs["Q"], inputs["K"], inputs["V"], inputs["page"]);
        const int batch = 2, heads = 2, blocks = 3, pageSize = 2, d = 3;
        for (var b = 0; b < batch; b++)
            for (var h = 0; h < heads; h++)
            {
                // token t of sequence b sits at (page[b, t / page_size], t % page_size)
                var loc = Enumerable.Range(0, blocks * pageSize)
                    .Select(t => ((long)page.Values[page.Offset([b, t / pageSize])], (long)(t % pageSize))).ToList();
                var s = loc.Select(l => Enumerable.Range(0, d).Sum(e => q.Values[q.Offset([b, h, e])] * k.Values[k.Offset([l.Item1, h, l.Item2, e])]) / Math.Sqrt(d)).ToList();
                var mx = s.Max();
                var w = s.Select(x => Math.Exp(x - mx)).ToList();
                for (var f = 0; f < d; f++)
                {
                    var expected = loc.Select((l, i) => w[i] * v.Values[v.Offset([l.Item1, h, l.Item2, f])]).Sum() / w.Sum();
                    var got = av.Values[av.Offset([b, h, f])];
                    Assert.True(Math.Abs(got - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"AV[{b},{h},{f}] = {got}, expected {expected}");
                }
            }
    }

    [Theory]
    [InlineData(7.0)]
    [InlineData(-1.0)]
    [InlineData(2.5)]
    public void A_page_outside_the_pool_is_an_error_naming_the_lookup(double bad)
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Yaml));
        var inputs = Inputs(cascade, (b, p1) => b == 1 && p1 == 2 ? bad : p1);
        var error = Assert.Throws<InputException>(() => Interpreter.Run(cascade, inputs));
        Assert.Contains("page[1,2]", error.Message);
        Assert.Contains("[0, 7)", error.Message);
    }

    [Fact]
    public void Gathers_count_as_the_dense_access_and_footprints_use_the_declared_pool()
    {
        var (code, err, output) = Run("analyze", RepoPaths.TempYaml(Yaml), "--json");
        Assert.True(code == 0, err);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var qk = doc.RootElement.GetProperty("einsums").EnumerateArray().First(e => e.GetProperty("name").GetString() == "QK");
        Assert.Equal(2 * 2 * 3 * 2 * 3, qk.GetProperty("points").GetInt64());
        Assert.Contains("page[b,p1]", qk.GetProperty("expr").GetString());
        var k = doc.RootElement.GetProperty("tensors").EnumerateArray().First(t => t.GetProperty("name").GetString() == "K");
        Assert.Equal(7 * 2 * 2 * 3, k.GetProperty("elements").GetInt64());
    }

    [Fact]
    public void Random_inputs_fill_a_gather_table_with_valid_pages()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Yaml));
        var page = Interpreter.RandomInputs(cascade, 11)["page"];
        Assert.All(page.Values, v => Assert.True(v == Math.Floor(v) && v >= 0 && v < 7, $"page value {v}"));
        Assert.True(page.Values.Distinct().Count() > 1);
        _ = Interpreter.Run(cascade, Interpreter.RandomInputs(cascade, 11)); // runs without a range error
    }

    [Fact]
    public void Writing_through_a_gather_is_one_located_line()
    {
        var yaml = Yaml.Replace("- AV[b,h,f] = SN", "- W[page[b,p1],h] = Q[b,h,e]\n  - AV[b,h,f] = SN");
        var (code, err, _) = Run("analyze", RepoPaths.TempYaml(yaml));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }
}
