using AccelSim.Mapper;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using Xunit.Abstractions;

namespace AccelSim.Tests.Mapper;

/// <summary>
/// Guided search against the proven optimum: on each problem, exhaustive search prices every mapping (one loop order
/// per equivalence class), and guided search with 2% of that many evaluations must come within 5% of its objective.
/// Problems: GEMMs of three shapes, attention QK and AV (from workloads/attention/attention-3pass.yaml) at two sequence
/// lengths, and a sliding-window convolution, on a 3-level array (tests/.../Mapper/Data/small-array.yaml).
/// </summary>
public class MapperQualityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Problems() => new() { "gemm16x16x16", "gemm32x8x16", "gemm8x4x8-bypass", "QK-16", "QK-32", "AV-16", "AV-32", "conv1d" };

    private static (ProblemShape Problem, MapSpaceConstraints Constraints) Case(string name)
    {
        // Register files (and the buffer, except in the bypass case) keep every tensor: this keeps exhaustive search
        // small enough for CI while leaving tilings, parallelism and loop orders free.
        ProblemShape p = name switch
        {
            "gemm16x16x16" => MapperTestKit.Gemm(16, 16, 16),
            "gemm32x8x16" => MapperTestKit.Gemm(32, 8, 16),
            "gemm8x4x8-bypass" => MapperTestKit.Gemm(8, 4, 8),
            "QK-16" => MapperTestKit.Attention("QK", 16, 8),
            "QK-32" => MapperTestKit.Attention("QK", 32, 4),
            "AV-16" => MapperTestKit.Attention("AV", 16, 8),
            "AV-32" => MapperTestKit.Attention("AV", 32, 4),
            _ => ModelTestKitConv(),
        };
        var keep = name.EndsWith("-bypass", StringComparison.Ordinal)
            ? MapperTestKit.KeepAll(p, "RegisterFile")
            : MapperTestKit.KeepAll(p, "GlobalBuffer", "RegisterFile");
        return (p, keep);
    }

    private static ProblemShape ModelTestKitConv() => AccelSim.Tests.Model.ModelTestKit.Parse(
        "problem: {name: conv1d, dims: {K: 8, C: 4, P: 8, R: 3}, tensors: {Weights: [K, C, R], Inputs: [C, 'P + R'], Outputs: {ranks: [K, P], output: true}}}");

    [Theory]
    [MemberData(nameof(Problems))]
    public void GuidedComesWithinFivePercentOfTheOptimumWithTwoPercentOfTheEvaluations(string name)
    {
        var (p, cons) = Case(name);
        var exhaustive = MapSearch.Run(new MapRequest(MapperTestKit.SmallArray, p, cons, Objective.Edp, "exhaustive", Threads: 2));
        Assert.Equal(StopReason.Completed, exhaustive.Outcome.StopReason);
        long budget = exhaustive.Evaluations / 50;
        var guided = MapSearch.Run(new MapRequest(MapperTestKit.SmallArray, p, cons, Objective.Edp, "guided", budget, Seed: 1, Threads: 2));
        double optimum = exhaustive.Outcome.BestScore.Primary, found = guided.Outcome.BestScore.Primary;
        output.WriteLine($"{name}: exhaustive {exhaustive.Evaluations} evaluations, EDP {optimum:E6}; guided {guided.Evaluations} evaluations " +
                         $"({100.0 * guided.Evaluations / exhaustive.Evaluations:F2}%), EDP {found:E6} ({found / optimum:F4}x)");
        Assert.True(guided.Evaluations <= exhaustive.Evaluations / 50);
        Assert.True(found >= optimum * (1 - 1e-12), "guided cannot beat the proven optimum");
        Assert.True(found <= optimum * 1.05, $"{name}: guided EDP {found:E4} is {found / optimum:F3}x the optimum {optimum:E4}");
        Assert.True(guided.Compact is not null && guided.Space.Contains(guided.Compact));
    }
}
