using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AccelSim.Experiments.FuseMax;
using AccelSim.Experiments.Spatten;
using Xunit.Abstractions;

namespace AccelSim.Tests.Docs;

/// <summary>
/// Tests that change <see cref="Environment.CurrentDirectory"/> (the CLI resolves relative paths and finds the checkout
/// from it): they run alone, after every parallel test, so no other test sees the scratch directory.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CurrentDirectoryCollection
{
    public const string Name = "Current directory (runs alone)";
}

/// <summary>
/// Every example the documentation prints runs as printed and exits 0: the `Example:` lines of every command's `--help`,
/// and the commands in README.md's and docs/*.md's shell blocks and tables (rules in <see cref="DocumentedCommands"/>).
/// They run in-process, one after another in file (or help) order, in a scratch copy of the checkout's inputs, so later
/// commands read what earlier ones wrote (plot after sweep) and the checkout stays clean. A command repeated in the
/// same source (the same words, whatever its comment) runs once.
/// </summary>
[Collection(CurrentDirectoryCollection.Name)]
public class ExamplesTests(ITestOutputHelper output)
{
    /// <summary>What a scheduler sets for the first task of the documented Slurm and Kubernetes recipes.</summary>
    private static readonly IReadOnlyDictionary<string, string> SchedulerEnvironment = new Dictionary<string, string>
    {
        ["SLURM_ARRAY_TASK_ID"] = "0",
        ["SLURM_CPUS_PER_TASK"] = "2",
        ["JOB_COMPLETION_INDEX"] = "0",
    };

    private static IEnumerable<string> MarkdownFiles() =>
        new[] { RepoPaths.Of("README.md") }.Concat(Directory.GetFiles(RepoPaths.Of("docs"), "*.md").Order(StringComparer.Ordinal));

    [Fact]
    public void EveryCommandHasAHelpExampleOfItselfInTheExampleFormat()
    {
        var root = Cli.Cli.BuildRoot(TextWriter.Null, TextWriter.Null);
        var problems = new List<string>();
        foreach (var (path, command) in DocumentedCommands.Walk(root).Skip(1))
        {
            var examples = DocumentedCommands.HelpExamples(command).ToList();
            if (examples.Count == 0) problems.Add($"{path}: no 'Example: accelsim ...' line in its description");
            problems.AddRange(examples.Where(e => !(e + " ").StartsWith(path + " ", StringComparison.Ordinal))
                .Select(e => $"{path}: example of another command: {e}"));
            // A command shown under any other label ("GPU:  accelsim ...") would escape the extractor.
            problems.AddRange((command.Description ?? "").Split('\n')
                .Where(l => Regex.IsMatch(l, @"^\s*[\w ]+:\s+accelsim\s") && !l.TrimStart().StartsWith("Example: ", StringComparison.Ordinal))
                .Select(l => $"{path}: not in the 'Example: accelsim ...' format: {l.Trim()}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void HelpExamplesRunAsPrinted()
    {
        var examples = DocumentedCommands.FromHelp(Cli.Cli.BuildRoot(TextWriter.Null, TextWriter.Null));
        Assert.DoesNotContain(examples, e => DocumentedCommands.IsSyntaxLine(e.Text)); // help examples are all runnable
        Assert.Contains(examples, e => e.Text.StartsWith("accelsim plot ", StringComparison.Ordinal));
        AssertAllSucceed(RunAll(examples));
    }

    [Fact]
    public void ReadmeAndDocsCommandsRunAsPrinted()
    {
        var ran = 0;
        foreach (var file in MarkdownFiles())
        {
            var commands = DocumentedCommands.FromMarkdown(file, Path.GetRelativePath(RepoPaths.Root, file));
            var runnable = commands.Where(c => !DocumentedCommands.IsSyntaxLine(c.Text)).ToList();
            foreach (var c in commands.Except(runnable)) output.WriteLine($"syntax line, not run: {c}");
            AssertAllSucceed(RunAll(runnable));
            ran += runnable.Count;
        }
        Assert.True(ran >= 10, $"only {ran} runnable commands found in README.md and docs/");
    }

    [Fact]
    public void ExtractorReadsTheReadmeAsDocumented()
    {
        var readme = DocumentedCommands.FromMarkdown(RepoPaths.Of("README.md"), "README.md");
        // The set-up section's main command comes first, and the usage table is read but skipped as syntax lines.
        Assert.Equal("dotnet run --project src/AccelSim.Cli -- reproduce fusemax", readme[0].Text);
        var usage = readme.Where(c => c.Text.StartsWith("accelsim analyze WORKLOAD", StringComparison.Ordinal) ||
                                      c.Text.StartsWith("accelsim report DIR", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, usage.Count);
        Assert.All(usage, c => Assert.True(DocumentedCommands.IsSyntaxLine(c.Text), c.ToString()));
        // A continued line is one command, and the Slurm script's variables come from the scheduler.
        var slurm = Assert.Single(readme, c => c.Text.Contains("$SLURM_ARRAY_TASK_ID", StringComparison.Ordinal));
        Assert.EndsWith("--jobs $SLURM_CPUS_PER_TASK --resume", slurm.Text);
    }

    [Fact]
    public void ShellLinesAreSplitAsBashSplitsThem()
    {
        var home = Path.Combine(Path.GetTempPath(), "home");
        var vars = new Dictionary<string, string> { ["N"] = "32", ["I"] = "3" };
        var parsed = ShellLine.Parse("accelsim a 'b c' \"d $N\" e\\ f --shard $I/${N} > ~/out.txt && accelsim g  # note", vars, home, Path.GetTempPath());
        Assert.Equal(2, parsed.Count);
        Assert.Equal(["accelsim", "a", "b c", "d 32", "e f", "--shard", "3/32"], parsed[0].Words);
        Assert.Equal(Path.Combine(home, "out.txt"), parsed[0].StdoutFile);
        Assert.Equal(["accelsim", "g"], parsed[1].Words);
        Assert.Throws<FormatException>(() => ShellLine.Parse("accelsim a $UNSET", vars, home, Path.GetTempPath()));
        Assert.Throws<FormatException>(() => ShellLine.Parse("accelsim a | head", vars, home, Path.GetTempPath()));
        Assert.Equal(["reproduce", "fusemax"], DocumentedCommands.CliArguments(["dotnet", "run", "--project", "src/AccelSim.Cli", "--", "reproduce", "fusemax"]));
        Assert.Throws<InvalidOperationException>(() => DocumentedCommands.CliArguments(["echo", "hi"]));
    }

    [Fact]
    public void ReadmeMainCommandWritesWhatReadmeSays()
    {
        var readme = File.ReadAllText(RepoPaths.Of("README.md"));
        var setup = readme[readme.IndexOf("## Set-up", StringComparison.Ordinal)..readme.IndexOf("## How it fits together", StringComparison.Ordinal)];
        Assert.Contains("dotnet run --project src/AccelSim.Cli -- reproduce fusemax", setup);
        Assert.Contains("report.md to runs/fusemax/", setup);
        Assert.Equal(Path.Combine(RepoPaths.Root, "runs", "fusemax"), FuseMaxReproduction.DefaultOutDir(RepoPaths.Root));
        Assert.Equal(Path.Combine(RepoPaths.Root, "runs", "spatten"), SpattenReproduction.DefaultOutDir(RepoPaths.Root));
        Assert.Contains("test -s runs/fusemax/report.md", File.ReadAllText(RepoPaths.Of(".ci", "run")));
        Assert.Contains("/runs/", File.ReadAllLines(RepoPaths.Of(".gitignore")).Select(l => l.Trim()));
    }

    [Fact]
    public void DefaultReproductionsWriteRunsAndLeaveTheCommittedResultsUntouched()
    {
        using var scratch = ScratchCheckout.Create(withCommittedResults: true);
        var before = Snapshot(scratch.Of("results"));
        Assert.Contains("fusemax/attention.csv", before.Keys);
        Assert.Contains("spatten/spatten.csv", before.Keys);
        using (new CurrentDirectory(scratch.Root))
        {
            foreach (var study in new[] { "fusemax", "spatten" })
            {
                var stderr = new StringWriter();
                Assert.True(Cli.Cli.Run(["reproduce", study], new StringWriter(), stderr) == 0, stderr.ToString());
            }
        }
        Assert.Equal(before, Snapshot(scratch.Of("results")));
        foreach (var file in new[] { "fusemax/report.md", "fusemax/attention.csv", "fusemax/end2end.csv", "spatten/spatten.csv", "spatten/summary.txt" })
            Assert.True(new FileInfo(scratch.Of("runs", file)).Length > 0, "runs/" + file);
    }

    [Fact]
    public void AnExampleThatFailsAsPrintedIsReported()
    {
        // The plot example as it was printed before issue 16: that sweep's column is query_len, not seq_len.
        var failures = RunAll(
        [
            new("sweep --help", "accelsim sweep workloads/sweeps/roofline-attention.yaml --out results/roofline-attention", new Dictionary<string, string>()),
            new("plot --help", "accelsim plot speedup --in results/roofline-attention --x seq_len --group arch --baseline arch=a100 --out speedup.png", new Dictionary<string, string>()),
            new("docs", "accelsim sweep workloads/sweeps/big.yaml --shard $SLURM_ARRAY_TASK_ID/$N", new Dictionary<string, string>()),
        ]);
        Assert.Equal(2, failures.Count);
        Assert.Contains("exit 2: results/roofline-attention/results.csv: plot: unknown column 'seq_len'", failures[0]);
        Assert.Contains("$N is not set", failures[1]);
    }

    private static void AssertAllSucceed(IReadOnlyList<string> failures) =>
        Assert.True(failures.Count == 0, $"{failures.Count} documented command(s) fail as printed:\n" + string.Join("\n", failures));

    /// <summary>Runs the commands in order in one scratch checkout; returns what failed, one entry per failing line.</summary>
    private List<string> RunAll(IEnumerable<DocumentedCommand> commands)
    {
        using var scratch = ScratchCheckout.Create(withCommittedResults: false);
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using (new CurrentDirectory(scratch.Root))
        {
            foreach (var c in commands)
                if (RunAsPrinted(c, scratch, seen) is { } failure)
                    failures.Add(failure);
        }
        return failures;
    }

    /// <summary>Runs one documented line; null when every command of it exits 0 (or ran before), else what went wrong.</summary>
    private string? RunAsPrinted(DocumentedCommand c, ScratchCheckout scratch, HashSet<string> seen)
    {
        var variables = new Dictionary<string, string>(SchedulerEnvironment);
        foreach (var (k, v) in c.Variables) variables[k] = v;
        try
        {
            foreach (var command in ShellLine.Parse(c.Text, variables, scratch.Home, scratch.Root))
            {
                var args = DocumentedCommands.CliArguments(command.Words);
                if (!seen.Add(string.Join('\0', args) + "\0>" + command.StdoutFile)) continue;
                var stdout = new StringWriter();
                var stderr = new StringWriter();
                var clock = Stopwatch.StartNew();
                var code = Cli.Cli.Run(args, stdout, stderr);
                output.WriteLine(FormattableString.Invariant($"{clock.Elapsed.TotalSeconds,6:F2} s  exit {code}  {c}"));
                if (code != 0)
                    return $"{c}\n    exit {code}: {string.Join("\n    ", stderr.ToString().Trim().Split('\n').TakeLast(3))}";
                if (command.StdoutFile is { } file)
                {
                    var path = Path.Combine(scratch.Root, file);
                    if (command.AppendStdout) File.AppendAllText(path, stdout.ToString());
                    else File.WriteAllText(path, stdout.ToString());
                }
            }
            return null;
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or IOException)
        {
            return $"{c}\n    {e.Message}";
        }
    }

    private static SortedDictionary<string, string> Snapshot(string dir) =>
        new(Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(dir, f).Replace('\\', '/'),
            f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);
}

/// <summary>Sets the process's current directory for a scope (only inside <see cref="CurrentDirectoryCollection"/>).</summary>
internal sealed class CurrentDirectory : IDisposable
{
    private readonly string _previous = Environment.CurrentDirectory;

    public CurrentDirectory(string path) => Environment.CurrentDirectory = path;

    public void Dispose() => Environment.CurrentDirectory = _previous;
}

/// <summary>
/// A temporary copy of the checkout's inputs (AccelSim.sln, arch/, workloads/, the test reference data the commands
/// read) with an empty results/ folder, or with the committed reference results; deleted on dispose.
/// </summary>
internal sealed class ScratchCheckout : IDisposable
{
    private static readonly string[] Inputs = ["arch", "workloads", "tests/AccelSim.Tests/Reference", "tests/AccelSim.Tests/FuseMax/Reference"];
    private static readonly string[] CommittedResults = ["results/fusemax", "results/spatten"];

    public string Root { get; }
    public string Home => Of("home");

    private ScratchCheckout(string root) => Root = root;

    public string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    public static ScratchCheckout Create(bool withCommittedResults)
    {
        var scratch = new ScratchCheckout(Path.Combine(Path.GetTempPath(), "accelsim-examples", Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(scratch.Of("results"));
        Directory.CreateDirectory(scratch.Home);
        File.Copy(RepoPaths.Of("AccelSim.sln"), scratch.Of("AccelSim.sln"));
        foreach (var dir in withCommittedResults ? Inputs.Concat(CommittedResults) : Inputs)
            CopyTree(RepoPaths.Of(dir.Split('/')), scratch.Of(dir.Split('/')));
        return scratch;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { /* a temp folder left behind is harmless */ }
        catch (UnauthorizedAccessException) { }
    }
}
