using AccelSim.Experiments.FuseMax;
using AccelSim.Mapper;
using Xunit.Abstractions;

namespace AccelSim.Tests.FuseMax;

/// <summary>
/// The FuseMax study's mapping templates against AccelSim's mapper (<see cref="FuseMaxMapperCrossCheck"/>): each 2D
/// Einsum of the attention cascade (QK and SLNV on cascade/fusemax, QK and AV on flat) on BERT's shape, one sequence of
/// one head (per-element costs do not depend on batch and heads: every template loops over them at DRAM), priced by
/// the single-Einsum model with the template's mapping and with the mapper's best (guided search, seed 1, 10,000
/// evaluations, objective energy) on the same hardware, without the cascade's residence adjustments.
/// Measured (template / mapper energy; cycles are the array's compute cycles):
/// * With the template's keep/bypass choices fixed (tilings, fan-outs, orders free) the mapper finds nothing better
///   (ratio exactly 1) except +Cascade's SLNV (1.0109: it reads V once from FLAT's 64-bit buffer by holding 512 partial
///   sums per column in the 512-word 1D register file, where the template re-reads V once per 256-query block) and
///   FLAT's AV (1.0081 and 4x fewer cycles, see below).
/// * Free, the mapper saves 3-27%: all of it is the template's keeps, which stage the Einsum's intermediates where the
///   next Einsum of the cascade reads them (QK in the PE registers or the buffer, SLN in the buffer). Alone, that
///   staging is pure cost (the output still goes to DRAM); in the cascade it replaces the DRAM traffic.
/// * Every template keeps the 2D array fully busy, as the mapper's best does, except FLAT's AV: its output-stationary
///   dataflow at these points (flat-dataflow.csv) spreads F = 64 across the 256 columns, 25% utilisation, 4x the
///   cycles, as in the artifact's stationarity variants (the array waits for the 1D softmax anyway, so latency is
///   unaffected).
/// </summary>
public class FuseMaxMapperCrossCheckTests(ITestOutputHelper output)
{
    private static readonly CrossCheckSearch Search = new(new Objective([Metric.Energy]), Budget: 10_000, Seed: 1);

    private MapperCrossCheck Run(string arch, string einsum, long seqLen)
    {
        var x = FuseMaxMapperCrossCheck.Run(FuseMaxStudy.ArchPath(RepoPaths.Root, arch), FuseMaxStudy.ModelPath(RepoPaths.Root, "bert-base.yaml"),
            seqLen, einsum, Search, FuseMaxMapperCrossCheck.OneHead);
        output.WriteLine(x.Summary());
        return x;
    }

    /// <summary>
    /// Cases whose template is the mapper's best for its keeps, with the measured template/free-mapper energy ratio
    /// (the price of staging intermediates for the cascade) as a bound ~2% above the measurement.
    /// </summary>
    [Theory]
    [InlineData("fusemax", "QK", 1024, 1.0637, 1.08)]
    [InlineData("fusemax", "SLNV", 1024, 1.0290, 1.05)]
    [InlineData("fusemax", "QK", 16384, 1.0640, 1.08)]
    [InlineData("flat", "QK", 1024, 1.2218, 1.24)]
    [InlineData("flat", "QK", 16384, 1.2256, 1.25)]
    [InlineData("cascade", "QK", 1024, 1.2733, 1.29)]
    public void TemplateIsTheMappersBestForItsKeepsAndUsesTheWholeArray(string arch, string einsum, long seqLen, double measuredFree, double maxFree)
    {
        var x = Run(arch, einsum, seqLen);
        AssertTemplateIsTheCascadesMapping(x);

        // Full 2D-array utilisation, the fewest compute cycles any mapping reaches.
        Assert.Equal(1.0, x.Template.SpatialUtilization);
        Assert.Equal(x.Template.Operations / x.Template.ComputeInstances, x.Template.ComputeCycles);
        Assert.Equal(x.SameKeeps.Report.ComputeCycles, x.Template.ComputeCycles);
        Assert.Equal(x.Free.Report.ComputeCycles, x.Template.ComputeCycles);

        // With the same keeps the mapper finds exactly the template's energy (the template is in that space, so
        // finding more would be a search failure; finding less a worse template).
        Assert.Equal(1.0, x.SameKeepsEnergyRatio, 9);

        // Free, it saves what the cascade's residence costs this Einsum alone; a template regression moves this.
        Assert.InRange(x.FreeEnergyRatio, 1.0, maxFree);
        Assert.Equal(measuredFree, x.FreeEnergyRatio, 3);
    }

    /// <summary>
    /// +Cascade's SLNV on FLAT's 64-bit buffer: with the template's keeps the mapper reads each V element once (V whole
    /// in the buffer, f innermost, 512 partial sums per column in the 512-word 1D register file) where the template
    /// reads V once per 256-query block. A genuine 1.1% (on FuseMax's 4096-bit buffer the re-reads are nearly free and
    /// the template is exact); the test pins the relation.
    /// </summary>
    [Fact]
    public void CascadeSlnvTemplateRereadsVFromTheNarrowBuffer()
    {
        var x = Run("cascade", "SLNV", 1024);
        AssertTemplateIsTheCascadesMapping(x);
        Assert.Equal(1.0, x.Template.SpatialUtilization);
        Assert.Equal(x.SameKeeps.Report.ComputeCycles, x.Template.ComputeCycles);
        Assert.InRange(x.SameKeepsEnergyRatio, 1.005, 1.015);
        Assert.Equal(4 * ReadsAtBuffer(x.SameKeeps.Report, "V"), ReadsAtBuffer(x.Template, "V"));
        Assert.InRange(x.FreeEnergyRatio, 1.20, 1.25);
    }

    /// <summary>
    /// FLAT's AV at BERT 1K: output stationary (flat-dataflow.csv), F = 64 across the 256 columns, so a quarter of the
    /// array works and the Einsum takes 4x the cycles the mapper's best needs. The template follows the artifact's
    /// stationarity variants; the study's busy fraction (time x utilised share, AV = 0.0625 at BERT 1K) is the same
    /// either way, and latency is the 1D softmax's.
    /// </summary>
    [Fact]
    public void FlatAvUsesAQuarterOfTheArray()
    {
        var x = Run("flat", "AV", 1024);
        AssertTemplateIsTheCascadesMapping(x);
        Assert.Equal(0.25, x.Template.SpatialUtilization);
        Assert.Equal(1.0, x.SameKeeps.Report.SpatialUtilization);
        Assert.Equal(4 * x.SameKeeps.Report.ComputeCycles, x.Template.ComputeCycles);
        Assert.Equal(x.Free.Report.ComputeCycles, x.SameKeeps.Report.ComputeCycles);
        Assert.InRange(x.SameKeepsEnergyRatio, 1.0, 1.02);
        Assert.InRange(x.FreeEnergyRatio, 1.18, 1.23);
    }

    /// <summary>
    /// Why one sequence of one head is enough: every template loops over batch and heads outermost, at DRAM, so its
    /// single-Einsum cycles and energy scale exactly with B x H (checked at B = 2, H = 3).
    /// </summary>
    [Theory]
    [InlineData("fusemax", "SLNV")]
    [InlineData("flat", "QK")]
    public void TemplateCostsScaleWithBatchAndHeads(string arch, string einsum)
    {
        var one = FuseMaxMapperCrossCheck.Run(FuseMaxStudy.ArchPath(RepoPaths.Root, arch), FuseMaxStudy.ModelPath(RepoPaths.Root, "bert-base.yaml"),
            1024, einsum, Search with { Budget = 200 }, FuseMaxMapperCrossCheck.OneHead);
        var six = FuseMaxMapperCrossCheck.Run(FuseMaxStudy.ArchPath(RepoPaths.Root, arch), FuseMaxStudy.ModelPath(RepoPaths.Root, "bert-base.yaml"),
            1024, einsum, Search with { Budget = 200 }, new Dictionary<string, string> { ["batch"] = "2", ["heads"] = "3" });
        Assert.Equal(6 * one.Template.ComputeCycles, six.Template.ComputeCycles);
        Assert.Equal(6 * one.Template.EnergyPJ!.Value, six.Template.EnergyPJ!.Value, 6 * one.Template.EnergyPJ.Value * 1e-12);
    }

    /// <summary>The template priced here is the cascade's own: same operations and compute cycles as its EinsumCost.</summary>
    private static void AssertTemplateIsTheCascadesMapping(MapperCrossCheck x)
    {
        Assert.Equal(x.Cascade.Operations, x.Template.Operations);
        Assert.Equal(x.Cascade.ComputeCycles, x.Template.ComputeCycles);
        Assert.Equal(x.Cascade.Mapping, x.Template.LoopNest);
    }

    private static long ReadsAtBuffer(AccelSim.Model.CostReport r, string tensor) =>
        r.Level("L3").Tensors.First(t => t.Tensor == tensor).Reads;
}
