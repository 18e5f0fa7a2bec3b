using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

public class SweepRunnerTests
{
    private const string Bigger = """
        parameters:
          grid:
            workload.seq_len: {from: 100, to: 2000, step: 100}
            arch.clock_hz: [1e9, 1.5e9, 2e9, 3e9, 4e9]
        """;

    private static string Run(SweepSpec spec, PolyEvaluator poly, string outDir, int jobs = 2) =>
        SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Jobs = jobs }).ResultsPath;

    private static string[] Lines(string path) => File.ReadAllText(path).Split('\n');

    [Fact]
    public void UninterruptedRunIsCanonicalAndIndependentOfJobCount()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, Bigger);
        var one = Run(spec, poly, dir.File("one"), jobs: 1);
        var four = Run(spec, poly, dir.File("four"), jobs: 4);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(four));

        var lines = Lines(one);
        Assert.Equal("", lines[^1]); // ends with a newline
        Assert.Equal(ResultsFile.HeaderLine(spec), lines[0]);
        Assert.Equal(spec.PointCount + 2, lines.Length);
        for (var i = 0; i < spec.PointCount; i++)
            Assert.StartsWith($"{i},{spec.PointId(i)},", lines[i + 1]);

        // Text metrics with commas are quoted and read back intact.
        var table = AccelSim.Experiments.Results.ResultTable.Load(one);
        Assert.Equal("small, with comma", table.Text(0, table.Column("label")));
        Assert.Equal(spec.PointCount, table.Count);
        var latency = table.Number(7, table.Column("latency_s"));
        var expected = poly.Evaluate(spec.PointAt(7), default)["latency_s"].Number;
        Assert.Equal(expected, latency); // round-trip formatting loses nothing
    }

    [Fact]
    public void CancelledAtRandomPointsAndResumedGivesExactlyTheUninterruptedRows()
    {
        using var dir = new TempDir();
        var reference = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, reference, Bigger);
        var expected = File.ReadAllBytes(Run(spec, reference, dir.File("reference")));

        var random = new Random(20240611);
        for (var trial = 0; trial < 3; trial++)
        {
            var outDir = dir.File($"interrupted-{trial}");
            var interruptions = 0;
            SweepRunResult result;
            do
            {
                var poly = new PolyEvaluator();
                using var cancel = new CancellationTokenSource();
                var stopAt = random.Next(1, 60);
                poly.OnEvaluate = n =>
                {
                    if (n == stopAt) cancel.Cancel();
                };
                result = SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Jobs = 1 + trial, Resume = true },
                    cancellationToken: cancel.Token);
                if (result.Interrupted)
                {
                    interruptions++;
                    AssertCompleteRowsOnly(spec, result.ResultsPath);
                }
            } while (!result.Completed);
            Assert.True(interruptions >= 2, $"only {interruptions} interruptions");
            Assert.Equal(expected, File.ReadAllBytes(result.ResultsPath));
        }
    }

    /// <summary>Every line ends with '\n', indices are unique and each row carries its point's id.</summary>
    private static void AssertCompleteRowsOnly(SweepSpec spec, string path)
    {
        var text = File.ReadAllText(path);
        Assert.EndsWith("\n", text);
        var seen = new HashSet<int>();
        foreach (var line in text.TrimEnd('\n').Split('\n').Skip(1))
        {
            var index = int.Parse(line[..line.IndexOf(',')], Invariant.Culture);
            Assert.True(seen.Add(index), $"point {index} written twice");
            Assert.StartsWith($"{index},{spec.PointId(index)},", line);
        }
    }

    [Fact]
    public void TornLastLineIsCutOnResume()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, Bigger);
        var expected = File.ReadAllBytes(Run(spec, poly, dir.File("reference")));

        var outDir = dir.File("torn");
        using (var cancel = new CancellationTokenSource())
        {
            var stopping = new PolyEvaluator { OnEvaluate = n => { if (n == 30) cancel.Cancel(); } };
            var partial = SweepRunner.Run(spec, stopping, new SweepRunOptions(outDir) { Jobs = 1 }, cancellationToken: cancel.Token);
            Assert.True(partial.Interrupted);
        }
        var results = Path.Combine(outDir, "results.csv");
        // What a kill -9 in the middle of a write leaves behind: half a row, no newline.
        File.AppendAllText(results, $"57,{spec.PointId(57)},big,5700,4e9,0.0001");

        var resumed = SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Resume = true });
        Assert.True(resumed.Completed);
        Assert.True(resumed.TornBytesRemoved > 0);
        Assert.Equal(expected, File.ReadAllBytes(results));
    }

    [Fact]
    public void ExistingResultsNeedResumeOrForce()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly);
        var outDir = dir.File("out");
        Run(spec, poly, outDir);
        var e = Assert.Throws<InputException>(() => Run(spec, poly, outDir));
        Assert.Contains("pass --resume", e.OneLine);
        Assert.Contains("--force", e.OneLine);

        var forced = SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Force = true });
        Assert.Equal(spec.PointCount, forced.Evaluated);

        var resumed = SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Resume = true });
        Assert.Equal(0, resumed.Evaluated);
        Assert.Equal(spec.PointCount, resumed.AlreadyDone);
        Assert.True(resumed.Completed);
    }

    [Fact]
    public void ResumeRefusesAnotherSweepOrShardOrCorruptRows()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly);
        var outDir = dir.File("out");
        Run(spec, poly, outDir);

        var changed = SweepSpecParser.Load(Fixtures.WritePolySweep(dir), Fixtures.Registry(poly), [SpecOverride.Parse("arch.rows=3")]);
        var e = Assert.Throws<InputException>(() => SweepRunner.Run(changed, poly, new SweepRunOptions(outDir) { Resume = true }));
        Assert.Equal("spec_hash", e.Field);

        e = Assert.Throws<InputException>(() => SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Resume = true, Shard = new ShardSpec(0, 2) }));
        Assert.Equal("shard", e.Field);

        var results = Path.Combine(outDir, "results.csv");
        var lines = File.ReadAllLines(results);
        lines[3] = lines[3].Replace(spec.PointId(2), "0123456789abcdef");
        File.WriteAllText(results, string.Join("\n", lines) + "\n");
        e = Assert.Throws<InputException>(() => SweepRunner.Run(spec, poly, new SweepRunOptions(outDir) { Resume = true }));
        Assert.StartsWith(results + ":4:1: row 3: point 2 has id 0123456789abcdef", e.OneLine);
    }

    [Fact]
    public void ShardsMergedEqualTheSingleRunByteForByte()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, Bigger);
        var single = dir.File("single");
        Run(spec, poly, single);

        var shards = Enumerable.Range(0, 3).Select(i => dir.File($"shard-{i}")).ToList();
        for (var i = 0; i < 3; i++)
        {
            var r = SweepRunner.Run(spec, poly, new SweepRunOptions(shards[i]) { Shard = new ShardSpec(i, 3), Jobs = 1 });
            Assert.True(r.Completed);
            Assert.Equal(spec.CountIn(new ShardSpec(i, 3)), r.Evaluated);
        }
        // A shard given twice only adds duplicates, which are dropped.
        var merged = SweepMerger.Merge([shards[2], shards[0], shards[1], shards[0]], dir.File("merged"));
        Assert.True(merged.Complete);
        Assert.Equal(spec.PointCount / 3 + (spec.PointCount % 3 > 0 ? 1 : 0), merged.DuplicatesDropped);
        foreach (var file in new[] { "results.csv", "sweep.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(single, file)), File.ReadAllBytes(Path.Combine(dir.File("merged"), file)));

        var partial = SweepMerger.Merge([shards[0], shards[2]], dir.File("partial"));
        Assert.False(partial.Complete);
        Assert.Equal(spec.CountIn(new ShardSpec(1, 3)), partial.Missing);
        Assert.Equal((1, 1), partial.MissingRanges[0]);
    }

    [Fact]
    public void MergeRefusesFoldersOfAnotherSweepAndConflictingRows()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly);
        Run(spec, poly, dir.File("a"));
        var other = SweepSpecParser.Load(Fixtures.WritePolySweep(dir), Fixtures.Registry(poly), [SpecOverride.Parse("arch.rows=3")]);
        Run(other, poly, dir.File("b"));
        var e = Assert.Throws<InputException>(() => SweepMerger.Merge([dir.File("a"), dir.File("b")], dir.File("m")));
        Assert.Contains("comes from another sweep", e.OneLine);

        Directory.CreateDirectory(dir.File("c"));
        File.Copy(Path.Combine(dir.File("a"), "sweep.json"), Path.Combine(dir.File("c"), "sweep.json"));
        var lines = File.ReadAllLines(Path.Combine(dir.File("a"), "results.csv"));
        lines[1] = lines[1].Replace("small, with comma", "tampered");
        File.WriteAllText(Path.Combine(dir.File("c"), "results.csv"), string.Join("\n", lines) + "\n");
        e = Assert.Throws<InputException>(() => SweepMerger.Merge([dir.File("a"), dir.File("c")], dir.File("m2")));
        Assert.Contains("point 0 differs", e.OneLine);
    }

    [Fact]
    public void FailedPointsBecomeRowsWithTheirError()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, "parameters:\n  grid:\n    workload.seq_len: [12, 13, 14]\n");
        var result = SweepRunner.Run(spec, poly, new SweepRunOptions(dir.File("out")));
        Assert.True(result.Completed);
        Assert.Equal(2, result.Failed);
        Assert.Equal(2, result.InputFailed);
        Assert.Equal(1, result.FirstInputFailure!.Index);
        Assert.StartsWith("point 1: ", result.FirstError);
        var table = AccelSim.Experiments.Results.ResultTable.Load(result.ResultsPath);
        var error = table.Column("error");
        Assert.Contains("unlucky sequence length", table.Text(1, error));
        Assert.Contains("attn.yaml:2:10", table.Text(1, error));
        Assert.Equal("", table.Text(1, table.Column("latency_s")));
        Assert.Equal("", table.Text(0, error));
        Assert.Equal(4, table.Succeeded().Count);

        // A resume retries failed points (and only them): they fail again here, so the resumed run reports them too
        // and the folder ends as it was.
        var before = File.ReadAllText(result.ResultsPath);
        var resumed = SweepRunner.Run(spec, poly, new SweepRunOptions(dir.File("out")) { Resume = true });
        Assert.Equal(4, resumed.AlreadyDone);
        Assert.Equal(2, resumed.FailedRowsRetried);
        Assert.Equal(2, resumed.Evaluated);
        Assert.Equal(2, resumed.Failed);
        Assert.Equal(1, resumed.FirstInputFailure!.Index);
        Assert.True(resumed.Completed);
        Assert.Equal(before, File.ReadAllText(resumed.ResultsPath));
    }

    [Fact]
    public void AbortsWithoutAResultsFileWhenEveryPointFails()
    {
        using var dir = new TempDir();
        var poly = new PolyEvaluator();
        var spec = Fixtures.LoadPoly(dir, poly, "parameters:\n  grid:\n    workload.seq_len: [13]\n    arch.clock_hz: [1e9, 2e9, 3e9]\n");
        var result = SweepRunner.Run(spec, poly, new SweepRunOptions(dir.File("out")));
        Assert.True(result.Aborted);
        Assert.False(result.Completed);
        Assert.True(result.FirstFailure!.IsInputError);
        Assert.Contains("unlucky", result.FirstError);
        Assert.False(File.Exists(Path.Combine(dir.File("out"), "results.csv")));
    }
}
