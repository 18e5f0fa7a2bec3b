using System.Text.Json;
using AccelSim.Cli;

namespace AccelSim.Tests.Experiments;

/// <summary>The `sweep`, `merge`, `plot` and `report` verbs end to end on the shipped roofline sweep.</summary>
public class ExperimentsCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Shipped(string name) =>
        Path.Combine(SweepSpecParserTests.RepoRoot(), "workloads", "sweeps", name);

    [Theory]
    [InlineData("sweep")]
    [InlineData("merge")]
    [InlineData("plot")]
    [InlineData("report")]
    public void HelpHasAnExample(string verb)
    {
        var (code, output, _) = Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Example: accelsim " + verb, output);
    }

    [Fact]
    public void SweepShardMergePlotAndReport()
    {
        using var dir = new TempDir();
        var sweep = Shipped("roofline-attention.yaml");
        var (code, output, err) = Run("sweep", sweep, "--out", dir.File("all"), "--json", "--jobs", "2");
        Assert.True(code == 0, err);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal(32, json.RootElement.GetProperty("evaluated").GetInt32());
            Assert.True(json.RootElement.GetProperty("completed").GetBoolean());
        }

        for (var i = 0; i < 2; i++)
            Assert.Equal(0, Run("sweep", sweep, "--out", dir.File($"s{i}"), "--shard", $"{i}/2", "--progress", "none").Code);
        (code, _, err) = Run("merge", dir.File("s1"), "--out", dir.File("partial"));
        Assert.Equal(1, code);
        Assert.Contains("16 points missing", err);
        (code, _, err) = Run("merge", dir.File("s0"), dir.File("s1"), "--out", dir.File("merged"));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("all"), "results.csv")), File.ReadAllBytes(Path.Combine(dir.File("merged"), "results.csv")));

        foreach (var (kind, extra) in new[]
                 {
                     ("speedup", new[] { "--x", "query_len", "--where", "fused=true" }),
                     ("roofline", new[] { "--group", "arch" }),
                     ("utilization", new[] { "--x", "query_len", "--group", "fused", "--y", "utilization", "--where", "arch=h100" }),
                     ("energy", new[] { "--x", "query_len", "--y", "compute_s,memory_s", "--where", "arch=h100", "--group", "fused" }),
                     ("line", new[] { "--x", "query_len", "--y", "latency_s", "--group", "arch", "--mean-over", "fused" }),
                     ("pareto", new[] { "--x", "latency_s", "--y", "bytes", "--group", "fused" }),
                     ("parity", new[] { "--x", "memory_s", "--y", "latency_s" }),
                     ("line", new[] { "--x", "query_len", "--y", "latency_s", "--group", "arch", "--where", "fused=false" }),
                 })
        {
            var file = dir.File($"plots/{kind}.svg");
            (code, _, err) = Run(["plot", kind, "--in", dir.File("all"), "--out", file, .. extra]);
            Assert.True(code == 0, kind + ": " + err);
            Assert.True(new FileInfo(file).Length > 5_000, kind);
        }

        // Fused and unfused rows of one bar are not blended unasked; the error names the column and the options.
        (code, _, err) = Run("plot", "speedup", "--in", dir.File("all"), "--x", "query_len", "--out", dir.File("plots/blend.svg"));
        Assert.Equal(2, code);
        Assert.Equal($"{Path.Combine(dir.File("all"), "results.csv")}: plot speedup: rows of one bar (query_len=512, arch=h100) differ in " +
                     "workload.fused (true, false); name the column: --where fused=true keeps one value, --x or --group fused splits them, " +
                     "--mean-over fused averages over it", err.TrimEnd('\n'));
        Assert.False(File.Exists(dir.File("plots/blend.svg")));
        (code, _, err) = Run("plot", "line", "--in", dir.File("all"), "--x", "query_len", "--y", "bound", "--where", "arch=h100", "--group", "fused", "--out", dir.File("plots/text.svg"));
        Assert.Equal(2, code);
        Assert.Contains("--y: column 'bound' is not numeric", err);
        Assert.False(File.Exists(dir.File("plots/text.svg")));

        (code, output, err) = Run("report", dir.File("all"));
        Assert.True(code == 0, err);
        Assert.Contains("Speedup over arch=a100", File.ReadAllText(output.Trim()));
    }

    [Fact]
    public void BadInputIsOneLineAndExitCodeTwo()
    {
        using var dir = new TempDir();
        var bad = dir.Write("bad.yaml", "engine: analytic-roofline\nparameters:\n  zip:\n    workload.m: [1, 2]\n    workload.n: [1]\n");
        var (code, _, err) = Run("sweep", bad, "--out", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Equal($"{bad}:5:5: parameters.zip.workload.n: zip lists differ in length: workload.m has 2 values, workload.n has 1", err.Trim());

        (code, _, err) = Run("sweep", Shipped("roofline-gemm.yaml"), "--resume", "--force");
        Assert.Equal(2, code);
        Assert.Contains("contradict", err);
        (code, _, err) = Run("sweep", Shipped("roofline-gemm.yaml"), "--shard", "2/2", "--out", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Contains("--shard: shard index 2 must be below the shard count 2", err);
        (code, _, err) = Run("sweep", Shipped("roofline-gemm.yaml"), "--set", "arch.peak=1", "--out", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Contains("has no field 'peak'", err);
        (code, _, err) = Run("plot", "speedup", "--in", dir.File("nothing.csv"), "--out", dir.File("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("nothing.csv: file not found", err);
        (code, _, _) = Run("plot", "pie", "--in", "x.csv", "--out", "x.png");
        Assert.Equal(2, code);
        (code, _, err) = Run("merge", dir.File("nowhere"), "--out", dir.File("m"));
        Assert.Equal(2, code);
        Assert.Contains("sweep.json: not found", err);
    }

    private static string TinyRoofline(TempDir dir, string k)
    {
        var root = Path.Combine(SweepSpecParserTests.RepoRoot(), "workloads", "sweeps", "roofline");
        return dir.Write("tiny.yaml", $"""
            name: tiny
            engine: analytic-roofline
            arch:
              a100: {Path.Combine(root, "machines", "a100.yaml")}
              h100: {Path.Combine(root, "machines", "h100.yaml")}
            workload: {Path.Combine(root, "gemm.yaml")}
            parameters:
              zip:
                workload.m: [64, 512]
                workload.k: {k}
            metrics: [latency_s]
            """);
    }

    [Fact]
    public void BadInputInSomePointsExitsTwoWithThatPointsOwnLineAndResumeRetriesThem()
    {
        using var dir = new TempDir();
        var gemm = Path.Combine(SweepSpecParserTests.RepoRoot(), "workloads", "sweeps", "roofline", "gemm.yaml");
        var sweep = TinyRoofline(dir, "[64, -512]");
        var results = Path.Combine(dir.File("o"), "results.csv");
        var (code, _, err) = Run("sweep", sweep, "--out", dir.File("o"), "--progress", "none", "--jobs", "1");
        Assert.Equal(2, code);
        Assert.Equal($"{gemm}:5:4: k: must be a positive number, found '-512' " +
                     $"(point 1 of the sweep; 2 of 4 points failed, see the error column of {results})", err.TrimEnd('\n'));
        // The failed rows are kept with their error; --resume runs them again, and they fail again the same way.
        var rows = File.ReadAllLines(results);
        Assert.Equal(5, rows.Length);
        Assert.Equal(2, rows.Count(r => r.Contains("found '-512'", StringComparison.Ordinal)));
        var (again, _, err2) = Run("sweep", sweep, "--out", dir.File("o"), "--progress", "none", "--jobs", "2", "--resume");
        Assert.Equal(2, again);
        Assert.Equal(err, err2);
        Assert.Equal(rows, File.ReadAllLines(results));
    }

    [Fact]
    public void ASweepWhosePointsAllFailPrintsTheFirstPointsLineAndWritesNoRows()
    {
        using var dir = new TempDir();
        var sweep = TinyRoofline(dir, "[64, 512]");
        var (code, _, err) = Run("sweep", sweep, "--out", dir.File("o"), "--progress", "none", "--jobs", "1", "--set", "workload.word_bytes=0");
        Assert.Equal(2, code);
        var line = err.TrimEnd('\n');
        Assert.DoesNotContain("\n", line);
        Assert.Matches(@"^/.*gemm\.yaml:\d+:\d+: word_bytes: .* \(point 0 of the sweep; 4 of 4 points failed\)$", line);
        Assert.False(File.Exists(Path.Combine(dir.File("o"), "results.csv")));
    }
}
