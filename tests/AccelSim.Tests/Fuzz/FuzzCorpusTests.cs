using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AccelSim.Tests.Fuzz;

/// <summary>
/// Runs every case of the bad-input corpus tests/fuzz/corpus.json (written by tools/fuzz/generate.py) and checks the
/// CLI's contract: exit 0 or 2 only; `bad` cases exit 2 with exactly one located line on stderr and no stack trace;
/// `good` cases exit 0 with their expected text; no NaN or Infinity in any output. Cases run in-process one after
/// another on a thread with a timeout; `isolate` cases (deep nesting that may overflow the stack) run as child
/// processes of the built CLI beside them, so a crash fails one case instead of the test host.
/// ACCELSIM_FUZZ_CASES=0001,0002 runs a subset; ACCELSIM_FUZZ_PROCESSES=1 runs every case as a child process;
/// ACCELSIM_FUZZ_LOG=FILE writes one line per case (id, verdict, exit code, first stderr line).
/// </summary>
public class FuzzCorpusTests
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// `FILE:LINE:COL: `, `FILE: ` (a path: it has a / \ or .), `--option: ` (or `--set KEY: `) or, for a word on the
    /// command line that is not an option, the command it was given to (`accelsim plot: `), then the message.
    /// </summary>
    public static readonly Regex LocatedLine = new(
        @"^(?:(?<file>[^\s:][^:\r\n]*):(?<line>[1-9]\d*):(?<col>[1-9]\d*): |(?<file>[^\s:][^:\r\n]*[/\\.][^:\r\n]*): |(?<option>--[a-z][a-z0-9-]*(?: [^\s:]+)?): |(?<command>accelsim(?: [a-z][a-z-]*)*): )\S.*$",
        RegexOptions.CultureInvariant);

    private static readonly string[] StackTraceMarkers = ["   at ", "Exception", "System."];
    private static readonly Regex NotANumber = new(@"(?<![A-Za-z])(NaN|Infinity)(?![A-Za-z])|∞", RegexOptions.CultureInvariant);
    private static readonly string[] TextExtensions = [".csv", ".json", ".md", ".txt", ".yaml", ".yml", ".svg", ".tsv"];

    public sealed record Step(string[]? Run, string? Append, string? Replace, string? Text, string? Old, string? New);

    public sealed record Recipe(string File, string Prefix, string Open, int Count, string Middle, string Close, string Suffix);

    public sealed record Case(string Id, string Kind, string Expect, string What, string[] Args, string[]? Files, Recipe[]? Generate,
        Step[]? Setup, bool Isolate, string[]? Contains);

    private sealed record Corpus(int Format, Case[] Cases);

    public sealed record Outcome(int ExitCode, string Stdout, string Stderr, bool TimedOut);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string CorpusDir => RepoPaths.Of("tests", "fuzz");

    public static IReadOnlyList<Case> LoadCases() =>
        JsonSerializer.Deserialize<Corpus>(File.ReadAllText(Path.Combine(CorpusDir, "corpus.json")), Json)!.Cases;

    [Fact]
    public void CorpusCoversEveryInputKindWithGoodControls()
    {
        var cases = LoadCases();
        Assert.True(cases.Count >= 520, $"{cases.Count} cases");
        Assert.Equal(cases.Count, cases.Select(c => c.Id).Distinct().Count());
        string[] kinds = ["workload", "arch", "mapping", "sweep", "measurements", "spatten", "timeloop-import", "set", "results", "cli"];
        foreach (var kind in kinds)
        {
            var of = cases.Where(c => c.Kind == kind).ToList();
            Assert.True(of.Count >= 40, $"{kind}: {of.Count} cases");
            Assert.Contains(of, c => c.Expect == "good");
            Assert.Contains(of, c => c.Expect == "bad");
        }
        Assert.All(cases, c => Assert.Contains(c.Expect, new[] { "good", "bad" }));
        foreach (var c in cases.Where(c => c.Files is not null))
            foreach (var f in c.Files!)
                Assert.True(File.Exists(Path.Combine(CorpusDir, "cases", c.Id, f)), $"{c.Id}: {f} missing");
    }

    [Theory]
    [InlineData("/tmp/a.yaml:3:7: params.seq_len: must be > 0", true)]
    [InlineData("/tmp/a.yaml: file not found", true)]
    [InlineData("--budget: must be > 0, found 0", true)]
    [InlineData("--set clock_hz: must be > 0", true)]
    [InlineData("error: OverflowException: Value was either too large (set ACCELSIM_DEBUG=1 for a stack trace)", false)]
    [InlineData("error: Unrecognized command or argument 'x'.", false)]
    [InlineData(" /tmp/a.yaml:3:7: x", false)]
    [InlineData("/tmp/a.yaml:0:7: x", false)]
    [InlineData("budget: must be > 0", false)]
    [InlineData("accelsim plot: KIND: 'nope' is not one of speedup, energy", true)]
    [InlineData("accelsim: unknown command 'frobnicate'", true)]
    [InlineData("accelsim : x", false)]
    [InlineData("--budget: ", false)]
    public void LocatedLineRegexIsStrict(string line, bool located) => Assert.Equal(located, LocatedLine.IsMatch(line));

    [Fact]
    public void EveryCaseExitsZeroOrTwoWithOneLocatedLine()
    {
        var only = Environment.GetEnvironmentVariable("ACCELSIM_FUZZ_CASES")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var allProcesses = Environment.GetEnvironmentVariable("ACCELSIM_FUZZ_PROCESSES") == "1";
        var cases = LoadCases().Where(c => only is null || only.Contains(c.Id)).ToList();
        var work = Path.Combine(Path.GetTempPath(), "accelsim-fuzz", Guid.NewGuid().ToString("N"));
        var verdicts = new ConcurrentDictionary<string, string?>();
        var firstLines = new ConcurrentDictionary<string, string>();
        var clock = Stopwatch.StartNew();
        try
        {
            // Two workers: in-process cases one after another, child-process cases one after another, side by side.
            var inProcess = cases.Where(c => !(c.Isolate || allProcesses)).ToList();
            var isolated = cases.Where(c => c.Isolate || allProcesses).ToList();
            void RunAll(List<Case> list, bool childProcess)
            {
                foreach (var c in list)
                {
                    var (verdict, outcome) = RunCase(c, Path.Combine(work, c.Id), childProcess);
                    verdicts[c.Id] = verdict;
                    firstLines[c.Id] = $"exit {outcome.ExitCode}{(outcome.TimedOut ? " (timeout)" : "")}: {FirstLine(outcome.Stderr)}";
                }
            }
            var a = new Thread(() => RunAll(inProcess, childProcess: false));
            var b = new Thread(() => RunAll(isolated, childProcess: true));
            a.Start();
            b.Start();
            a.Join();
            b.Join();
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        var failures = cases.Where(c => verdicts[c.Id] is not null).ToList();
        if (Environment.GetEnvironmentVariable("ACCELSIM_FUZZ_LOG") is { Length: > 0 } log)
            File.WriteAllLines(log, cases.Select(c => string.Join('\t', c.Id, c.Kind, c.Expect, verdicts[c.Id] ?? "ok", firstLines[c.Id], c.What)));
        var report = new StringBuilder($"{failures.Count} of {cases.Count} fuzz cases failed ({clock.Elapsed.TotalSeconds:F0} s):\n");
        foreach (var c in failures)
            report.Append($"  {c.Id} [{c.Kind}, {c.Expect}] {c.What}: {verdicts[c.Id]}; {firstLines[c.Id]}\n");
        Assert.True(failures.Count == 0, report.ToString());
    }

    /// <summary>Prepares the case's folders, runs it and returns null when it keeps the contract, else why not.</summary>
    public static (string? Verdict, Outcome Outcome) RunCase(Case c, string dir, bool childProcess)
    {
        var input = Path.Combine(dir, "in");
        var output = Path.Combine(dir, "out");
        Prepare(c, input);
        Directory.CreateDirectory(output);
        string Expand(string arg) => arg.Replace("{repo}", RepoPaths.Root).Replace("{in}", input).Replace("{out}", output);
        foreach (var step in c.Setup ?? [])
        {
            if (step.Run is { } run)
            {
                var o = Execute(run.Select(Expand).ToArray(), output, childProcess);
                if (o.ExitCode != 0) return ($"setup step failed with exit {o.ExitCode}", o);
            }
            else if (step.Append is { } append) File.AppendAllText(Expand(append), step.Text);
            else if (step.Replace is { } replace)
            {
                var path = Expand(replace);
                File.WriteAllText(path, File.ReadAllText(path).Replace(step.Old!, step.New));
            }
        }
        var before = Snapshot(input);
        var outcome = Execute(c.Args.Select(Expand).ToArray(), output, childProcess || c.Isolate);
        return (Judge(c, outcome, WrittenFiles(input, before).Concat(Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))), outcome);
    }

    private static string? Judge(Case c, Outcome o, IEnumerable<string> written)
    {
        if (o.TimedOut) return $"no exit within {CaseTimeout.TotalSeconds:F0} s";
        var problems = new List<string>();
        if (o.ExitCode is not (0 or 2)) problems.Add($"exit {o.ExitCode} (only 0 or 2 are allowed)");
        else if (c.Expect == "bad" && o.ExitCode != 2) problems.Add("bad input accepted (exit 0)");
        else if (c.Expect == "good" && o.ExitCode != 0) problems.Add("good input rejected (exit 2)");
        if (StackTraceMarkers.FirstOrDefault(m => o.Stderr.Contains(m, StringComparison.Ordinal) || o.Stdout.Contains(m, StringComparison.Ordinal)) is { } marker)
            problems.Add($"stack-trace marker '{marker.Trim()}'");
        if (o.ExitCode == 2)
        {
            var lines = o.Stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
            if (lines.Count != 1) problems.Add($"{lines.Count} lines on stderr");
            if (lines.Count == 0 || !LocatedLine.IsMatch(lines[0])) problems.Add("error line not located");
        }
        // An error line may quote a value the user wrote; results (stdout, files, warnings of a run) may not hold one.
        if (NotANumber.Match(o.Stdout) is { Success: true } m) problems.Add($"'{m.Value}' on stdout");
        if (o.ExitCode != 2 && NotANumber.Match(o.Stderr) is { Success: true } e) problems.Add($"'{e.Value}' on stderr");
        foreach (var f in written.Where(f => TextExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())))
            if (NotANumber.Match(File.ReadAllText(f)) is { Success: true } w) problems.Add($"'{w.Value}' in {Path.GetFileName(f)}");
        if (c.Expect == "good" && o.ExitCode == 0)
            foreach (var text in c.Contains ?? [])
                if (!o.Stdout.Contains(text, StringComparison.Ordinal)) problems.Add($"stdout lacks '{text}'");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Copies cases/ID/ to <paramref name="input"/>, with {repo} in the files replaced, and builds the recipes.</summary>
    private static void Prepare(Case c, string input)
    {
        Directory.CreateDirectory(input);
        var token = Encoding.UTF8.GetBytes("{repo}");
        var root = Encoding.UTF8.GetBytes(RepoPaths.Root);
        foreach (var name in c.Files ?? [])
        {
            var bytes = File.ReadAllBytes(Path.Combine(CorpusDir, "cases", c.Id, name));
            var target = Path.Combine(input, name);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, Replace(bytes, token, root));
        }
        foreach (var r in c.Generate ?? [])
        {
            var sb = new StringBuilder(r.Prefix.Replace("{repo}", RepoPaths.Root));
            for (int i = 0; i < r.Count; i++) sb.Append(r.Open);
            sb.Append(r.Middle);
            for (int i = 0; i < r.Count; i++) sb.Append(r.Close);
            sb.Append(r.Suffix.Replace("{repo}", RepoPaths.Root));
            File.WriteAllText(Path.Combine(input, r.File), sb.ToString());
        }
    }

    private static byte[] Replace(byte[] bytes, byte[] token, byte[] with)
    {
        var span = bytes.AsSpan();
        if (span.IndexOf(token) < 0) return bytes;
        var result = new List<byte>(bytes.Length + 64);
        int i;
        while ((i = span.IndexOf(token)) >= 0)
        {
            result.AddRange(span[..i]);
            result.AddRange(with);
            span = span[(i + token.Length)..];
        }
        result.AddRange(span);
        return result.ToArray();
    }

    private static Dictionary<string, (long, DateTime)> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)));

    private static IEnumerable<string> WrittenFiles(string dir, Dictionary<string, (long, DateTime)> before) =>
        Snapshot(dir).Where(kv => !before.TryGetValue(kv.Key, out var b) || b != kv.Value).Select(kv => kv.Key).ToList();

    private static Outcome Execute(string[] args, string workingDir, bool childProcess) =>
        childProcess ? ExecuteProcess(args, workingDir) : ExecuteInProcess(args);

    private static Outcome ExecuteInProcess(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = -1;
        var thread = new Thread(() => code = Cli.Cli.Run(args, stdout, stderr), 16 * 1024 * 1024) { IsBackground = true };
        thread.Start();
        if (!thread.Join(CaseTimeout)) return new Outcome(-1, "", "", TimedOut: true);
        return new Outcome(code, stdout.ToString(), stderr.ToString(), false);
    }

    private static Outcome ExecuteProcess(string[] args, string workingDir)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "accelsim.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("ACCELSIM_DEBUG");
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(CaseTimeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new Outcome(-1, "", "", TimedOut: true);
        }
        p.WaitForExit();
        return new Outcome(p.ExitCode, stdout.Result, stderr.Result, false);
    }

    /// <summary>The first `error:` line of stderr (progress lines come before it), else its first line.</summary>
    private static string FirstLine(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        var l = lines.FirstOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal)) ?? lines.FirstOrDefault();
        return l is null ? "(no stderr)" : l.Length > 200 ? l[..200] + "..." : l;
    }
}
