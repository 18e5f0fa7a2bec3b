using System.Text.RegularExpressions;
using AccelSim.Cli;

namespace AccelSim.Tests.Einsum;

/// <summary>Bad workloads give one line `FILE:LINE:COL: field: problem` and exit code 2 — never a stack trace.</summary>
public class WorkloadErrorTests
{
    private const string Good = """
        name: tiny
        params:
          rows: 8
          cols: 4
        ranks:
          N: rows
          K: cols
        tensors:
          A: [N, K]
          B: [K]
        einsums:
          - Y[n] = A[n,k] * B[k]
        """;

    private static (int Code, string Err, string Out) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(args, o, e);
        return (code, e.ToString(), o.ToString());
    }

    private static void AssertOneLineError(string yaml, int line, string contains, params string[] extra)
    {
        var path = RepoPaths.TempYaml(yaml);
        var (code, err, _) = Run(["analyze", path, .. extra]);
        Assert.Equal(ExitCodes.BadInput, code);
        var lines = err.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.DoesNotContain("   at ", err);
        Assert.Contains(contains, err);
        if (line > 0)
            Assert.Matches(new Regex("^" + Regex.Escape(path) + ":" + line + ":\\d+: "), lines[0]);
    }

    [Fact]
    public void GoodWorkloadAnalyses()
    {
        var (code, err, output) = Run("analyze", RepoPaths.TempYaml(Good), "--json");
        Assert.True(code == 0, err);
        Assert.Contains("\"mac\": 32", output);
    }

    [Fact]
    public void MalformedYaml() => AssertOneLineError(Good.Replace("  cols: 4", "  cols: [4"), 0, "malformed YAML");

    [Fact]
    public void UnknownTensor() => AssertOneLineError(Good.Replace("* B[k]", "* C[k]"), 12, "unknown tensor 'C'");

    [Fact]
    public void UnknownRankInTensorDeclaration() => AssertOneLineError(Good.Replace("B: [K]", "B: [Q]"), 10, "unknown rank 'Q'");

    [Fact]
    public void UnknownIndexVariable() => AssertOneLineError(Good.Replace("* B[k]", "* B[j]"), 12, "unknown name 'j'");

    [Fact]
    public void InconsistentRankSizes() => AssertOneLineError(Good.Replace("* B[k]", "* B[n]"), 12, "inconsistent rank sizes");

    [Fact]
    public void WrongNumberOfIndices() => AssertOneLineError(Good.Replace("* B[k]", "* B[k,n]"), 12, "has 1 rank(s)");

    [Fact]
    public void SyntaxErrorPointsAtTheColumn()
    {
        var path = RepoPaths.TempYaml(Good.Replace("A[n,k] * B[k]", "A[n,k] * * B[k]"));
        var (code, err, _) = Run("analyze", path);
        Assert.Equal(2, code);
        Assert.StartsWith($"{path}:12:21: ", err); // the second '*'
    }

    [Fact]
    public void CyclicDependency() => AssertOneLineError(Good.Replace("  - Y[n] = A[n,k] * B[k]", "  - Y[n] = Z[n] + A[n,0] * B[0]\n  - Z[n] = Y[n] * 2"), 12, "cyclic dependency");

    [Fact]
    public void ReadingAheadOfARecurrence() => AssertOneLineError(Good.Replace("  - Y[n] = A[n,k] * B[k]", "  - Y[n+1] = Y[n+2] + A[n,0] * B[0]"), 12, "ahead of the step");

    [Fact]
    public void DanglingTensorDeclaration() => AssertOneLineError(Good.Replace("  B: [K]", "  B: [K]\n  C: [N]"), 11, "no Einsum reads or writes it");

    [Fact]
    public void UnknownField() => AssertOneLineError(Good.Replace("name: tiny", "name: tiny\nranx: 3"), 2, "unknown field");

    [Fact]
    public void NegativeSizeFromSet() => AssertOneLineError(Good, 6, "must be positive, got -3 (rows = -3 from --set)", "--set", "rows=-3");

    [Fact]
    public void UnknownParameterInSet() => AssertOneLineError(Good, 0, "unknown parameter 'seq'", "--set", "seq=3");

    [Fact]
    public void SelfDependentParameter() => AssertOneLineError(Good.Replace("cols: 4", "cols: cols + 1"), 4, "depends on itself");

    [Fact]
    public void MissingFile()
    {
        var (code, err, _) = Run("analyze", "/no/such/workload.yaml");
        Assert.Equal(2, code);
        Assert.Equal("/no/such/workload.yaml: file not found", err.Trim());
    }

    [Fact]
    public void TwoProducersOfOneTensor() => AssertOneLineError(Good.Replace("  - Y[n] = A[n,k] * B[k]", "  - Y[n] = A[n,k] * B[k]\n  - Y[n] = A[n,0]"), 13, "already written by");

    [Fact]
    public void UnevenHeadGroupsAreRejected()
    {
        var path = RepoPaths.Of("workloads", "attention", "gqa-1pass.yaml");
        var (code, err, _) = Run("analyze", path, "--set", "heads=30", "--set", "kv_heads=8");
        Assert.Equal(2, code);
        Assert.Contains("must be a whole number, got 3.75", err);
    }
}
