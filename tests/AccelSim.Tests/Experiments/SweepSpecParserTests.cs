using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

public class SweepSpecParserTests
{
    [Fact]
    public void GridEnumeratesWithFirstAxisSlowestAndStableIds()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir);
        // Implicit arch axis (2 named files) first, then seq_len (5 values), then clock (2).
        Assert.Equal(["arch", "workload.seq_len", "arch.clock_hz"], spec.Parameters.Select(p => p.Column));
        Assert.Equal(2 * 5 * 2, spec.PointCount);
        Assert.Equal(["small", "256", "1e9"], spec.ValuesAt(0));
        Assert.Equal(["small", "256", "2e9"], spec.ValuesAt(1));
        Assert.Equal(["small", "512", "1e9"], spec.ValuesAt(2));
        Assert.Equal(["big", "4096", "2e9"], spec.ValuesAt(19));

        // Ids depend only on the assignment: the same sweep parsed again gives the same ids, all distinct.
        var again = Fixtures.LoadPoly(dir);
        var ids = Enumerable.Range(0, spec.PointCount).Select(spec.PointId).ToList();
        Assert.Equal(ids, Enumerable.Range(0, again.PointCount).Select(again.PointId));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(spec.SpecHash, again.SpecHash);
        Assert.Equal(16, ids[0].Length);
    }

    [Fact]
    public void PointDocumentsCarryTheSweptOverridesAndKeepLines()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir);
        var point = spec.PointAt(19);
        Assert.Equal("big", point.ArchName);
        Assert.Equal(2e9, point.Arch!.Req("clock_hz").AsDouble());
        Assert.Equal(64, point.Arch.Req("rows").AsLong());
        Assert.Equal(4096, point.Workload!.Req("seq_len").AsLong());
        // The override replaced the value in place: the field is still on line 4 of the file.
        Assert.Equal(4, point.Arch.Req("clock_hz").Location.Line);
        Assert.EndsWith("arch/big.yaml", point.Arch.Req("clock_hz").Location.File);
    }

    [Fact]
    public void ZipRangesAndLists()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir, parameters: """
            parameters:
              zip:
                - arch.rows: [8, 16, 32]
                  arch.cols: {from: 8, to: 32, factor: 2}
              grid:
                workload.seq_len: {from: 100, to: 300, step: 100}
                arch.speed: {from: 0.1, to: 0.3, step: 0.1}
            """);
        Assert.Equal(["arch", "arch.rows", "arch.cols", "workload.seq_len", "arch.speed"], spec.Parameters.Select(p => p.Column));
        Assert.Equal(2 * 3 * 3 * 3, spec.PointCount);
        Assert.Equal(["small", "32", "32", "300", "0.3"], spec.ValuesAt(26));
        var speeds = Enumerable.Range(0, 3).Select(i => spec.ValuesAt(i)[4]).ToList();
        Assert.Equal(["0.1", "0.2", "0.3"], speeds); // no 0.30000000000000004
    }

    [Fact]
    public void GeometricRangeIsExactForIntegers()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir, parameters: """
            parameters:
              grid:
                workload.seq_len: {from: 1024, to: 1048576, factor: 4}
            """);
        Assert.Equal(["1024", "4096", "16384", "65536", "262144", "1048576"],
            Enumerable.Range(0, 6).Select(i => spec.ValuesAt(i)[1]));
    }

    [Fact]
    public void BaselineIndexMapsEveryPointToItsBaseline()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir);
        for (var i = 0; i < spec.PointCount; i++)
        {
            var b = spec.BaselineIndexOf(i)!.Value;
            var v = spec.ValuesAt(i);
            var bv = spec.ValuesAt(b);
            Assert.Equal("small", bv[0]);
            Assert.Equal(v[1..], bv[1..]);
        }
    }

    [Fact]
    public void ShardsPartitionThePoints()
    {
        using var dir = new TempDir();
        var spec = Fixtures.LoadPoly(dir);
        var shards = Enumerable.Range(0, 3).Select(i => spec.Indices(new ShardSpec(i, 3)).ToList()).ToList();
        Assert.Equal(Enumerable.Range(0, spec.PointCount), shards.SelectMany(s => s).Order());
        for (var i = 0; i < 3; i++) Assert.Equal(shards[i].Count, spec.CountIn(new ShardSpec(i, 3)));
        Assert.Throws<InputException>(() => ShardSpec.Parse("3/3"));
        Assert.Throws<InputException>(() => ShardSpec.Parse("1-3"));
        Assert.Equal(new ShardSpec(2, 8), ShardSpec.Parse("2/8"));
    }

    [Fact]
    public void SetAndCommandLineOverridesChangeTheHash()
    {
        using var dir = new TempDir();
        var registry = Fixtures.Registry();
        var path = Fixtures.WritePolySweep(dir, extra: "set:\n  arch.rows: 20\n");
        var plain = SweepSpecParser.Load(path, registry);
        Assert.Equal(20, plain.PointAt(0).Arch!.Req("rows").AsLong());
        var withSet = SweepSpecParser.Load(path, registry, [SpecOverride.Parse("arch.cols=7")]);
        Assert.Equal(7, withSet.PointAt(0).Arch!.Req("cols").AsLong());
        Assert.NotEqual(plain.SpecHash, withSet.SpecHash);

        // Editing a spec file the sweep reads also changes the hash (a resume must notice).
        dir.Write("arch/small.yaml", "name: small\nrows: 17\ncols: 16\nclock_hz: 1e9\nspeed: 1\n");
        Assert.NotEqual(plain.SpecHash, SweepSpecParser.Load(path, registry).SpecHash);
    }

    // ---- bad sweep files: one line, FILE:LINE:COL, field ----

    [Fact]
    public void UnknownTopLevelKey()
    {
        using var dir = new TempDir();
        var path = Fixtures.WritePolySweep(dir, extra: "metricz: [latency_s]");
        var e = Fixtures.InputError(() => SweepSpecParser.Load(path, Fixtures.Registry()), path, "metricz", "unknown field");
        Assert.StartsWith(Fixtures.Loc(path, "metricz") + ": metricz: unknown field", e.OneLine);
    }

    [Theory]
    [InlineData("{from: 1, to: 10, step: 0}", "step must be a non-zero")]
    [InlineData("{from: 10, to: 1, step: 2}", "never reaches")]
    [InlineData("{from: 1, to: 10, factor: 1}", "factor must be a positive number other than 1")]
    [InlineData("{from: 0, to: 10, factor: 2}", "needs from > 0")]
    [InlineData("{from: 1, to: 10}", "exactly one of step")]
    [InlineData("{from: 1, to: 10, step: 1, factor: 2}", "exactly one of step")]
    [InlineData("{from: 1, to: 10, stride: 2}", "unknown field")]
    [InlineData("{from: one, to: 10, step: 1}", "expected a number")]
    [InlineData("[]", "empty list of values")]
    [InlineData("[1, 2, 1]", "duplicate value")]
    public void BadRange(string range, string problem)
    {
        using var dir = new TempDir();
        var path = Fixtures.WritePolySweep(dir, $"parameters:\n  grid:\n    workload.seq_len: {range}\n");
        var e = Fixtures.InputError(() => SweepSpecParser.Load(path, Fixtures.Registry()), path, "seq_len", problem);
        Assert.StartsWith(Fixtures.Loc(path, "workload.seq_len").Split(':')[0] + ":9:", e.OneLine);
    }

    [Theory]
    [InlineData("parameters:\n  grid: {}\n")]
    [InlineData("parameters:\n  grid:\n")]
    public void EmptyGrid(string parameters)
    {
        using var dir = new TempDir();
        var path = Fixtures.WritePolySweep(dir, parameters);
        Fixtures.InputError(() => SweepSpecParser.Load(path, Fixtures.Registry()), path, "parameters.grid", "empty grid");
    }

    [Fact]
    public void ZipLengthMismatch()
    {
        using var dir = new TempDir();
        var path = Fixtures.WritePolySweep(dir, "parameters:\n  zip:\n    arch.rows: [8, 16, 32]\n    arch.cols: [8, 16]\n");
        var e = Fixtures.InputError(() => SweepSpecParser.Load(path, Fixtures.Registry()), path, "arch.cols",
            "zip lists differ in length: arch.rows has 3 values, arch.cols has 2");
        Assert.StartsWith(Fixtures.Loc(path, "arch.cols") + ": ", e.OneLine);
    }

    [Fact]
    public void UnknownMetric()
    {
        using var dir = new TempDir();
        var path = Fixtures.WritePolySweep(dir, extra: "metrics: [latency_s, latency_ms]\n");
        var e = Fixtures.InputError(() => SweepSpecParser.Load(path, Fixtures.Registry()), path, "metrics[1]",
            "unknown metric 'latency_ms' for engine test-poly");
        Assert.StartsWith(Fixtures.Loc(path, "latency_ms") + ": metrics[1]: ", e.OneLine);
    }

    [Fact]
    public void MissingSpecFile()
    {
        using var dir = new TempDir();
        var path = Fixtures.WritePolySweep(dir);
        File.Delete(dir.File("arch/big.yaml"));
        var e = Fixtures.InputError(() => SweepSpecParser.Load(path, Fixtures.Registry()), path, "arch.big", "file not found: arch/big.yaml");
        Assert.StartsWith(Fixtures.Loc(path, "arch/big.yaml") + ": arch.big: ", e.OneLine);
    }

    [Fact]
    public void MissingSweepFile()
    {
        using var dir = new TempDir();
        var path = dir.File("nope.yaml");
        var e = Assert.Throws<InputException>(() => SweepSpecParser.Load(path, Fixtures.Registry()));
        Assert.Equal(path + ": sweep file not found", e.OneLine);
    }

    [Fact]
    public void UnknownEngineParameterAndField()
    {
        using var dir = new TempDir();
        var registry = Fixtures.Registry();
        var bad = dir.Write("e.yaml", "engine: warp-drive\nparameters:\n  grid:\n    arch.x: [1]\n");
        Fixtures.InputError(() => SweepSpecParser.Load(bad, registry), bad, "engine", "unknown engine 'warp-drive' (known: ");

        var param = Fixtures.WritePolySweep(dir, "parameters:\n  grid:\n    seq_len: [1, 2]\n");
        Fixtures.InputError(() => SweepSpecParser.Load(param, registry), param, "seq_len", "unknown parameter 'seq_len'");

        // A field the arch files lack: caught at the sweep line, with the hint to add it with '+'.
        var field = Fixtures.WritePolySweep(dir, "parameters:\n  grid:\n    arch.rws: [1, 2]\n");
        var e = Fixtures.InputError(() => SweepSpecParser.Load(field, registry), field, "arch.rws", "has no field 'rws'");
        Assert.Contains("+arch.rws", e.Problem);
        Assert.StartsWith(Fixtures.Loc(field, "arch.rws") + ": ", e.OneLine);

        var added = Fixtures.WritePolySweep(dir, "parameters:\n  grid:\n    +arch.extra: [1, 2]\n");
        var spec = SweepSpecParser.Load(added, registry);
        Assert.Equal("arch.extra", spec.Parameters[1].Column);
        Assert.Equal(2, spec.PointAt(1).Arch!.Req("extra").AsLong());
    }

    [Fact]
    public void BadBaseline()
    {
        using var dir = new TempDir();
        var registry = Fixtures.Registry();
        var notSwept = Fixtures.WritePolySweep(dir, extra: "baseline:\n  arch.rows: 16\n");
        Fixtures.InputError(() => SweepSpecParser.Load(notSwept, registry), notSwept, "baseline", "not a swept parameter");
        var badValue = Fixtures.WritePolySweep(dir, extra: "baseline:\n  arch: medium\n");
        Fixtures.InputError(() => SweepSpecParser.Load(badValue, registry), badValue, "baseline.arch", "'medium' is not among the swept values of arch");
        var zip = Fixtures.WritePolySweep(dir, "parameters:\n  zip:\n    arch.rows: [8, 16]\n    arch.cols: [8, 16]\n",
            "baseline:\n  arch.rows: 8\n");
        Fixtures.InputError(() => SweepSpecParser.Load(zip, registry), zip, "baseline", "no baseline point for");
    }

    [Fact]
    public void MalformedYamlAndBadPlot()
    {
        using var dir = new TempDir();
        var registry = Fixtures.Registry();
        var yaml = dir.Write("m.yaml", "engine: test-poly\nparameters: [\n");
        var e = Assert.Throws<InputException>(() => SweepSpecParser.Load(yaml, registry));
        Assert.StartsWith(yaml + ":", e.OneLine);
        Assert.Contains("malformed YAML", e.OneLine);

        var plot = Fixtures.WritePolySweep(dir, extra: "plots:\n  - kind: speedup\n    x: seq_length\n");
        Fixtures.InputError(() => SweepSpecParser.Load(plot, registry), plot, "plots[0]", "unknown column 'seq_length'");
        var kind = Fixtures.WritePolySweep(dir, extra: "plots:\n  - kind: pie\n");
        Fixtures.InputError(() => SweepSpecParser.Load(kind, registry), kind, "plots[0].kind", "unknown plot kind 'pie'");
    }

    [Fact]
    public void EverySweepShippedUnderWorkloadsParses()
    {
        var root = RepoRoot();
        var registry = AccelSim.Experiments.Sweeps.BuiltInEvaluators.CreateRegistry();
        var files = Directory.GetFiles(Path.Combine(root, "workloads", "sweeps"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var engine = YNode.LoadFile(file).Req("engine").Text;
            if (registry.Contains(engine))
            {
                var spec = SweepSpecParser.Load(file, registry);
                Assert.True(spec.PointCount > 0, file);
            }
            else
            {
                // Sweeps for engines that other areas are still building must fail only on the engine name.
                var e = Assert.Throws<InputException>(() => SweepSpecParser.Load(file, registry));
                Assert.Contains($"unknown engine '{engine}'", e.OneLine);
            }
        }
    }

    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "AccelSim.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("AccelSim.sln not found above the test folder");
    }
}
