using System.Diagnostics;
using System.Text.RegularExpressions;
using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

/// <summary>
/// One writer per results folder (an OS lock, released by the OS when the holder dies), and every row of an
/// existing results file checked before `--resume` or `merge` trusts it.
/// </summary>
public class ResultsFolderTests
{
    private const string Grid = """
        parameters:
          grid:
            workload.seq_len: {from: 100, to: 2000, step: 100}
            arch.clock_hz: [1e9, 1.5e9, 2e9, 3e9, 4e9]
        """;

    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private static string HolderPattern(int pid) =>
        $@"results folder is in use by accelsim pid {pid} on {Regex.Escape(Environment.MachineName)} since \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ";

    // ---- the lock ----

    [Fact]
    public void TwoOpensInOneProcessConflictAndTheSecondNamesTheHolder()
    {
        using var dir = new TempDir();
        var folder = dir.File("out");
        using (var first = ResultsFolderLock.Acquire(folder))
        {
            Assert.True(File.Exists(Path.Combine(folder, ResultsFolderLock.HolderFileName)));
            var e = Assert.Throws<InputException>(() => ResultsFolderLock.Acquire(folder));
            Assert.Matches("^" + Regex.Escape(folder + ": --out: ") + HolderPattern(Environment.ProcessId) + "; ", e.OneLine);
            // The same folder spelled differently is the same lock.
            Assert.Throws<InputException>(() => ResultsFolderLock.Acquire(folder + Path.DirectorySeparatorChar));
        }
        // Released: the holder record is gone and the folder can be taken again.
        Assert.False(File.Exists(Path.Combine(folder, ResultsFolderLock.HolderFileName)));
        using (ResultsFolderLock.Acquire(folder)) { }
    }

    [Fact]
    public void ASecondSweepOrMergeWhileTheFirstRunsIsRefusedAtOnceAndTheFirstIsUnharmed()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir, new PolyEvaluator(), Grid);
        var reference = SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(dir.File("reference"))).ResultsPath;
        var shard = SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(dir.File("shard")) { Shard = new ShardSpec(0, 2) });
        Assert.True(shard.Completed);

        var outDir = dir.File("out");
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = new PolyEvaluator
        {
            OnEvaluate = n =>
            {
                if (n != 20) return;
                started.Set();
                release.Wait(TimeSpan.FromSeconds(60));
            },
        };
        SweepRunResult? firstResult = null;
        var thread = new Thread(() => firstResult = SweepRunner.Run(spec, first, new SweepRunOptions(outDir) { Jobs = 2 }));
        thread.Start();
        try
        {
            Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the first sweep never started");
            var clock = Stopwatch.StartNew();
            foreach (var options in new[]
                     {
                         new SweepRunOptions(outDir),
                         new SweepRunOptions(outDir) { Resume = true },
                         new SweepRunOptions(outDir) { Force = true },
                     })
            {
                var e = Assert.Throws<InputException>(() => SweepRunner.Run(spec, new PolyEvaluator(), options));
                Assert.Matches(HolderPattern(Environment.ProcessId), e.OneLine);
                Assert.Equal("--out", e.Field);
            }
            var merge = Assert.Throws<InputException>(() => SweepMerger.Merge([dir.File("shard")], outDir, force: true));
            Assert.Matches(HolderPattern(Environment.ProcessId), merge.OneLine);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refusing took {clock.Elapsed}");
        }
        finally
        {
            release.Set();
            thread.Join();
        }
        Assert.True(firstResult!.Completed);
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(firstResult.ResultsPath));
    }

    [Fact]
    public async Task AnotherProcessHoldingTheFolderIsNamedAndItsResultsEqualACleanRun()
    {
        using var dir = new TempDir();
        dir.Write("m.yaml", "name: m\npeak_flops: 1e15\nmemory_bandwidth: 3e12\n");
        dir.Write("g.yaml", "kind: gemm\nm: 4096\nn: 4096\nk: 4096\n");
        var sweep = dir.Write("big.yaml", """
            name: big
            engine: analytic-roofline
            arch: m.yaml
            workload: g.yaml
            parameters:
              grid:
                arch.peak_flops: {from: 2e13, to: 2e15, step: 2e13}
                arch.memory_bandwidth: {from: 2e11, to: 1e13, step: 2e11}
                workload.k: [1024, 4096, 16384]
            metrics: [latency_s, intensity, utilization, bound]
            """);
        var outDir = dir.File("out");
        var dll = Path.Combine(AppContext.BaseDirectory, "accelsim.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" sweep \"{sweep}\" --out \"{outDir}\" --jobs 1")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["CI"] = "true";
        using var child = Process.Start(info)!;
        var childErr = child.StandardError.ReadToEndAsync();
        var childOut = child.StandardOutput.ReadToEndAsync();
        var holder = Path.Combine(outDir, ResultsFolderLock.HolderFileName);
        var clock = Stopwatch.StartNew();
        while (!child.HasExited && !File.Exists(holder) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
        Assert.False(child.HasExited, "the sweep finished before a second one could start; make it larger");

        var (code, _, err) = Cli("sweep", sweep, "--out", outDir, "--resume");
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Matches("^" + Regex.Escape(outDir + ": --out: ") + HolderPattern(child.Id), err);
        (code, _, err) = Cli("sweep", sweep, "--out", outDir, "--force");
        Assert.Equal(2, code);
        Assert.Matches(HolderPattern(child.Id), err);

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180)))
            await child.WaitForExitAsync(timeout.Token);
        var childStderr = await childErr;
        await childOut;
        Assert.True(child.ExitCode == 0, childStderr);
        Assert.False(File.Exists(holder));

        var (refCode, _, refErr) = Cli("sweep", sweep, "--out", dir.File("reference"), "--progress", "none");
        Assert.True(refCode == 0, refErr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("reference"), "results.csv")),
            File.ReadAllBytes(Path.Combine(outDir, "results.csv")));
        // The lock left behind by the finished run does not stand in the way of the next writer.
        (code, _, err) = Cli("sweep", sweep, "--out", outDir, "--resume", "--progress", "none");
        Assert.True(code == 0, err);
    }

    // ---- rows checked on --resume ----

    /// <summary>A folder whose run stopped after 30 of 100 points; returns the spec and the results path.</summary>
    private static (SweepSpec Spec, string Folder, string Results) Partial(TempDir dir, ShardSpec? shard = null)
    {
        var spec = Fixtures.LoadPoly(dir, new PolyEvaluator(), Grid);
        var folder = dir.File("partial");
        using var cancel = new CancellationTokenSource();
        var stopping = new PolyEvaluator { OnEvaluate = n => { if (n == 30) cancel.Cancel(); } };
        var partial = SweepRunner.Run(spec, stopping, new SweepRunOptions(folder) { Jobs = 1, Shard = shard }, cancellationToken: cancel.Token);
        Assert.True(partial.Interrupted);
        return (spec, folder, partial.ResultsPath);
    }

    private static void Edit(string path, Func<List<string>, List<string>> edit)
    {
        var lines = File.ReadAllText(path).TrimEnd('\n').Split('\n').ToList();
        File.WriteAllText(path, string.Join("\n", edit(lines)) + "\n");
    }

    private static int Col(SweepSpec spec, string column) => spec.Columns.IndexOf(column);

    private static string WithField(string line, int field, string value)
    {
        var fields = ResultsFile.SplitLine(line, out _)!;
        fields[field] = value;
        return ResultsFile.FormatLine(fields);
    }

    public static TheoryData<string, string> ResumeCorruptions => new()
    {
        { "missing-field", "row 4: 18 fields, the header has 19" },
        { "extra-field", "row 4: 20 fields, the header has 19" },
        { "unclosed-quote", "row 4: unclosed quote in field 18" },
        { "stray-quote", "row 4: stray quote inside unquoted field 5" },
        { "text-after-quote", "row 4: text after the closing quote of field 18" },
        { "index-not-integer", "row 4: 'x3' is not a point index" },
        { "index-negative", "row 4: '-3' is not a point index" },
        { "index-padded", "row 4: '03' is not a point index" },
        { "index-outside", "row 4: point 200 is outside the sweep (0..199)" },
        { "duplicate", "row 4: point 1 appears twice" },
        { "parameter-edited", "row 4: point 3 has workload.seq_len=7, expected 100" },
        { "id-edited", "row 4: point 3 has id 0123456789abcdef, expected" },
        { "interleaved", "row 4: 22 fields, the header has 19" },
    };

    [Theory]
    [MemberData(nameof(ResumeCorruptions))]
    public void ResumeRefusesACorruptRowNamingIt(string corruption, string expected)
    {
        using var dir = new TempDir();
        var (spec, folder, results) = Partial(dir);
        var seq = Col(spec, "workload.seq_len");
        Edit(results, lines =>
        {
            // lines[0] is the header; lines[4] is row 4 (point 3), line 5 of the file.
            var row = lines[4];
            lines[4] = corruption switch
            {
                "missing-field" => row[..row.LastIndexOf(',')],
                "extra-field" => row + ",",
                "unclosed-quote" => row.Replace("\"small, with comma\"", "\"small, with comma"),
                "stray-quote" => row.Replace(",3e9,", ",3\"e9,"),
                "text-after-quote" => row.Replace("\"small, with comma\"", "\"small, with comma\"x"),
                "index-not-integer" => "x" + row,
                "index-negative" => "-" + row,
                "index-padded" => "0" + row,
                "index-outside" => WithField(row, 0, "200"),
                "duplicate" => lines[2],
                "parameter-edited" => WithField(row, seq, "7"),
                "id-edited" => WithField(row, 1, "0123456789abcdef"),
                "interleaved" => row[..(row.Length / 2)] + lines[5][(lines[5].Length / 3)..],
                _ => throw new ArgumentException(corruption),
            };
            return lines;
        });
        var e = Assert.Throws<InputException>(() => SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(folder) { Resume = true }));
        Assert.True(e.OneLine.StartsWith($"{results}:5:1: {expected}", StringComparison.Ordinal), e.OneLine);
    }

    [Fact]
    public void ResumeRefusesARowOfAnotherShard()
    {
        using var dir = new TempDir();
        var (spec, folder, results) = Partial(dir, new ShardSpec(0, 2));
        var poly = new PolyEvaluator();
        Edit(results, lines =>
        {
            var fields = ResultsFile.SplitLine(lines[2], out _)!;
            var point = spec.PointAt(5);
            fields[0] = "5";
            fields[1] = point.Id;
            for (var i = 0; i < point.Values.Count; i++) fields[2 + i] = point.Values[i];
            lines[2] = ResultsFile.FormatLine(fields);
            return lines;
        });
        var e = Assert.Throws<InputException>(() =>
            SweepRunner.Run(spec, poly, new SweepRunOptions(folder) { Resume = true, Shard = new ShardSpec(0, 2) }));
        Assert.StartsWith($"{results}:3:1: row 2: point 5 does not belong to shard 0/2", e.OneLine);
    }

    [Fact]
    public void TornLastLineInsideAQuotedFieldIsStillRecovered()
    {
        using var dir = new TempDir();
        var (spec, folder, results) = Partial(dir);
        var reference = SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(dir.File("reference"))).ResultsPath;
        // A kill -9 in the middle of writing the text metric: an open quote and no newline.
        var next = File.ReadAllLines(reference)[31];
        File.AppendAllText(results, next[..(next.IndexOf("\"small", StringComparison.Ordinal) + 4)]);
        var resumed = SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(folder) { Resume = true });
        Assert.True(resumed.Completed);
        Assert.True(resumed.TornBytesRemoved > 0);
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(results));
    }

    [Fact]
    public void CliResumeOfACorruptFileExitsTwoWithOneLine()
    {
        using var dir = new TempDir();
        dir.Write("m.yaml", "name: m\npeak_flops: 1e15\nmemory_bandwidth: 3e12\n");
        dir.Write("g.yaml", "kind: gemm\nm: 4096\nn: 4096\nk: 4096\n");
        var sweep = dir.Write("small.yaml", """
            name: small
            engine: analytic-roofline
            arch: m.yaml
            workload: g.yaml
            parameters:
              grid:
                arch.peak_flops: [1e14, 2e14, 4e14, 8e14]
                workload.k: [1024, 2048, 4096, 8192, 16384]
            metrics: [latency_s, intensity, utilization, bound]
            """);
        var outDir = dir.File("out");
        var (code, _, err) = Cli("sweep", sweep, "--out", outDir, "--progress", "none");
        Assert.True(code == 0, err);
        var results = Path.Combine(outDir, "results.csv");
        var header = File.ReadLines(results).First().Split(',').Length;
        Edit(results, lines =>
        {
            lines[16] = string.Join(',', lines[16].Split(',')[..(header - 2)]);
            return lines;
        });
        (code, _, err) = Cli("sweep", sweep, "--out", outDir, "--resume", "--progress", "none");
        Assert.Equal(2, code);
        Assert.Equal($"{results}:17:1: row 16: {header - 2} fields, the header has {header}", err.TrimEnd('\n'));
    }

    // ---- rows checked by merge ----

    private static (SweepSpec Spec, string[] Shards) Shards(TempDir dir)
    {
        var spec = Fixtures.LoadPoly(dir, new PolyEvaluator(), Grid);
        var shards = new string[2];
        for (var i = 0; i < 2; i++)
        {
            shards[i] = dir.File($"shard-{i}");
            Assert.True(SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(shards[i]) { Shard = new ShardSpec(i, 2) }).Completed);
        }
        return (spec, shards);
    }

    private static string Copy(TempDir dir, string folder, string name)
    {
        var copy = dir.File(name);
        Directory.CreateDirectory(copy);
        foreach (var file in new[] { "sweep.json", "results.csv" })
            File.Copy(Path.Combine(folder, file), Path.Combine(copy, file));
        return copy;
    }

    public static TheoryData<string, string> MergeCorruptions => new()
    {
        { "missing-field", "row 3: 18 fields, the header has 19" },
        { "unclosed-quote", "row 3: unclosed quote in field 18" },
        { "index-not-integer", "row 3: '4x' is not a point index" },
        { "index-outside", "row 3: point 200 is outside the sweep (0..199)" },
        { "other-shard", "row 3: point 1 does not belong to shard 0/2" },
        { "duplicate", "row 3: point 2 appears twice" },
        { "parameter-edited", "row 3: point_id " },
        { "parameter-and-id-edited", "row 3: point 4 has arch.clock_hz=9e9, expected 4e9" },
    };

    [Theory]
    [MemberData(nameof(MergeCorruptions))]
    public void MergeRefusesACorruptRowNamingIt(string corruption, string expected)
    {
        using var dir = new TempDir();
        var (spec, shards) = Shards(dir);
        var bad = Copy(dir, shards[0], "bad");
        var results = Path.Combine(bad, "results.csv");
        var clock = Col(spec, "arch.clock_hz");
        Edit(results, lines =>
        {
            // Shard 0/2 holds the even points: row 3 is point 4.
            var row = lines[3];
            lines[3] = corruption switch
            {
                "missing-field" => row[..row.LastIndexOf(',')],
                "unclosed-quote" => row.Replace("\"small, with comma\"", "\"small, with comma"),
                "index-not-integer" => WithField(row, 0, "4x"),
                "index-outside" => WithField(row, 0, "200"),
                "other-shard" => File.ReadAllLines(Path.Combine(shards[1], "results.csv"))[1],
                "duplicate" => lines[2],
                "parameter-edited" => WithField(row, clock, "9e9"),
                "parameter-and-id-edited" => Rehash(spec, WithField(row, clock, "9e9")),
                _ => throw new ArgumentException(corruption),
            };
            return lines;
        });
        var e = Assert.Throws<InputException>(() => SweepMerger.Merge([bad, shards[1]], dir.File("merged")));
        Assert.StartsWith($"{results}:4:1: {expected}", e.OneLine);
        Assert.False(File.Exists(Path.Combine(dir.File("merged"), "results.csv")));

        var (code, _, err) = Cli("merge", bad, shards[1], "--out", dir.File("merged-cli"));
        Assert.Equal(2, code);
        Assert.StartsWith($"{results}:4:1: {expected}", err);
    }

    /// <summary>The row with its point_id recomputed from the parameter values it carries.</summary>
    private static string Rehash(SweepSpec spec, string line)
    {
        var fields = ResultsFile.SplitLine(line, out _)!;
        var columns = spec.Parameters.Select(p => p.Column).ToArray();
        fields[1] = SweepSpec.HashAssignment(columns, fields[2..(2 + columns.Length)]);
        return ResultsFile.FormatLine(fields);
    }

    [Fact]
    public void MergeRefusesAHeaderThatIsNotTheSweepsColumns()
    {
        using var dir = new TempDir();
        var (_, shards) = Shards(dir);
        var bad = Copy(dir, shards[0], "bad");
        var results = Path.Combine(bad, "results.csv");
        Edit(results, lines =>
        {
            lines[0] = lines[0].Replace("latency_s", "latency");
            return lines;
        });
        var e = Assert.Throws<InputException>(() => SweepMerger.Merge([bad, shards[1]], dir.File("merged")));
        var column = Array.IndexOf(File.ReadAllLines(results)[0].Split(','), "latency") + 1;
        Assert.Equal($"{results}:1:1: header: column {column} is 'latency', expected 'latency_s': it does not match the columns of " +
                     Path.Combine(bad, "sweep.json"), e.OneLine);
    }

    [Fact]
    public void SplitLineReadsWhatFormatLineWrites()
    {
        string[] fields = ["1", "", "a, b", "say \"hi\"", "\"", "-3", ""];
        var line = ResultsFile.FormatLine(fields);
        Assert.Equal(fields, ResultsFile.SplitLine(line, out var problem));
        Assert.Null(problem);
        Assert.Equal(["", ""], ResultsFile.SplitLine(",", out _)!);
        Assert.Equal([""], ResultsFile.SplitLine("", out _)!);
        Assert.Null(ResultsFile.SplitLine("a,\"b", out problem));
        Assert.Equal("unclosed quote in field 2 (opened at column 3)", problem);
    }
}

public class ResultTableCsvTests
{
    [Theory]
    [InlineData("a,b\n1,\"x\n2,y\n", "unclosed")]
    [InlineData("a,b\n1,x\"y\n", "quote")]
    [InlineData("a,b\n1,\"x\"y\n", "quote")]
    [InlineData("a,b\n1\n", "1 fields")]
    public void MalformedCsvIsALocatedInputError(string text, string contains)
    {
        using var dir = new TempDir();
        var path = dir.Write("t.csv", text);
        var e = Assert.Throws<AccelSim.Core.InputException>(() => AccelSim.Experiments.Results.ResultTable.Load(path));
        Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(path) + @":\d+:\d+: ", e.OneLine);
        Assert.Contains(contains, e.OneLine);
    }
}

public class MergeTornTailTests
{
    [Fact]
    public void AShardKilledMidRowMergesWithoutItsTornRow()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir, new PolyEvaluator());
        var shards = new[] { dir.File("s0"), dir.File("s1") };
        for (var i = 0; i < 2; i++)
            Assert.True(SweepRunner.Run(spec, new PolyEvaluator(), new SweepRunOptions(shards[i]) { Shard = new ShardSpec(i, 2) }).Completed);
        var results = Path.Combine(shards[1], "results.csv");
        var lines = File.ReadAllLines(results);
        // The last row torn inside its quoted text metric, as a kill -9 leaves it.
        File.WriteAllText(results, string.Join("\n", lines[..^1]) + "\n" + lines[^1][..(lines[^1].IndexOf('"') + 3)]);
        var merged = SweepMerger.Merge(shards, dir.File("merged"));
        Assert.Equal(1, merged.Missing);
        Assert.Equal(int.Parse(lines[^1][..lines[^1].IndexOf(',')], Invariant.Culture), merged.MissingRanges.Single().From);
    }
}
