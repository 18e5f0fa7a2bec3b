using System.Diagnostics;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

/// <summary>
/// The built `accelsim` is started as a child process on an analytic-roofline sweep and stopped from outside:
/// with SIGKILL (nothing runs after it) and with SIGINT (Ctrl-C, a clean stop). Resuming must give exactly the
/// rows of an uninterrupted run.
/// </summary>
public class SweepProcessTests
{
    private static string WriteRooflineSweep(TempDir dir)
    {
        dir.Write("m.yaml", "name: m\npeak_flops: 1e15\nmemory_bandwidth: 3e12\n");
        dir.Write("g.yaml", "kind: gemm\nm: 4096\nn: 4096\nk: 4096\n");
        return dir.Write("big.yaml", """
            name: big
            engine: analytic-roofline
            arch: m.yaml
            workload: g.yaml
            parameters:
              grid:
                arch.peak_flops: {from: 2e13, to: 2e15, step: 2e13}
                arch.memory_bandwidth: {from: 2e11, to: 1e13, step: 2e11}
                workload.k: [1024, 4096]
            metrics: [latency_s, intensity, utilization, bound]
            """);
    }

    private static Process Start(string args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "accelsim.dll");
        Assert.True(File.Exists(dll), dll);
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" {args}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["CI"] = "true";
        return Process.Start(info)!;
    }

    /// <summary>Waits until the child has written at least <paramref name="rows"/> rows, or has exited.</summary>
    private static void WaitForRows(Process child, string results, int rows)
    {
        var clock = Stopwatch.StartNew();
        while (!child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (File.Exists(results) && CountNewlines(results) > rows) return;
            Thread.Sleep(2);
        }
    }

    private static int CountNewlines(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var count = 0;
        var buffer = new byte[1 << 16];
        int n;
        while ((n = fs.Read(buffer)) > 0)
            for (var i = 0; i < n; i++)
                if (buffer[i] == '\n') count++;
        return count;
    }

    private static byte[] Reference(TempDir dir, string sweep)
    {
        var registry = BuiltInEvaluators.CreateRegistry();
        var spec = SweepSpecParser.Load(sweep, registry);
        var result = SweepRunner.Run(spec, registry.Get(spec.Engine), new SweepRunOptions(dir.File("reference")));
        Assert.True(result.Completed);
        return File.ReadAllBytes(result.ResultsPath);
    }

    private static (int Code, string Stderr) RunToEnd(Process child)
    {
        var stderr = child.StandardError.ReadToEndAsync();
        child.StandardOutput.ReadToEnd();
        Assert.True(child.WaitForExit(120_000), "accelsim did not finish");
        return (child.ExitCode, stderr.Result);
    }

    [Fact]
    public void KilledWithSigkillAndResumedGivesExactlyTheUninterruptedRows()
    {
        using var dir = new TempDir();
        var sweep = WriteRooflineSweep(dir);
        var outDir = dir.File("out");
        var results = Path.Combine(outDir, "results.csv");

        using (var child = Start($"sweep \"{sweep}\" --out \"{outDir}\" --jobs 2"))
        {
            WaitForRows(child, results, 500);
            Assert.False(child.HasExited, "the sweep finished before it could be killed; make it larger");
            child.Kill(); // SIGKILL on Unix: no handler runs
            child.WaitForExit();
        }
        var rowsAtKill = CountNewlines(results) - 1;
        Assert.InRange(rowsAtKill, 500, 9_999);

        using (var resumed = Start($"sweep \"{sweep}\" --out \"{outDir}\" --resume"))
        {
            var (code, stderr) = RunToEnd(resumed);
            Assert.True(code == 0, stderr);
        }
        Assert.Equal(Reference(dir, sweep), File.ReadAllBytes(results));
    }

    [Fact]
    public void CtrlCStopsCleanlyKeepingFinishedRows()
    {
        if (OperatingSystem.IsWindows()) return; // SIGINT is sent with kill(1)
        using var dir = new TempDir();
        var sweep = WriteRooflineSweep(dir);
        var outDir = dir.File("out");
        var results = Path.Combine(outDir, "results.csv");

        using (var child = Start($"sweep \"{sweep}\" --out \"{outDir}\" --jobs 2"))
        {
            WaitForRows(child, results, 500);
            Assert.False(child.HasExited, "the sweep finished before it could be interrupted; make it larger");
            using (var kill = Process.Start("kill", $"-INT {child.Id}")) kill.WaitForExit();
            var (code, stderr) = RunToEnd(child);
            Assert.Equal(1, code);
            Assert.Contains("SIGINT: stopping", stderr);
            Assert.Contains("--resume", stderr);
        }
        // A clean stop leaves only whole rows.
        Assert.EndsWith("\n", File.ReadAllText(results));

        using (var resumed = Start($"sweep \"{sweep}\" --out \"{outDir}\" --resume --json"))
        {
            var (code, stderr) = RunToEnd(resumed);
            Assert.True(code == 0, stderr);
        }
        Assert.Equal(Reference(dir, sweep), File.ReadAllBytes(results));
    }
}
