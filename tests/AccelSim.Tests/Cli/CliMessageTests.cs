using AccelSim.Cli;

namespace AccelSim.Tests.CliMessages;

/// <summary>
/// Command-line mistakes are one line in our words (no .NET type names) with exit 2, and every output path a command
/// cannot write to is refused before any work: `PATH: --out: cannot write (reason)`.
/// </summary>
public class CliMessageTests
{
    private static readonly string Workload = RepoPaths.Of("workloads", "attention", "attention-1pass.yaml");
    private static readonly string Arch = RepoPaths.Of("arch", "timeloop-3level.yaml");

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string OneLineError(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.True(code == ExitCodes.BadInput, $"exit {code}: {err}");
        var line = err.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("System.", line);
        Assert.DoesNotContain("Exception", line);
        Assert.DoesNotContain("`1", line);
        return line;
    }

    [Theory]
    [InlineData("--budget", "x", "--budget: expected a whole number, got 'x'")]
    [InlineData("--seed", "1.5", "--seed: expected a whole number, got '1.5'")]
    public void WrongTypedMapOptions(string option, string value, string expected) =>
        Assert.StartsWith(expected, OneLineError("map", "--arch", Arch, "--workload", Workload, option, value));

    [Fact]
    public void WrongTypedSweepJobs()
    {
        Assert.StartsWith("--jobs: expected a whole number, got 'x' (see 'accelsim sweep --help')",
            OneLineError("sweep", RepoPaths.Of("workloads", "sweeps", "roofline-gemm.yaml"), "--jobs", "x"));
        Assert.StartsWith("--jobs: must be at least 1, got -1",
            OneLineError("sweep", RepoPaths.Of("workloads", "sweeps", "roofline-gemm.yaml"), "--jobs", "-1"));
    }

    [Fact]
    public void UnknownOptionsAndVerbsSuggestTheClosest()
    {
        Assert.Equal("--jsn: unknown option for 'accelsim analyze' (did you mean '--json'?) (see 'accelsim analyze --help')",
            OneLineError("analyze", Workload, "--jsn"));
        Assert.Equal("accelsim: unknown command 'analyz' (did you mean 'analyze'?) (one of: analyze, check, eval, sweep, reproduce, validate, plot, report, merge, import, map, completion) (see 'accelsim --help')",
            OneLineError("analyz", Workload));
    }

    [Fact]
    public void NonNumericSetValueNamesTheParameterOnce()
    {
        var line = OneLineError("analyze", Workload, "--set", "seq_len=abc");
        Assert.StartsWith("--set seq_len: unknown parameter 'abc'", line);
    }

    /// <summary>Tests run as root, so "read-only" is no obstacle; a path under a regular file always is.</summary>
    private static string UnderARegularFile(string leaf)
    {
        var file = RepoPaths.TempYaml("not a folder\n", "plain.txt");
        return Path.Combine(file, "sub", leaf);
    }

    [Fact]
    public void SaveUnderARegularFile()
    {
        var target = UnderARegularFile("best.yaml");
        var line = OneLineError("map", "--arch", Arch, "--workload", Workload, "--einsum", "QK", "--budget", "5", "--save", target);
        Assert.Equal($"{target}: --save: cannot write ({Path.GetDirectoryName(Path.GetDirectoryName(target))} is a file, not a folder)", line);
    }

    [Theory]
    [InlineData("sweep")]
    [InlineData("merge")]
    [InlineData("plot")]
    [InlineData("reproduce fusemax")]
    [InlineData("reproduce spatten")]
    [InlineData("import timeloop")]
    public void OutUnderARegularFile(string verb)
    {
        var target = UnderARegularFile("out");
        string[] args = verb switch
        {
            "sweep" => ["sweep", RepoPaths.Of("workloads", "sweeps", "roofline-gemm.yaml"), "--out", target],
            "merge" => ["merge", Path.GetTempPath(), "--out", target],
            "plot" => ["plot", "speedup", "--in", "no-such.csv", "--out", target + ".png"],
            "import timeloop" => ["import", "timeloop", "no-arch.yaml", "no-problem.yaml", "--out", target],
            _ => [.. verb.Split(' '), "--out", target],
        };
        var line = OneLineError(args);
        Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(args[^1]) + @": --out: cannot write \(.* is a file, not a folder\)$", line);
    }

    [Fact]
    public void OutThatIsAnExistingFile()
    {
        var file = RepoPaths.TempYaml("x\n", "taken.txt");
        Assert.Equal($"{file}: --out: cannot write (it is a file, not a folder)",
            OneLineError("sweep", RepoPaths.Of("workloads", "sweeps", "roofline-gemm.yaml"), "--out", file));
    }

    [Fact]
    public void WritableOutputsStillWork()
    {
        var save = Path.Combine(Path.GetDirectoryName(RepoPaths.TempYaml("x\n"))!, "best.yaml");
        var (code, _, err) = Run("map", "--arch", Arch, "--workload", Workload, "--einsum", "QK", "--budget", "5", "--save", save);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(save));
    }
}
