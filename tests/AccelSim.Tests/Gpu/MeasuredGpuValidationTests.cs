using AccelSim.Gpu.Validation;

namespace AccelSim.Tests.Gpu;

/// <summary>
/// The model against this project's own measurements (tools/gpu-bench, PyTorch SDPA backends, 2026-11-25):
/// arch/gpu/measurements/h100-sdpa (H100 80GB HBM3, BF16 and FP16) and h200-sdpa (H200, BF16). The model never reads
/// these rows; the bounds are the MAPE the model reached when they were measured plus a small margin
/// (arch/gpu/measurements/README.md explains the known gaps: backward at short sequences, xFormers on Hopper, the
/// unfused softmax over long rows).
/// </summary>
public class MeasuredGpuValidationTests
{
    private static readonly Dictionary<string, Lazy<ValidationSummary>> Summaries = new()
    {
        ["h100-sdpa"] = Load("h100-sdpa"),
        ["h200-sdpa"] = Load("h200-sdpa"),
    };

    private static Lazy<ValidationSummary> Load(string folder) => new(() => Validator.Run(
        MeasurementReader.Load(Path.Combine(GpuTestData.ArchDir, "measurements", folder, "measurements.csv")),
        Validator.LoadGpus(GpuTestData.ArchDir)));

    [Theory]
    [InlineData("h100-sdpa", "H100-SXM5-80GB", 586, 538)]
    [InlineData("h200-sdpa", "H200-SXM-141GB", 294, 270)]
    public void EveryMeasuredRowResolvesToItsGpuSpecAndAKernelFamily(string folder, string gpu, int rows, int predicted)
    {
        var s = Summaries[folder].Value;
        Assert.Equal(rows, s.Results.Length);
        Assert.Equal(predicted, s.Count(_ => true));
        Assert.All(s.Results.Where(r => r.Predicted), r => Assert.Equal(gpu, r.GpuName));
        // The only rows left out are xFormers at head dim 256, which the model's xFormers family does not cover.
        Assert.All(s.Unpredicted, r => Assert.True(r.Row.Kernel == "xformers" && r.Row.HeadDim == 256, r.Message));
    }

    [Theory]
    [InlineData("h100-sdpa", 156, 10)]
    [InlineData("h200-sdpa", 78, 12.5)]
    public void ForwardFlashAttention2AndCudnn(string folder, int count, double maxMape)
    {
        var s = Summaries[folder].Value;
        bool Filter(ValidationResult r) => r.Family is "fa2" or "cudnn" && r.Row.Direction == "fwd";
        Assert.Equal(count, s.Count(Filter));
        Assert.True(s.Mape(Filter) <= maxMape, $"{folder}: MAPE {s.Mape(Filter):0.0}% > {maxMape}%");
    }

    [Theory]
    [InlineData("h100-sdpa", "fa2", "fwd", 78, 11)]
    [InlineData("h100-sdpa", "fa2", "fwd+bwd", 72, 23)]
    [InlineData("h100-sdpa", "cudnn", "fwd", 78, 8.5)]
    [InlineData("h100-sdpa", "cudnn", "fwd+bwd", 72, 16)]
    [InlineData("h100-sdpa", "xformers", "fwd", 48, 55)]
    [InlineData("h100-sdpa", "xformers", "fwd+bwd", 48, 55)]
    [InlineData("h100-sdpa", "standard", "fwd", 72, 32)]
    [InlineData("h100-sdpa", "standard", "fwd+bwd", 70, 23)]
    [InlineData("h200-sdpa", "fa2", "fwd", 39, 12.5)]
    [InlineData("h200-sdpa", "fa2", "fwd+bwd", 36, 23)]
    [InlineData("h200-sdpa", "cudnn", "fwd", 39, 12.5)]
    [InlineData("h200-sdpa", "cudnn", "fwd+bwd", 36, 12.5)]
    [InlineData("h200-sdpa", "xformers", "fwd", 24, 57)]
    [InlineData("h200-sdpa", "xformers", "fwd+bwd", 24, 55)]
    [InlineData("h200-sdpa", "standard", "fwd", 36, 69)]
    [InlineData("h200-sdpa", "standard", "fwd+bwd", 36, 40)]
    public void FamilyMapeStaysWithinItsGuard(string folder, string family, string direction, int count, double maxMape)
    {
        var s = Summaries[folder].Value;
        bool Filter(ValidationResult r) => r.Family == family && r.Row.Direction == direction;
        Assert.Equal(count, s.Count(Filter));
        Assert.True(s.Mape(Filter) <= maxMape, $"{folder} {family} {direction}: MAPE {s.Mape(Filter):0.0}% > {maxMape}%");
    }

    /// <summary>At 2k tokens and more (compute-bound shapes) the fused kernels are predicted within ~13%.</summary>
    [Theory]
    [InlineData("h100-sdpa", 192)]
    [InlineData("h200-sdpa", 96)]
    public void FusedKernelsAtLongSequencesWithinFifteenPercentMape(string folder, int count)
    {
        var s = Summaries[folder].Value;
        bool Filter(ValidationResult r) => r.Family is "fa2" or "cudnn" && r.Row.SeqLen >= 2048;
        Assert.Equal(count, s.Count(Filter));
        Assert.True(s.Mape(Filter) <= 15, $"{folder}: MAPE {s.Mape(Filter):0.0}%");
    }
}
