using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AccelSim.Cli;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// Inputs whose size would become recursion depth (nested parentheses, long operator chains, deep YAML, long chains
/// of parameters or Einsums) either work or give one located line and exit 2. Each case runs the real CLI on a thread
/// with a 1 MiB stack, less than any thread AccelSim runs on (8 MiB main thread, 1.5 MiB pool threads), so the
/// deepest accepted inputs are shown to fit with room to spare. (An unbounded recursion on these inputs would abort
/// the test host: .NET cannot catch a stack overflow.)
/// </summary>
public class DeepInputTests
{
    /// <summary>Enough for every accepted depth in a Debug build; far too little for a recursion proportional to these inputs.</summary>
    private const int StackBytes = 1024 * 1024;

    private const string Good = """
        name: tiny
        params:
          rows: 8
          cols: 4
          s: 1
        ranks:
          N: rows
          K: cols
        tensors:
          A: [N, K]
          B: [K]
        einsums:
          - Y[n] = A[n,k] * B[k]
        """;

    private static (int Code, string Out, string Err) RunOnSmallStack(params string[] args)
    {
        (int, string, string) result = default;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                var o = new StringWriter();
                var e = new StringWriter();
                var code = Cli.Cli.Run(args, o, e);
                result = (code, o.ToString(), e.ToString());
            }
            catch (Exception ex) { error = ex; }
        }, StackBytes);
        thread.Start();
        thread.Join();
        if (error is not null) throw new Xunit.Sdk.XunitException("Cli.Run threw: " + error);
        return result;
    }

    private static void AssertLocatedError(string yaml, int line, string contains)
    {
        var path = RepoPaths.TempYaml(yaml);
        var (code, _, err) = RunOnSmallStack("analyze", path);
        Assert.Equal(ExitCodes.BadInput, code);
        var lines = err.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Contains(contains, err);
        Assert.Matches(new Regex("^" + Regex.Escape(path) + ":" + line + ":\\d+: "), lines[0]);
    }

    private static JsonElement AnalyzeJson(string yaml)
    {
        var (code, stdout, err) = RunOnSmallStack("analyze", RepoPaths.TempYaml(yaml), "--json");
        Assert.True(code == 0, err);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    private const string TooDeep = "nests deeper than 256 levels";

    [Fact]
    public void TenThousandNestedParenthesesInAnEinsum() =>
        AssertLocatedError(Good.Replace("A[n,k] * B[k]", Repeat("(", 10_000) + "A[n,k]" + Repeat(")", 10_000) + " * B[k]"), 13, TooDeep);

    [Fact]
    public void TenThousandNestedParenthesesInAParameter() =>
        AssertLocatedError(Good.Replace("s: 1", "s: " + Repeat("(", 10_000) + "1" + Repeat(")", 10_000)), 5, TooDeep);

    [Fact]
    public void FlatFiftyThousandTermSumInAnEinsum() =>
        AssertLocatedError(Good.Replace("A[n,k] * B[k]", "A[n,k] * B[k]" + Repeat(" + A[n,k]", 50_000)), 13, TooDeep);

    [Fact]
    public void FlatFiftyThousandTermSumInAParameter() =>
        AssertLocatedError(Good.Replace("s: 1", "s: 1" + Repeat(" + 1", 50_000)), 5, TooDeep);

    [Theory]
    [InlineData("-")]
    [InlineData("not ")]
    public void LongPrefixChains(string prefix) =>
        AssertLocatedError(Good.Replace("s: 1", "s: " + Repeat(prefix, 10_000) + "1"), 5, TooDeep);

    [Fact]
    public void LongPowerChain() =>
        AssertLocatedError(Good.Replace("s: 1", "s: 1" + Repeat(" ^ 1", 10_000)), 5, TooDeep);

    [Fact]
    public void NestedCallsAndIndices() =>
        AssertLocatedError(Good.Replace("A[n,k] * B[k]", Repeat("exp(", 5_000) + "A[n,k]" + Repeat(")", 5_000)), 13, TooDeep);

    [Fact]
    public void TheErrorPointsAtTheOperatorThatGoesTooDeep()
    {
        var path = RepoPaths.TempYaml(Good.Replace("s: 1", "s: 1" + Repeat(" + 1", 300)));
        var (code, _, err) = RunOnSmallStack("analyze", path);
        Assert.Equal(2, code);
        // `s: 1 + 1 + ...`: the value starts at column 6; the 256th '+' (tree level 257) is 4 characters per term on.
        Assert.StartsWith($"{path}:5:{6 + 2 + 4 * 255}: params.s: expression {TooDeep}", err);
    }

    [Fact]
    public void ExpressionsJustUnderTheLimitWork()
    {
        // 253 added terms (tree depth 256: an access is two levels, the product three) and 250 nested parenthesised
        // sums bind, count and report exactly.
        var sum = AnalyzeJson(Good.Replace("A[n,k] * B[k]", "A[n,k] * B[k]" + Repeat(" + A[n,k]", 253)));
        var ops = sum.GetProperty("einsums")[0].GetProperty("ops");
        Assert.Equal(8 * 4 * 253 + 8 * 4, ops.GetProperty("add").GetInt64()); // 253 adds per point, plus the sum-reduction's add
        var nested = AnalyzeJson(Good.Replace("A[n,k] * B[k]", Repeat("(A[n,k] + ", 250) + "A[n,k]" + Repeat(")", 250) + " * B[k]"));
        Assert.Equal(32, nested.GetProperty("einsums")[0].GetProperty("ops").GetProperty("mac").GetInt64());
        var param = AnalyzeJson(Good.Replace("s: 1", "s: " + Repeat("(1 + ", 250) + "1" + Repeat(")", 250)));
        Assert.Equal(251, param.GetProperty("parameters").GetProperty("s").GetDouble());
    }

    [Fact]
    public void NestedFunctionsThatExpandAreBoundedToo()
    {
        // sigmoid expands to four levels: 250 nested calls are 1,000 levels, every one of them walked recursively.
        var deep = AnalyzeJson(Good.Replace("A[n,k] * B[k]", Repeat("sigmoid(", 250) + "A[n,k] * B[k]" + Repeat(")", 250)));
        Assert.Equal(32 * 250, deep.GetProperty("einsums")[0].GetProperty("ops").GetProperty("exp").GetInt64());
        // gelu uses its argument twice, so 30 nested calls would be a tree of 2^30 operations.
        AssertLocatedError(Good.Replace("A[n,k] * B[k]", Repeat("gelu(", 30) + "A[n,k] * B[k]" + Repeat(")", 30)), 13,
            "expands to more than 100,000 operations");
    }

    [Fact]
    public void HundredThousandNestedFlowLists()
    {
        var path = RepoPaths.TempYaml(Repeat("[", 100_000) + Repeat("]", 100_000));
        var (code, _, err) = RunOnSmallStack("analyze", path);
        Assert.Equal(2, code);
        Assert.Equal($"{path}:1:129: YAML nests deeper than 128 levels of lists and mappings", err.Trim());
    }

    [Fact]
    public void DeeplyIndentedMappingsAndMixedFlow()
    {
        var block = new StringBuilder();
        for (var i = 0; i < 3_000; i++) block.Append(' ', i).Append('k').Append(i).Append(":\n");
        var path = RepoPaths.TempYaml(block.ToString());
        var (code, _, err) = RunOnSmallStack("analyze", path);
        Assert.Equal(2, code);
        Assert.StartsWith($"{path}:129:", err);
        Assert.Contains("YAML nests deeper than 128 levels", err);

        var mixed = RepoPaths.TempYaml("a: " + Repeat("{b: [", 50_000) + Repeat("]}", 50_000) + "\n");
        (code, _, err) = RunOnSmallStack("analyze", mixed);
        Assert.Equal(2, code);
        Assert.Contains("YAML nests deeper than 128 levels", err);
    }

    [Fact]
    public void HundredThousandChainedParameters()
    {
        var chain = new StringBuilder("  p0: 1\n");
        for (var i = 1; i < 100_000; i++) chain.Append("  p").Append(i).Append(": p").Append(i - 1).Append(" + 1\n");
        var r = AnalyzeJson(Good.Replace("  s: 1\n", "  s: p99999 - 99999\n" + chain));
        Assert.Equal(100_000, r.GetProperty("parameters").GetProperty("p99999").GetDouble());
        Assert.Equal(1, r.GetProperty("parameters").GetProperty("s").GetDouble());
    }

    [Fact]
    public void ALongParameterCycleIsStillFound() =>
        AssertLocatedError(Good.Replace("  s: 1\n", "  s: q0\n" + string.Concat(Enumerable.Range(0, 5_000).Select(i => $"  q{i}: q{(i + 1) % 5_000} + 1\n"))),
            6, "parameter 'q0' depends on itself");

    [Fact]
    public void ThousandsOfChainedEinsums()
    {
        var chain = new StringBuilder(Good).Append('\n');
        for (var i = 0; i < 3_000; i++) chain.Append($"  - Y{i}[n] = Y{(i == 0 ? "" : i - 1)}[n] * 2\n");
        var r = AnalyzeJson(chain.ToString());
        Assert.Equal(3_001, r.GetProperty("einsums").GetArrayLength());
        Assert.Equal("Y2999", r.GetProperty("einsums")[3_000].GetProperty("name").GetString());
    }

    [Fact]
    public void HundredsOfChainedMasksAreRefusedNotOverflowed()
    {
        // Every Einsum adds its own filter to the support it passes on; the condition grows by one level each time.
        var chain = new StringBuilder(Good).Append('\n');
        for (var i = 0; i < 600; i++)
            chain.Append($"  - expr: Y{i}[n] = Y{(i == 0 ? "" : i - 1)}[n] * Y{(i == 0 ? "" : i - 1)}[n]\n    where: n < rows - {i % 3}\n");
        var path = RepoPaths.TempYaml(chain.ToString());
        var (code, _, err) = RunOnSmallStack("analyze", path);
        Assert.Equal(2, code);
        Assert.Matches(@":\d+:\d+: Y5\d\d: the masks reaching this Einsum .* deeper than 512 levels", err);
    }
}
