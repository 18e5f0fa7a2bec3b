using AccelSim.Gpu;
using AccelSim.Gpu.Validation;

namespace AccelSim.Tests.Gpu;

public class GpuValidationTests
{
    private static readonly Lazy<(MeasurementSet Set, ValidationSummary Summary)> Shipped = new(() =>
    {
        var set = MeasurementReader.Load(GpuTestData.MeasurementsCsv);
        return (set, Validator.Run(set, Validator.LoadGpus(GpuTestData.ArchDir)));
    });

    private static bool IsFa23(ValidationResult r) => r.Family is "fa2" or "fa3";

    [Fact]
    public void H100ForwardFlashAttention23WithinTenPercentMape()
    {
        var s = Shipped.Value.Summary;
        bool Filter(ValidationResult r) => !r.Row.Approx && IsFa23(r) && r.GpuName == "H100-SXM5-80GB" && r.Row.Direction == "fwd";
        Assert.True(s.Count(Filter) >= 60);
        Assert.True(s.Mape(Filter) <= 10, $"MAPE {s.Mape(Filter)}");
    }

    [Fact]
    public void AllFlashAttentionPointsWithinFifteenPercentMape()
    {
        var s = Shipped.Value.Summary;
        bool Filter(ValidationResult r) => !r.Row.Approx && IsFa23(r);
        Assert.True(s.Count(Filter) >= 110);
        Assert.True(s.Mape(Filter) <= 15, $"MAPE {s.Mape(Filter)}");
        Assert.True(s.Mape(r => !r.Row.Approx && IsFa23(r) && r.GpuName == "A100-SXM4-80GB") <= 15);
        Assert.True(s.Mape(r => !r.Row.Approx && IsFa23(r) && r.Row.Direction == "fwd+bwd") <= 15);
    }

    [Fact]
    public void UnknownGpuAndKernelNamesGetPerRowMessages()
    {
        var csv = "gpu,kernel,dtype,direction,batch,heads,seq_len,head_dim,causal,tflops,approx,source\n" +
                  "H100 (unspecified SKU),FlashAttention-3,bf16,fwd,1,16,4096,128,false,600,no,x\n" +
                  "H100-SXM5-80GB,MysteryAttention,bf16,fwd,1,16,4096,128,false,600,no,x\n" +
                  "A100-SXM4-80GB,FlashAttention-3,bf16,fwd,1,16,4096,128,false,600,no,x\n" +
                  "H100-SXM5-80GB,FlashAttention-3,bf16,fwd,1,16,4096,128,false,600,no,\"a, quoted source\"\n";
        var set = MeasurementReader.Parse(csv, "m.csv");
        var s = Validator.Run(set, Validator.LoadGpus(GpuTestData.ArchDir));
        Assert.Contains("unknown GPU", s.Results[0].Message);
        Assert.Contains("unknown kernel", s.Results[1].Message);
        Assert.Contains("unsupported", s.Results[2].Message);
        Assert.True(s.Results[3].Predicted);
        var text = Validator.ToCsv(set, s);
        Assert.Contains("predicted_tflops,error_pct,bottleneck", text.Split('\n')[0]);
        Assert.Contains("\"a, quoted source\"", text);
    }

    /// <summary>No model constant may come from a measurement file: scrambling the measured column changes no prediction.</summary>
    [Fact]
    public void PredictionsDoNotDependOnMeasuredValues()
    {
        var (set, summary) = Shipped.Value;
        var rng = new Random(6);
        var lines = File.ReadAllLines(GpuTestData.MeasurementsCsv);
        var tflopsCol = Array.IndexOf(lines[0].Split(','), "tflops");
        var scrambled = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');   // tflops precedes the (possibly quoted) source column
            f[tflopsCol] = (rng.NextDouble() * 2000 + 1).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            scrambled.Add(string.Join(',', f));
        }
        var dir = Directory.CreateTempSubdirectory("accelsim-gpu-");
        try
        {
            var path = Path.Combine(dir.FullName, "scrambled.csv");
            File.WriteAllLines(path, scrambled);
            var other = Validator.Run(MeasurementReader.Load(path), Validator.LoadGpus(GpuTestData.ArchDir));
            Assert.Equal(summary.Results.Length, other.Results.Length);
            for (int i = 0; i < summary.Results.Length; i++)
            {
                Assert.Equal(summary.Results[i].PredictedTflops, other.Results[i].PredictedTflops);
                Assert.NotEqual(set.Rows[i].MeasuredTflops, other.Results[i].Row.MeasuredTflops);
            }
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void SpecsEvaluateWithoutAnyMeasurementFile()
    {
        var dir = Directory.CreateTempSubdirectory("accelsim-gpu-");
        try
        {
            foreach (var f in Directory.GetFiles(GpuTestData.ArchDir, "*.yaml")) File.Copy(f, Path.Combine(dir.FullName, Path.GetFileName(f)));
            Assert.Empty(Directory.GetFiles(dir.FullName, "*.csv", SearchOption.AllDirectories));
            var gpus = Validator.LoadGpus(dir.FullName);
            Assert.Equal(4, gpus.Length);
            var shape = new AttentionShape(2, 16, 16, 8192, 8192, 128, 128, false, null, DataType.Bf16, Direction.Forward);
            var h100 = gpus.Single(g => g.Gpu.Name.StartsWith("H100", StringComparison.Ordinal));
            var here = GpuEvaluator.Evaluate(h100.Gpu, shape, h100.Kernels.Get("fa3"));
            Assert.Equal(GpuTestData.Run("h100", "fa3", 2, 16, 8192, 128).Tflops, here.Tflops);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ValidateVerbWritesCsvAndParityPlot()
    {
        var dir = Directory.CreateTempSubdirectory("accelsim-validate-");
        try
        {
            var o = new StringWriter();
            var e = new StringWriter();
            var code = AccelSim.Cli.Cli.Run(["validate", "--measurements", GpuTestData.MeasurementsCsv, "--arch-dir", GpuTestData.ArchDir, "--out", dir.FullName], o, e);
            Assert.True(code == 0, e.ToString());
            Assert.Contains("MAPE", o.ToString());
            Assert.Contains("unknown GPU 'H100 (unspecified SKU)'", o.ToString());
            var csv = File.ReadAllLines(Path.Combine(dir.FullName, "validation.csv"));
            Assert.Equal(File.ReadAllLines(GpuTestData.MeasurementsCsv).Length, csv.Length);
            var png = File.ReadAllBytes(Path.Combine(dir.FullName, "parity.png"));
            Assert.True(png.Length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ValidateVerbRejectsMissingFilesWithExitCode2()
    {
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(["validate", "--measurements", "/no/such.csv", "--arch-dir", GpuTestData.ArchDir], new StringWriter(), e);
        Assert.Equal(2, code);
        Assert.Contains("file not found", e.ToString());
        var bad = Path.GetTempFileName();
        File.WriteAllText(bad, "gpu,kernel\nH100,fa3\n");
        try
        {
            code = AccelSim.Cli.Cli.Run(["validate", "--measurements", bad, "--arch-dir", GpuTestData.ArchDir], new StringWriter(), e);
            Assert.Equal(2, code);
            Assert.Contains("missing column", e.ToString());
        }
        finally { File.Delete(bad); }
    }
}
