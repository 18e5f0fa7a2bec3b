using System.Diagnostics;

namespace AccelSim.Tests.Gpu;

/// <summary>tools/gpu-bench/bench.py: a CPU dry run when torch is installed, otherwise a byte-compile check.</summary>
public class GpuBenchScriptTests
{
    private static (int Code, string Output) Python(string arguments, string? pycachePrefix = null)
    {
        var psi = new ProcessStartInfo("python3", arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = GpuTestData.RepoRoot,
        };
        if (pycachePrefix is not null) psi.Environment["PYTHONPYCACHEPREFIX"] = pycachePrefix;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(240_000)) { p.Kill(true); return (-1, "timeout"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static bool HasPython()
    {
        try { return Python("--version").Code == 0; }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    [Fact]
    public void BenchScriptDryRunsOrCompiles()
    {
        if (!HasPython()) return;   // no python3 at all: nothing to check on this machine
        var script = Path.Combine("tools", "gpu-bench", "bench.py");
        var tmp = Directory.CreateTempSubdirectory("accelsim-gpubench-");
        try
        {
            if (Python("-c \"import torch\"").Code == 0)
            {
                var (code, output) = Python($"{script} --dry-run --out {tmp.FullName}", tmp.FullName);
                Assert.True(code == 0, output);
                var lines = File.ReadAllLines(Path.Combine(tmp.FullName, "measurements.csv"));
                Assert.StartsWith("gpu,kernel,dtype,direction,batch,heads,seq_len,head_dim,causal,tflops,approx,source", lines[0]);
                Assert.True(lines.Length > 3);
                Assert.True(File.Exists(Path.Combine(tmp.FullName, "metadata.json")));
            }
            else
            {
                var (code, output) = Python($"-m py_compile {script}", tmp.FullName);
                Assert.True(code == 0, output);
            }
        }
        finally { tmp.Delete(true); }
    }
}
