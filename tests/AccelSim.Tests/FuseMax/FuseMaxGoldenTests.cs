using AccelSim.Experiments.FuseMax;

namespace AccelSim.Tests.FuseMax;

/// <summary>
/// Every BERT and XLM row of the FuseMax study's published tables (Reference/attn-*.csv, end2end-*.csv, copied from
/// the artifact) against AccelSim's cascade model: latency, DRAM traffic and 2D utilisation within 5% (attention, and
/// attention plus the layer's GEMMs), per-Einsum 2D busy fractions within 5%, energy within 10% for the FuseMax
/// hardware. The numbers come from the architecture files and the model; the tables are read here only.
/// </summary>
[Collection(FuseMaxCollection.Name)]
public class FuseMaxGoldenTests(FuseMaxFixture study)
{
    private const double Tolerance = 0.05;
    private const double EnergyTolerance = 0.10;

    public static TheoryData<string, long, string> Rows()
    {
        var data = new TheoryData<string, long, string>();
        foreach (var r in FuseMaxReference.Load(RepoPaths.Of("tests", "AccelSim.Tests", "FuseMax", "Reference")).Rows)
            data.Add(r.Model, r.SeqLen, r.Arch);
        return data;
    }

    private static void Near(double expected, double actual, double tolerance, string what)
    {
        var error = Math.Abs(actual / expected - 1);
        Assert.True(error <= tolerance, $"{what}: model {actual:G6}, study {expected:G6} ({100 * error:F2}% off, limit {100 * tolerance}%)");
    }

    [Fact]
    public void ReferenceHasEveryBertAndXlmRow() => Assert.Equal(2 * 6 * 5, Rows().Count);

    [Theory]
    [MemberData(nameof(Rows))]
    public void AttentionLatencyTrafficAndUtilisation(string model, long seqLen, string arch)
    {
        var r = study.Reference.Find(model, seqLen, arch)!;
        var a = study.Point(model, seqLen, arch).Report.Attention;
        var at = $"{arch} {model} {FuseMaxReference.Label(seqLen)}";
        Near(r.LatencySeconds, a.LatencySeconds, Tolerance, at + " latency");
        Near(r.TrafficBytes, a.TrafficBytes, Tolerance, at + " traffic");
        Near(r.Util2D, a.Utilization("2d"), Tolerance, at + " util_2d");
        Near(r.Util1D, a.Utilization("1d"), Tolerance, at + " util_1d");
        // Per-Einsum 2D busy fractions (the study's QK, LM, SLN, SLD, SLNV / AV columns).
        foreach (var (einsum, share) in r.EinsumUtil)
        {
            var e = a.Einsum(einsum) ?? throw new Xunit.Sdk.XunitException($"{at}: no Einsum {einsum}");
            Near(share, e.BusySeconds / a.LatencySeconds, Tolerance, $"{at} {einsum} busy fraction");
        }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void EndToEndLatencyAndTraffic(string model, long seqLen, string arch)
    {
        var r = study.Reference.Find(model, seqLen, arch)!;
        var p = study.Point(model, seqLen, arch).Report;
        var at = $"{arch} {model} {FuseMaxReference.Label(seqLen)} end to end";
        Near(r.EndToEndLatencySeconds, p.EndToEndLatencySeconds, Tolerance, at + " latency");
        Near(r.EndToEndTrafficBytes, p.EndToEndTrafficBytes, Tolerance, at + " traffic");
    }

    /// <summary>
    /// Energy of the FuseMax-hardware architectures (stall, fusemax) within 10%, attention and end to end: compute by
    /// operation kind on the array that runs it, DRAM by traffic, global-buffer and register-file accesses from the
    /// per-Einsum model with each Einsum's dataflow mapping.
    /// </summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void EnergyOnFuseMaxHardware(string model, long seqLen, string arch)
    {
        if (arch is not ("stall" or "fusemax")) return;
        var r = study.Reference.Find(model, seqLen, arch)!;
        var p = study.Point(model, seqLen, arch).Report;
        var at = $"{arch} {model} {FuseMaxReference.Label(seqLen)}";
        Near(r.EnergyPJ, p.Attention.EnergyPJ, EnergyTolerance, at + " energy");
        Near(r.EndToEndEnergyPJ, p.EndToEndEnergyPJ, EnergyTolerance, at + " end-to-end energy");
    }

    /// <summary>
    /// Known deviation, tracked rather than hidden. The study's runs on FLAT's hardware (unfused, flat, cascade) carry
    /// 600-800 pJ per softmax element beyond their compute, DRAM, buffer and register actions, which no action of that
    /// hardware accounts for (fusemax-model.md §6 leaves it unexplained too; the artifact also drops the +Cascade
    /// exponentials' energy through a misspelt unit name). Counting every action of the hardware, the model is 8-23%
    /// below those attention energies, and the layer's GEMMs (no softmax) match within 2%. The test pins that band:
    /// it fails if the gap closes (then tighten it to 10%) or widens.
    /// </summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void EnergyOnFlatHardwareIsBelowTheStudyByItsUnexplainedSoftmaxTerm(string model, long seqLen, string arch)
    {
        if (arch is "stall" or "fusemax") return;
        var r = study.Reference.Find(model, seqLen, arch)!;
        var p = study.Point(model, seqLen, arch).Report;
        var ratio = p.Attention.EnergyPJ / r.EnergyPJ;
        Assert.InRange(ratio, 0.76, 0.93);
        var gemms = p.EndToEnd!.EnergyPJ / (r.EndToEndEnergyPJ - r.EnergyPJ);
        Near(1, gemms, 0.03, $"{arch} {model} {FuseMaxReference.Label(seqLen)} GEMM energy");
    }
}

/// <summary>
/// The study's area-latency sweep (Reference/pareto.csv): FuseMax with a d x d array at 256K tokens, the buffer sized
/// until the schedule is not memory bound. Latency and DRAM traffic per array size within 5%. (Area is reported, not
/// checked: the study's per-configuration Accelergy runs give about 18,400 um^2 per 2D PE where the reference tables
/// give 5,850 for a MAC, a comparator and a 12-entry register file.)
/// </summary>
public class FuseMaxParetoTests
{
    [Fact]
    public void LatencyAndTrafficPerArraySizeMatchTheStudy()
    {
        var reference = FuseMaxReference.Load(RepoPaths.Of("tests", "AccelSim.Tests", "FuseMax", "Reference"));
        var models = FuseMaxStudy.Models.Where(m => m.Name is "BERT" or "XLM").ToList();
        var points = FuseMaxPareto.Run(RepoPaths.Root, models);
        Assert.Equal(2 * FuseMaxPareto.PeDims.Length, points.Count);
        foreach (var p in points)
        {
            var q = reference.Pareto.Single(r => r.Model == p.Model && r.PeDim == p.PeDim);
            Assert.InRange(p.LatencySeconds / q.LatencySeconds, 0.95, 1.05);
            Assert.InRange(p.TrafficBytes / q.TrafficBytes, 0.95, 1.05);
            Assert.True(p.MemorySeconds <= p.Compute1DSeconds);
        }
        // Four times the PEs: about a quarter of the latency, and more area.
        var bert = points.Where(p => p.Model == "BERT").OrderBy(p => p.PeDim).ToList();
        for (int i = 1; i < bert.Count; i++)
        {
            Assert.InRange(bert[i - 1].LatencySeconds / bert[i].LatencySeconds, 3.5, 4.1);
            Assert.True(bert[i].AreaUm2 > bert[i - 1].AreaUm2);
        }
    }
}
