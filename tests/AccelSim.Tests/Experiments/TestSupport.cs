using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

/// <summary>A temporary folder removed at the end of a test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string text)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        return path;
    }

    /// <summary>Set ACCELSIM_KEEP_TEST_OUTPUT=1 to keep the folders (e.g. to look at the plots).</summary>
    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("ACCELSIM_KEEP_TEST_OUTPUT") is "1") return;
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// Test-only engine `test-poly`: deterministic closed-form metrics of the swept parameters (an array of
/// rows x cols PEs at a clock, a sequence length), rich enough for every plot kind. Points with
/// workload.seq_len = 13 fail with an input error. <see cref="OnEvaluate"/> lets tests interrupt a run.
/// </summary>
public sealed class PolyEvaluator : IPointEvaluator
{
    public const string Name = "test-poly";
    private int _evaluations;

    public string Engine => Name;
    public string Description => "closed-form test engine";
    public int Evaluations => Volatile.Read(ref _evaluations);

    /// <summary>Called with the running evaluation count before each point is priced.</summary>
    public Action<int>? OnEvaluate { get; set; }

    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("latency_s", "s", MetricKind.Time, "latency"),
        new("energy_compute_pJ", "pJ", MetricKind.Energy, "compute energy"),
        new("energy_memory_pJ", "pJ", MetricKind.Energy, "memory energy"),
        new("energy_pJ", "pJ", MetricKind.Energy, "total energy"),
        new("util_2d", "fraction", MetricKind.Utilization, "2D array"),
        new("util_1d", "fraction", MetricKind.Utilization, "1D array"),
        new("area_um2", "um^2", MetricKind.Area, "area"),
        new("intensity", "FLOP/B", MetricKind.Intensity, "intensity"),
        new("attained_flops_per_s", "FLOP/s", MetricKind.Throughput, "attained"),
        new("peak_flops", "FLOP/s", MetricKind.Throughput, "peak"),
        new("memory_bandwidth", "B/s", MetricKind.Throughput, "bandwidth"),
        new("measured_s", "s", MetricKind.Time, "a pretend measurement of latency"),
        new("label", "", MetricKind.Text, "text metric"),
    ];

    public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
    {
        OnEvaluate?.Invoke(Interlocked.Increment(ref _evaluations));
        cancellationToken.ThrowIfCancellationRequested();
        var arch = point.Arch!;
        var workload = point.Workload!;
        var rows = arch.Req("rows").AsDouble();
        var cols = arch.Req("cols").AsDouble();
        var clock = arch.Req("clock_hz").AsDouble();
        var speed = arch.OptDouble("speed") ?? 1.0;
        var seq = workload.Req("seq_len").AsDouble();
        if (seq == 13) throw workload.Req("seq_len").Error("unlucky sequence length");
        var flops = 4.0 * 64 * seq * seq * 12;
        var peak = 2 * rows * cols * clock * speed;
        var bandwidth = 64 * clock;
        var bytes = 2.0 * 4 * seq * 64 * 12;
        var latency = Math.Max(flops / peak, bytes / bandwidth) + 1e-9 * seq;
        var compute = flops * 0.7 / speed;
        var memory = bytes * 31.2;
        var util2d = Math.Min(1, flops / peak / latency);
        return new Dictionary<string, MetricValue>
        {
            ["latency_s"] = latency,
            ["energy_compute_pJ"] = compute,
            ["energy_memory_pJ"] = memory,
            ["energy_pJ"] = compute + memory,
            ["util_2d"] = util2d,
            ["util_1d"] = 1 - util2d / 3,
            ["area_um2"] = rows * cols * 1545.0 * (1 + 0.1 * speed),
            ["intensity"] = flops / bytes,
            ["attained_flops_per_s"] = flops / latency,
            ["peak_flops"] = peak,
            ["memory_bandwidth"] = bandwidth,
            ["measured_s"] = latency * (1 + 0.03 * Math.Sin(seq + rows)),
            ["label"] = point.ArchName + ", with comma",
        };
    }
}

public static class Fixtures
{
    public static EvaluatorRegistry Registry(PolyEvaluator? poly = null) =>
        BuiltInEvaluators.CreateRegistry().Register(poly ?? new PolyEvaluator());

    /// <summary>Writes arch and workload files and a sweep over them; returns the sweep path.</summary>
    public static string WritePolySweep(TempDir dir, string parameters = DefaultParameters, string extra = DefaultExtra,
        string name = "poly")
    {
        dir.Write("arch/small.yaml", "name: small\nrows: 16\ncols: 16\nclock_hz: 1e9\nspeed: 1\n");
        dir.Write("arch/big.yaml", "name: big\nrows: 64\ncols: 64\nclock_hz: 1e9\nspeed: 1.5\n");
        dir.Write("work/attn.yaml", "kind: attention\nseq_len: 1024\n");
        return dir.Write($"{name}.yaml", $"""
            name: {name}
            engine: test-poly
            arch:
              small: arch/small.yaml
              big: arch/big.yaml
            workload: work/attn.yaml
            {parameters}
            {extra}
            """);
    }

    public const string DefaultParameters = """
        parameters:
          grid:
            workload.seq_len: {from: 256, to: 4096, factor: 2}
            arch.clock_hz: [1e9, 2e9]
        """;

    public const string DefaultExtra = """
        baseline:
          arch: small
        """;

    public static SweepSpec LoadPoly(TempDir dir, PolyEvaluator? poly = null, string parameters = DefaultParameters,
        string extra = DefaultExtra) =>
        SweepSpecParser.Load(WritePolySweep(dir, parameters, extra), Registry(poly));

    /// <summary>`FILE:LINE:COL` of the first occurrence of <paramref name="needle"/> in a file (1-based).</summary>
    public static string Loc(string path, string needle)
    {
        var lines = System.IO.File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var col = lines[i].IndexOf(needle, StringComparison.Ordinal);
            if (col >= 0) return $"{path}:{i + 1}:{col + 1}";
        }
        throw new InvalidOperationException($"'{needle}' not in {path}");
    }

    /// <summary>Asserts a one-line input error located in <paramref name="file"/> and returns it.</summary>
    public static InputException InputError(Action action, string file, string fieldContains, string problemContains)
    {
        var e = Assert.Throws<InputException>(action);
        Assert.DoesNotContain('\n', e.OneLine);
        Assert.StartsWith(file, e.OneLine);
        Assert.Matches(@"^[^:]+:\d+:\d+: ", e.OneLine);
        Assert.Contains(fieldContains, e.Field ?? "");
        Assert.Contains(problemContains, e.Problem);
        return e;
    }
}
