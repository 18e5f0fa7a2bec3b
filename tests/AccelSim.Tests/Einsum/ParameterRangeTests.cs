using System.Text.Json;
using System.Text.RegularExpressions;
using AccelSim.Cli;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// Parameter values out of range (huge, non-finite, negative, zero) and mask arguments out of their domain are
/// located one-line errors with exit 2, naming the parameter; never an OverflowException, exit 1 or a silent success.
/// </summary>
public class ParameterRangeTests
{
    private static readonly string Attention = RepoPaths.Of("workloads", "attention", "attention-1pass.yaml");
    private static readonly string SlidingWindow = RepoPaths.Of("workloads", "attention", "sliding-window-1pass.yaml");
    private static readonly string BlockSparse = RepoPaths.Of("workloads", "attention", "block-sparse-3pass.yaml");

    private const string Tiny = """
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

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>Exit 2, one line, no .NET exception names, starting with <paramref name="prefix"/> and containing every part.</summary>
    private static string AssertError(string[] args, string prefix, params string[] parts)
    {
        var (code, _, err) = Run(args);
        Assert.True(code == ExitCodes.BadInput, $"exit {code}: {err}");
        var line = err.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("Exception", line);
        Assert.Matches("^" + prefix, line);
        foreach (var p in parts) Assert.Contains(p, line);
        return line;
    }

    private static string Loc(string path, int line) => Regex.Escape(path) + ":" + line + @":\d+: ";

    [Fact]
    public void HugeSetValueNamesTheParameter() =>
        AssertError(["analyze", Attention, "--set", "seq_len=99999999999999999999999"], Loc(Attention, 23) + "ranks.P: ",
            "is too large", "seq_len = 1E+23 from --set");

    [Fact]
    public void OverflowingNumberIsNotInfinity() =>
        AssertError(["analyze", Attention, "--set", "seq_len=1e400"], "--set seq_len: ", "'1e400' evaluates to Infinity");

    [Theory]
    [InlineData("scale=1/0", "--set scale: ", "evaluates to Infinity")]
    [InlineData("scale=0/0", "--set scale: ", "evaluates to NaN")]
    [InlineData("scale=log(0)", "--set scale: ", "evaluates to -Infinity")]
    [InlineData("scale=sqrt(-1)", "--set scale: ", "evaluates to NaN")]
    public void NonFiniteParametersAreRefused(string set, string prefix, string part) =>
        AssertError(["analyze", Attention, "--set", set], prefix, part);

    [Fact]
    public void NonFiniteParameterInAFileIsLocated()
    {
        var path = RepoPaths.TempYaml(Tiny.Replace("cols: 4", "cols: 4\n  scale: 1 / (cols - 4)"));
        AssertError(["analyze", path], Loc(path, 5) + "params.scale: ", "evaluates to Infinity");
    }

    [Fact]
    public void ProductsThatOverflowNameTheSetValues()
    {
        AssertError(["analyze", Attention, "--set", "seq_len=1e15", "--set", "head_dim=1e15"], Loc(Attention, 33),
            "more than 2^63 points", "--set seq_len=1e15, head_dim=1e15");
        // Dense points fit in 64 bits, but 2 FLOPs per MAC do not.
        AssertError(["analyze", Attention, "--set", "seq_len=1e8"], Loc(Attention, 34), "QK:", "overflow 64-bit operation counts");
    }

    [Fact]
    public void TensorFootprintThatOverflows()
    {
        // Declared but only read through a constant index: the iteration spaces stay small, the footprint does not.
        var path = RepoPaths.TempYaml(Tiny.Replace("cols: 4", "cols: 4\n  big: 3e6").Replace("K: cols", "K: cols\n  L: big\n  M: big\n  O: big")
            .Replace("B: [K]", "B: [K]\n  C: [L, M, O]").Replace("A[n,k] * B[k]", "A[n,k] * B[k] + C[0, 0, 0]"));
        AssertError(["analyze", path], Loc(path, 15) + "tensors.C: ", "tensor C (3000000 x 3000000 x 3000000) has more than 2^63 elements");
    }

    [Theory]
    [InlineData("rows=-3", "must be positive, got -3")]
    [InlineData("rows=0", "must be positive, got 0")]
    [InlineData("rows=2.5", "must be a whole number, got 2.5")]
    public void RankSizesMustBePositiveWholeNumbers(string set, string part)
    {
        var path = RepoPaths.TempYaml(Tiny);
        AssertError(["analyze", path, "--set", set], Loc(path, 6) + "ranks.N: ", part, "from --set");
    }

    [Fact]
    public void NegativeWindowIsAnErrorAtTheMask() =>
        AssertError(["analyze", SlidingWindow, "--set", "window=-5"], Loc(Attention, 35) + @"einsums\[1\]\.where: QK: window\(\): ",
            "the width must be a whole number >= 1", "got -5 (window = -5 from --set)");

    [Fact]
    public void WindowZeroStillMeansNoWindow()
    {
        // `window == 0 or window(p, m, window)`: the mask folds away, so its argument is not checked.
        var (code, stdout, err) = Run("analyze", Attention, "--set", "window=0", "--json");
        Assert.True(code == 0, err);
        var qk = JsonDocument.Parse(stdout).RootElement.GetProperty("einsums").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "QK");
        Assert.Equal(qk.GetProperty("dense_points").GetInt64(), qk.GetProperty("points").GetInt64());
    }

    [Theory]
    [InlineData("block_size=0", "divides by zero (block_size = 0 from --set)")]
    [InlineData("block_size=-4", "blockmask(): the block size must be a whole number >= 1, got -4 (block_size = -4 from --set)")]
    [InlineData("density=1.5", "blockmask density must be in [0, 1], got 1.5 (density = 1.5 from --set)")]
    [InlineData("mask_seed=0.5", "blockmask seed must be a whole number, got 0.5")]
    public void BlockMaskArguments(string set, string part) =>
        AssertError(["analyze", BlockSparse, "--set", set], Loc(BlockSparse, 35) + @"einsums\[1\]\.where: QK: ", part);

    [Fact]
    public void NegativeCausalOffsetIsAnError() =>
        AssertError(["analyze", Attention, "--set", "causal=true", "--set", "kv_len=seq_len - 10"], Loc(Attention, 35),
            "causal(): the offset must be a whole number >= 0", "got -10");

    [Theory]
    [InlineData("X[n+5] = X[n] + Y[n]", "5 steps behind")]
    [InlineData("X[n] = X[n-5] + Y[n]", "5 steps behind")]
    [InlineData("X[n+2] = X[n] + Y[n]", "2 steps behind")]
    public void RecurrenceOffsetsBeyondTheRankAreErrors(string einsum, string part)
    {
        var path = RepoPaths.TempYaml(Tiny + "\n  - " + einsum + "\n");
        AssertError(["analyze", path, "--set", "rows=2"], Loc(path, 13) + "X: ", part, "N has only 2 step(s)");
        // The same recurrence over enough steps is fine.
        Assert.Equal(0, Run("analyze", path, "--set", "rows=8").Code);
    }

    [Fact]
    public void OrdinaryRecurrenceOverOneStepIsFine()
    {
        var path = RepoPaths.TempYaml(Tiny + "\n  - X[n+1] = X[n] + Y[n]\n");
        Assert.Equal(0, Run("analyze", path, "--set", "rows=1").Code);
    }

    [Fact]
    public void ReadThatNeverMeetsAWriteIsAnError()
    {
        var path = RepoPaths.TempYaml(Tiny + "\n  - Z[k] = Y[9] * B[k]\n");
        AssertError(["analyze", path], Loc(path, 13) + "Z: ", "reads Y[9] at [9, 9] in rank 1, but Y writes Y[n] only at [0, 7]");
    }

    [Fact]
    public void IntegerParametersPrintExactly()
    {
        var (code, stdout, err) = Run("analyze", Attention, "--set", "seq_len=4194304");
        Assert.True(code == 0, err);
        Assert.Contains("seq_len=4194304", stdout);
        Assert.Contains("scale=0.125", stdout);
        (code, stdout, err) = Run("analyze", Attention, "--set", "seq_len=4194304", "--json");
        Assert.True(code == 0, err);
        Assert.Equal("4194304", JsonDocument.Parse(stdout).RootElement.GetProperty("parameters").GetProperty("seq_len").GetRawText());
    }
}
