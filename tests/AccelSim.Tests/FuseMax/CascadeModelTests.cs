using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.FuseMax;
using AccelSim.Hardware;
using AccelSim.Model.Cascade;

namespace AccelSim.Tests.FuseMax;

/// <summary>
/// Pieces of the cascade model: symbol expressions, the Einsum adapter, mapping templates, the schedule's stage-wise
/// max of sums against the study's formulas (fusemax-model.md §5), solved tiles, buffer requirements, and one-line
/// errors for bad architecture files.
/// </summary>
public class CascadeModelTests
{
    private static readonly string Root = RepoPaths.Root;

    private static CascadeReport Eval(string arch, string model, long n) =>
        FuseMaxStudy.EvaluatePoint(FuseMaxStudy.ArchPath(Root, arch), FuseMaxStudy.ModelPath(Root, model), n, attentionOnly: true);

    [Theory]
    [InlineData("P1 * 256", 1024)]
    [InlineData("min(P, 4096) / 2 + 1", 513)]
    [InlineData("max(1, P / 2048)", 1)]
    [InlineData("-(2 - P1) * 3", 6)]
    [InlineData("2e3 + 1", 2001)]
    public void ExpressionsEvaluate(string text, double expected)
    {
        var e = SymbolExpression.Parse(text);
        Assert.Equal(expected, e.Evaluate(n => n switch { "P" => 1024, "P1" => 4, _ => null }));
    }

    [Theory]
    [InlineData("P1 *", "unexpected end")]
    [InlineData("(P1", "missing ')'")]
    [InlineData("sqrt(P1)", "unknown function 'sqrt'")]
    [InlineData("P1 $ 2", "unexpected '$'")]
    public void BadExpressionsSayWhy(string text, string problem)
    {
        var e = Assert.Throws<InputException>(() => SymbolExpression.Parse(text));
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void UnknownSymbolsAreNamed()
    {
        var e = Assert.Throws<InputException>(() => SymbolExpression.Parse("query_tile / 2").Evaluate(_ => null));
        Assert.Contains("unknown symbol 'query_tile'", e.Message);
    }

    [Fact]
    public void RecurrencesBecomeTwoDataSpacesOfOneTensor()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", "attention-1pass-prescaled.yaml"));
        var rm = EinsumProblem.From(cascade, cascade.FindEinsum("RM")!);
        Assert.Equal(["RM", "RM@in", "LM"], rm.Tensors.Select(t => t.DataSpace));
        Assert.Equal(["RM", "RM", "LM"], rm.Tensors.Select(t => t.Tensor));
        Assert.True(rm.Tensors[0].IsOutput);
        // RM[b,h,m1+1,p]: the m1 rank of the output carries the +1.
        var m1 = rm.Shape.DimIndex("m1");
        var rank = rm.Shape.Tensors[0].Ranks[2];
        Assert.Equal(1, rank.Constant);
        Assert.Equal(m1, rank.Terms.Single().Dim);
        Assert.Equal([("max", 1.0)], rm.Shape.OpsPerPoint.Select(o => (o.Kind, o.Count)));
        // QK reads K through the split rank: m = 256 * m1 + m0.
        var qk = EinsumProblem.From(cascade, cascade.FindEinsum("QK")!);
        var k = qk.Shape.Tensors[qk.Shape.TensorIndex("K")];
        Assert.Equal([(qk.Shape.DimIndex("m1"), 256L), (qk.Shape.DimIndex("m0"), 1L)], k.Ranks[2].Terms.Select(t => (t.Dim, t.Coefficient)));
    }

    [Fact]
    public void TemplatesRoundToDivisorsCarrySpatialLoopsDownAndPutLeftoversOutermost()
    {
        var arch = CascadeArchitectureLoader.Load(FuseMaxStudy.ArchPath(Root, "fusemax"));
        var cascade = WorkloadLoader.Load(arch.Attention.WorkloadPath, new Dictionary<string, string> { ["seq_len"] = "4096", ["batch"] = "2" });
        var problem = EinsumProblem.From(cascade, cascade.FindEinsum("QK")!);
        var path = arch.Hardware.PathTo(arch.Hardware.Compute.First(c => c.Name == "PE2D"));
        var template = arch.Attention.Templates["2d"];
        // query_tile = 3000 is not a multiple of 256: the L3 loop over p rounds down to a divisor (8 tiles of 256 = 2048).
        var mapping = template.Resolve(problem, path, n => n == "query_tile" ? 3000 : null, t => [t]);
        string Loops(string level, Func<AccelSim.Mapping.LevelMapping, IEnumerable<AccelSim.Mapping.LoopFactor>> f) =>
            string.Join(" ", f(mapping.For(level)!).Select(x => $"{x.Dim}={x.Factor}"));
        Assert.Equal("b=2 h=12 p=2 m1=16", Loops("DRAM", l => l.Temporal));
        Assert.Equal("p=8 e=64", Loops("L3", l => l.Temporal));
        Assert.Equal("p=256", Loops("L3", l => l.SpatialX));
        // spatial_y is written at L3 but L3 does not fan out along Y: it lands on the column register file.
        Assert.Equal("", Loops("L3", l => l.SpatialY));
        Assert.Equal("m0=256", Loops("RF1D", l => l.SpatialY));
        Assert.Equal(["QK"], mapping.For("RF2D")!.Keep!.Value.ToArray());
        Assert.Equal(["Q", "K"], mapping.For("L3")!.Keep!.Value.ToArray());
        Assert.Equal(3, MappingTemplate.LargestDivisorAtMost(12, 3));
        Assert.Equal(4, MappingTemplate.LargestDivisorAtMost(12, 5));
        Assert.Equal(512, MappingTemplate.LargestDivisorAtMost(4096, 1000));
    }

    /// <summary>fusemax-model.md §5: FuseMax's interleaved binding and the stalling ablation, from per-Einsum times.</summary>
    [Theory]
    [InlineData("bert-base.yaml", 1024)]
    [InlineData("xlm.yaml", 65536)]
    public void SchedulesAreTheStudysStageFormulas(string model, long n)
    {
        var f = Eval("fusemax", model, n).Attention;
        double T(string e) => f.Einsum(e)!.Seconds;
        var binding = Math.Max(T("QK") + T("LM"), T("RD") + T("RNV") + T("AV")) + T("RM") + Math.Max(T("SLN") + T("SLD"), T("PRM") + T("SPD"))
                      + Math.Max(T("SLNV"), T("SPNV"));
        Assert.Equal(binding, f.LatencySeconds, binding * 1e-12);
        var s = Eval("stall", model, n).Attention;
        var stall = Math.Max(T("QK") + T("LM"), T("RD") + T("AV")) + 256 * T("LM") + T("RM") + Math.Max(T("SLN") + T("SLD"), T("PRM") + T("SPD"))
                    + Math.Max(T("SLNV"), T("SPNV") + T("RNV"));
        Assert.Equal(stall, s.LatencySeconds, stall * 1e-12);
        // Per-Einsum array times are ops / array size x cost: QK is B*H*M*P*E / 65536 cycles, SLN 7 cycles per point.
        var bhmp = 64.0 * (model == "xlm.yaml" ? 16 : 12) * n * n;
        var e = model == "xlm.yaml" ? 128 : 64;
        Assert.Equal(bhmp * e / 65536 / 940e6, T("QK"), T("QK") * 1e-12);
        Assert.Equal(7 * bhmp / 65536 / 940e6, T("SLN"), T("SLN") * 1e-12);
        Assert.Equal(1.0, f.Utilization("1d"), 1e-9);
    }

    [Fact]
    public void FlatAndCascadeOverlapTheirArraysAndUnfusedRunsPhases()
    {
        var flat = Eval("flat", "bert-base.yaml", 1024).Attention;
        double sum2d = flat.Einsums.Where(e => e.Array == "2d").Sum(e => e.Seconds);
        double sum1d = flat.Einsums.Where(e => e.Array == "1d").Sum(e => e.Seconds);
        Assert.Equal(Math.Max(flat.MemorySeconds, Math.Max(sum2d, sum1d)), flat.LatencySeconds, 1e-15);
        // FLAT's softmax: four chained passes of one element per 1D PE per cycle.
        Assert.Equal(4 * 64.0 * 12 * 1024 * 1024 / 256 / 940e6, sum1d, 1e-12);
        var unfused = Eval("unfused", "bert-base.yaml", 1024).Attention;
        Assert.Equal(unfused.Stages.Sum(s => Math.Max(s.ComputeSeconds, s.MemorySeconds)), unfused.LatencySeconds, 1e-15);
        Assert.Equal(3, unfused.Stages.Length);
        // QK and AV write/read QK and A through DRAM; everything else stays on chip.
        Assert.Equal(2 * (4 * 64.0 * 12 * 1024 * 1024 + 4 * 64.0 * 12 * 1024 * 64), unfused.TrafficBytes, 1);
    }

    [Theory]
    [InlineData("fusemax", "bert-base.yaml", 65536, 128)]
    [InlineData("fusemax", "xlm.yaml", 65536, 64)]
    [InlineData("cascade", "bert-base.yaml", 65536, 32)]
    [InlineData("fusemax", "bert-base.yaml", 1024, 4)]
    public void QueryTilesAreTheStudysP1(string arch, string model, long n, int p1)
    {
        var a = Eval(arch, model, n).Attention;
        var g = Assert.Single(a.Groups);
        Assert.Equal(p1 * 256.0, g.Tiles["query_tile"]);
        Assert.True(g.Fits);
        Assert.Equal(g.FootprintWords, a.BufferNeed.RequiredWords);
    }

    [Fact]
    public void BufferRequirementIsTheTilesTheBufferKeeps()
    {
        // FuseMax, BERT: per query Q (E), RM, RD and RNV (F) words, plus one 256-key tile of K and of V.
        var a = Eval("fusemax", "bert-base.yaml", 65536).Attention;
        Assert.Equal(32768L * (64 + 1 + 1 + 64) + 2 * 256 * 64, a.BufferNeed.RequiredWords);
        Assert.Equal(["K", "Q", "RD", "RM", "RNV", "V"], a.Groups[0].BufferedTensors.ToArray());
        // Per-PE register files hold QK and SLN (one word each) and the column register file its reductions.
        Assert.Equal(2, a.Buffers.Single(b => b.Level == "RF2D").RequiredWords);
        Assert.True(a.Buffers.Single(b => b.Level == "RF1D").RequiredWords <= 32);
    }

    // ---- one-line errors for bad architecture files ----

    private static string Variant(Func<string, string> edit)
    {
        var dir = Path.Combine(Root, "arch", "fusemax");
        var text = File.ReadAllText(Path.Combine(dir, "fusemax.yaml"))
            .Replace("hardware/fusemax-hardware.yaml", Path.Combine(dir, "hardware", "fusemax-hardware.yaml"))
            .Replace("../../workloads/", Path.Combine(Root, "workloads") + "/")
            .Replace("end_to_end: layer-gemms.yaml", "");
        return RepoPaths.TempYaml(edit(text), "variant.yaml");
    }

    private static InputException Fails(Func<string, string> edit) =>
        Assert.Throws<InputException>(() =>
            new CascadeEvaluator(CascadeArchitectureLoader.Load(Variant(edit))).Evaluate(FuseMaxStudy.ModelPath(Root, "bert-base.yaml"),
                new Dictionary<string, string> { ["seq_len"] = "1024" }));

    [Theory]
    [InlineData("2d: {compute: PE2D, issue: serial}", "2d: {compute: PE3D, issue: serial}", "unknown compute unit 'PE3D'")]
    [InlineData("2d: [QK, LM, SLN, SLD, SLNV]", "2d: [QK, LM, SLN, SLD, SLNV, QK]", "Einsum 'QK' is bound twice")]
    [InlineData("2d: [QK, LM, SLN, SLD, SLNV]", "2d: [QK, LM, SLN, SLD]", "Einsum 'SLNV' is not bound")]
    [InlineData("        - {2d: [SLNV], 1d: [SPNV]}", "        - {1d: [SPNV]}", "Einsums not scheduled: SLNV")]
    [InlineData("        - {2d: [SLNV], 1d: [SPNV]}", "        - {2d: [SLNV, QK], 1d: [SPNV]}", "Einsum 'QK' is scheduled twice")]
    [InlineData("{level: RF1D, keep: [LM, SLD, SLNV]}", "{level: RF3D, keep: [LM, SLD, SLNV]}", "unknown storage level 'RF3D'")]
    [InlineData("query_tile: {fit: P}", "query_tile: {fit: Q}", "has no rank 'Q'")]
    [InlineData("[p: query_tile, e, f]", "[p: query_tile * 2 +, e, f]", "unexpected end")]
    [InlineData("[p: query_tile, e, f]", "[p: p1_tile, e, f]", "unknown symbol 'p1_tile'")]
    [InlineData("memory: overlapped", "memory: sometimes", "expected overlapped or per_stage")]
    [InlineData("buffer: L3", "buffer: L4", "unknown storage level 'L4'")]
    public void BadArchitectureFilesGiveOneLineErrors(string from, string to, string problem)
    {
        var e = Fails(t =>
        {
            Assert.Contains(from, t);
            return t.Replace(from, to);
        });
        Assert.Contains(problem, e.Message);
        Assert.Contains("variant.yaml", e.Message);
        Assert.DoesNotContain('\n', e.OneLine);
    }

    [Fact]
    public void ABufferTooSmallForTheSmallestTilesIsAnError()
    {
        var e = Assert.Throws<InputException>(() => FuseMaxStudy.EvaluatePoint(FuseMaxStudy.ArchPath(Root, "fusemax"),
            FuseMaxStudy.ModelPath(Root, "bert-base.yaml"), 65536, ["L3.capacity_words=20000"], attentionOnly: true));
        Assert.Contains("L3 is too small for fusion group", e.Message);
        Assert.Contains("fusemax.yaml", e.Message);
    }

    [Fact]
    public void FlatNeedsASettingsRowForThePoint()
    {
        var e = Assert.Throws<InputException>(() => FuseMaxStudy.EvaluatePoint(FuseMaxStudy.ArchPath(Root, "flat"),
            FuseMaxStudy.ModelPath(Root, "bert-base.yaml"), 3000, attentionOnly: true));
        Assert.Contains("flat-dataflow.csv", e.Message);
        Assert.Contains("no row for head_dim=64, seq_len=3000", e.Message);
    }

    [Fact]
    public void ArraySizeOverrideScalesEveryLevelOnTheMesh()
    {
        var hw = CascadeArchitectureLoader.Load(FuseMaxStudy.ArchPath(Root, "fusemax"), ["PE2D.mesh=64"]).Hardware;
        Assert.Equal(64 * 64, hw.Compute.First(c => c.Name == "PE2D").Instances);
        Assert.Equal(64, hw.Compute.First(c => c.Name == "PE1D").Instances);
        Assert.Equal(64 * 64, hw.FindLevel("RF2D")!.Instances);
        Assert.Equal(64, hw.FindLevel("RF1D")!.Instances);
        Assert.Equal(1, hw.FindLevel("L3")!.Instances);
        var e = Assert.Throws<InputException>(() => CascadeArchitectureLoader.ApplyOverride(hw, "PE9D.mesh=4"));
        Assert.Contains("unknown compute unit 'PE9D'", e.Message);
    }

    [Fact]
    public void EveryStudyArchitectureLoads()
    {
        foreach (var name in FuseMaxStudy.Architectures)
        {
            var a = CascadeArchitectureLoader.Load(FuseMaxStudy.ArchPath(Root, name));
            Assert.Equal(name, a.Name);
            Assert.NotNull(a.EndToEnd);
            Assert.Equal(940e6, a.Hardware.ClockHz);
            var dram = a.Hardware.FindLevel("DRAM")!;
            Assert.Equal(400.0 * (1L << 30), dram.SharedBandwidth!.Value * a.Hardware.ClockHz * 2, 1);
            var pe = a.Hardware.Compute.First(c => c.Name == "PE2D");
            Assert.Equal((65536, 256), (pe.Instances, pe.MeshX));
            Assert.Equal(name is "fusemax" or "stall" ? 16L << 20 : 32L << 20, a.Hardware.FindLevel("L3")!.CapacityWords * 2);
        }
    }
}
