using AccelSim.Experiments.FuseMax;

namespace AccelSim.Tests.FuseMax;

/// <summary>
/// Every BERT and XLM row of the FuseMax study's published tables (Reference/attn-*.csv, end2end-*.csv, copied from
/// the artifact) against AccelSim's cascade model: latency, DRAM traffic and 2D utilisation within 5% (attention, and
/// attention plus the layer's GEMMs), per-Einsum 2D busy fractions within 5%, energy within 10%. The numbers come from
/// the architecture files and the model; the tables are read here only.
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
    /// Energy within 10%, attention and end to end, for all five architectures: compute by operation kind on the array
    /// that runs it, DRAM by traffic (64-bit accesses), global-buffer accesses per row of the buffer's width (FLAT's
    /// 64-bit rows, FuseMax's 4096-bit rows) and register-file accesses from the per-Einsum model with each Einsum's
    /// dataflow mapping.
    /// </summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void Energy(string model, long seqLen, string arch)
    {
        var r = study.Reference.Find(model, seqLen, arch)!;
        var p = study.Point(model, seqLen, arch).Report;
        var at = $"{arch} {model} {FuseMaxReference.Label(seqLen)}";
        Near(r.EnergyPJ, p.Attention.EnergyPJ, EnergyTolerance, at + " energy");
        Near(r.EndToEndEnergyPJ, p.EndToEndEnergyPJ, EnergyTolerance, at + " end-to-end energy");
        // The layer's GEMMs alone (the study prices FLAT's on FuseMax's 4096-bit-row buffer, hence up to 4% more here).
        Near(r.EndToEndEnergyPJ - r.EnergyPJ, p.EndToEnd!.EnergyPJ, 0.05, at + " GEMM energy");
    }

    /// <summary>
    /// +Cascade on its own hardware (arch/fusemax/hardware/cascade-hardware.yaml: FLAT's plus the study's 512-word 1D
    /// register files at the heads of the 2D columns). What is left above the study is the exponentials: the artifact
    /// names the ablation's exponential unit `exponential` where its unit list says `exponentiatial`, so the study drops
    /// every exponential's 94.6 pJ, which the model counts. The guard is tight on both sides so that any change is
    /// noticed (model/study 0.99-1.07 when this was written; with the dropped exponentials added to the study 0.96-1.04).
    /// </summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void CascadeEnergyDiffersFromTheStudyByTheExponentialsItDrops(string model, long seqLen, string arch)
    {
        if (arch != "cascade") return;
        var r = study.Reference.Find(model, seqLen, arch)!;
        var a = study.Point(model, seqLen, arch).Report.Attention;
        var at = $"{arch} {model} {FuseMaxReference.Label(seqLen)}";
        var ratio = a.EnergyPJ / r.EnergyPJ;
        Assert.True(ratio is >= 0.98 and <= 1.08, $"{at}: model/study attention energy {ratio:F4}, guarded band [0.98, 1.08]");
        var hardware = FuseMaxStudy.Evaluator(FuseMaxStudy.ArchPath(RepoPaths.Root, "cascade")).Architecture.Hardware;
        var exp = hardware.Compute.Single(c => c.Name == "PE1D").EnergyOf("exp")!.Value;
        var dropped = (a.Einsum("SLN")!.Operations + a.Einsum("PRM")!.Operations) * exp;
        var corrected = a.EnergyPJ / (r.EnergyPJ + dropped);
        Assert.True(corrected is >= 0.95 and <= 1.05, $"{at}: model / (study + its dropped exponentials) {corrected:F4}, guarded band [0.95, 1.05]");
    }

    /// <summary>
    /// The mechanism behind +Cascade's energy: QK leaves the 2D array into the 1D register files (and is written to the
    /// buffer, which the artifact sizes its query tile for), and LM and SLN stream each query's 256-key QK tile from
    /// those registers; neither reads the buffer for it. SLN writes its output to the buffer once for SLNV.
    /// </summary>
    [Fact]
    public void CascadeStreamsQkFromTheOneDRegisterFilesNotTheBuffer()
    {
        var a = study.Point("BERT", 1024, "cascade").Report.Attention;
        double elements = 64.0 * 12 * 1024 * 1024;   // B * H * M * P
        var lm = a.Einsum("LM")!;
        var sln = a.Einsum("SLN")!;
        Assert.Equal(0, lm.Levels.Single(l => l.Level == "L3").Reads);
        Assert.True(sln.Levels.Single(l => l.Level == "L3").Reads < 0.01 * elements, "SLN reads only RM from the buffer");
        Assert.Equal(elements, sln.Levels.Single(l => l.Level == "L3").Writes);
        Assert.True(lm.Levels.Single(l => l.Level == "RF1D").Reads >= elements, "LM reads every QK element from the 1D registers");
        Assert.Equal(elements, a.Einsum("QK")!.Levels.Single(l => l.Level == "RF1D").Writes);
    }
}

/// <summary>
/// The one Timeloop statistics file the study's artifact publishes (unfused BERT at 1K tokens, QK, found by the
/// Timeloop mapper on the FuseMax 2D array with FLAT's 4-word register files and a 32 MiB buffer;
/// FPSG-UIUC/micro24-fusemax-artifact @ 13cd17d, src/data/generated/attn/unfused/BERT/1K/qk/timeloop-mapper.stats.txt).
/// The model's actions for the same Einsum and dataflow match Timeloop's counts: DRAM (Q and K read once, QK written
/// once), global buffer (Q and K filled once and read once per 256-key tile), compute, and the reads of the QK
/// partial sums accumulated in the PE register file. (Timeloop's mapper also parks each streaming Q and K word in the
/// PE register file; the model's template streams them, so those two fills and reads per MAC are absent here.)
/// </summary>
[Collection(FuseMaxCollection.Name)]
public class FuseMaxActionCountTests(FuseMaxFixture study)
{
    [Fact]
    public void UnfusedBertQkMatchesTheArtifactsTimeloopStatistics()
    {
        var qk = study.Point("BERT", 1024, "unfused").Report.Attention.Einsum("QK")!;
        // === mac ===: Computes (total) 51539607552.
        Assert.Equal(51539607552, qk.Operations);
        // === DRAM ===: Q and K scalar reads 50331648 each; QK scalar updates 805306368 (2 bytes a word).
        Assert.Equal(2.0 * (50331648 + 50331648), qk.DramReadBytes);
        Assert.Equal(2.0 * 805306368, qk.DramWriteBytes);
        // === L3 ===: Q and K scalar reads 201326592 each, scalar fills 50331648 each.
        var l3 = qk.Levels.Single(l => l.Level == "L3");
        Assert.Equal(2.0 * 201326592, l3.Reads);
        Assert.Equal(2.0 * 50331648, l3.Writes);
        // === reg_file ===: QK scalar reads 774144 per instance over 65536 instances.
        var rf = qk.Levels.Single(l => l.Level == "RF2D");
        Assert.Equal(774144.0 * 65536, rf.Reads);
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
