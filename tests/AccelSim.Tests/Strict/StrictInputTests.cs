using AccelSim.Core;
using AccelSim.Experiments.FuseMax;
using AccelSim.Experiments.Plots;
using AccelSim.Experiments.Sweeps;
using AccelSim.Gpu;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model.Cascade;
using AccelSim.Pruning.Engine;

namespace AccelSim.Tests.Strict;

/// <summary>
/// Typos, unknown names and physically impossible values in the spec loaders are one-line located errors (exit 2
/// through the CLI), never ignored or silently truncated.
/// </summary>
public class StrictInputTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private static void OneLineError((int Code, string Out, string Err) r, params string[] contains)
    {
        Assert.Equal(2, r.Code);
        var line = r.Err.TrimEnd();
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", line);
        foreach (var c in contains) Assert.Contains(c, line);
    }

    private static string Text(params string[] path) => File.ReadAllText(RepoPaths.Of(path));

    // ---- GPU specs and kernels ----

    private static string H100 => Text("arch", "gpu", "h100.yaml")
        .Replace("kernels: kernels.yaml", "kernels: " + RepoPaths.Of("arch", "gpu", "kernels.yaml"));

    [Theory]
    [InlineData("sm_count: {value: 132", "sm_count: {value: 13.2", "sm_count.value", "whole number")]
    [InlineData("sm_count: {value: 132", "sm_count: {value: 0", "sm_count.value", "outside the plausible range")]
    [InlineData("sm_count: {value: 132", "sm_count: {value: .inf", "sm_count.value", "outside the plausible range")]
    [InlineData("max_ctas_per_sm: {value: 32", "max_ctas_per_sm: {value: 31.5", "max_ctas_per_sm.value", "whole number")]
    [InlineData("clock_mhz: {value: 1830", "clock_mhz: {value: -1830", "clock_mhz.value", "outside the plausible range")]
    [InlineData("sm_count: {value: 132", "sm_cont: {value: 132", "sm_cont", "did you mean 'sm_count'")]
    public void GpuSpecValuesOutsidePhysicalRangeAreRefused(string from, string to, string field, string problem)
    {
        Assert.Contains(from, H100);
        var e = Assert.Throws<InputException>(() => GpuSpecLoader.LoadText(H100.Replace(from, to), "h100.yaml"));
        Assert.Matches(@"^h100\.yaml:\d+:\d+: ", e.OneLine);
        Assert.Contains(field, e.Field);
        Assert.Contains(problem, e.Problem);
    }

    private static readonly GpuSpec Hopper = GpuSpecLoader.LoadFile(RepoPaths.Of("arch", "gpu", "h100.yaml"));
    private static readonly KernelCatalog Kernels = KernelCatalogLoader.LoadFile(RepoPaths.Of("arch", "gpu", "kernels.yaml"));

    private static AttentionShape Shape(int headDim, DataType dtype = DataType.Bf16) =>
        new AttentionShape(1, 16, 16, 4096, 4096, headDim, headDim, false, null, dtype, Direction.Forward).Validate();

    [Theory]
    [InlineData("fa3", 3, DataType.Bf16, "multiple of 8")]
    [InlineData("fa3", 100, DataType.Bf16, "multiple of 8")]
    [InlineData("fa3", 264, DataType.Bf16, "up to 256")]
    [InlineData("fa3", 72, DataType.Fp8, "multiple of 16 for fp8")]
    [InlineData("fa2", 257, DataType.Bf16, "up to 256")]
    [InlineData("fa1", 12, DataType.Bf16, "multiple of 8")]
    [InlineData("fa2-triton", 96, DataType.Bf16, "16, 32, 64, 128 only")]
    [InlineData("triton", 48, DataType.Bf16, "16, 32, 64, 128, 256 only")]
    public void KernelsRefuseHeadDimensionsTheirImplementationDoesNotSupport(string kernel, int headDim, DataType dtype, string why)
    {
        var reason = GpuEvaluator.Unsupported(Hopper, Kernels.Get(kernel), Shape(headDim, dtype));
        Assert.NotNull(reason);
        Assert.Contains(why, reason);
        Assert.Throws<InputException>(() => GpuEvaluator.Evaluate(Hopper, Shape(headDim, dtype), Kernels.Get(kernel)));
    }

    [Theory]
    [InlineData("fa3", 64)]
    [InlineData("fa3", 96)]
    [InlineData("fa3", 192)]
    [InlineData("fa3", 40)]   // rounds up to the 64 kernel, as FA3's dispatch does
    [InlineData("fa2", 80)]
    [InlineData("fa2", 3)]    // FA2's interface pads to a multiple of 8
    [InlineData("standard", 3)]
    public void SupportedHeadDimensionsAreModelled(string kernel, int headDim)
    {
        Assert.Null(GpuEvaluator.Unsupported(Hopper, Kernels.Get(kernel), Shape(headDim)));
        Assert.True(GpuEvaluator.Evaluate(Hopper, Shape(headDim), Kernels.Get(kernel)).LatencySeconds > 0);
    }

    [Fact]
    public void FlashFamilyWithoutHeadDimsOrWithAnUnknownSourceIsRefused()
    {
        var text = Text("arch", "gpu", "kernels.yaml");
        const string fa3 = "head_dims: {max: 256, multiple_of: 8, fp8_multiple_of: 16, source: hdim_fa3}";
        Assert.Contains(fa3, text);
        var missing = Assert.Throws<InputException>(() => KernelCatalogLoader.LoadText(text.Replace(fa3, ""), "k.yaml"));
        Assert.Contains("head_dims", missing.Field);
        var typo = Assert.Throws<InputException>(() => KernelCatalogLoader.LoadText(text.Replace(fa3, fa3.Replace("hdim_fa3", "hdim_fa33")), "k.yaml"));
        Assert.Contains("did you mean 'hdim_fa3'", typo.Problem);
        var tooBig = Assert.Throws<InputException>(() => KernelCatalogLoader.LoadText(text.Replace(fa3, fa3.Replace("max: 256", "max: 512")), "k.yaml"));
        Assert.Contains("larger than the largest tile", tooBig.Problem);
    }

    [Fact]
    public void UnknownKernelSuggestsTheClosest()
    {
        var e = Assert.Throws<InputException>(() => Kernels.Get("fa33"));
        Assert.Contains("did you mean 'fa3'", e.Problem);
    }

    [Fact]
    public void GpuEvalOnHeadDim3IsExit2()
    {
        var r = Cli("eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"), "--workload",
            RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--kernel", "fa3", "--set", "head_dim=3");
        OneLineError(r, "head_dim 3", "fa3", "multiple of 8");
    }

    [Fact]
    public void GpuEvalOnAWorkloadWithoutAttentionParametersIsExit2()
    {
        var workload = RepoPaths.TempYaml("""
            name: gemm
            params: {size_m: 64, size_n: 64, size_k: 64}
            ranks: {M: size_m, N: size_n, K: size_k}
            tensors: {A: [M, K], B: [K, N], Z: [M, N]}
            einsums:
              - Z[m, n] = A[m, k] * B[k, n]
            """, "gemm.yaml");
        var r = Cli("eval", "--arch", RepoPaths.Of("arch", "gpu", "h100.yaml"), "--workload", workload, "--kernel", "fa3");
        OneLineError(r, "gemm.yaml", "--kernel fa3", "no `attention:` section");
    }

    // ---- sweeps: options, --set fields ----

    private static string GpuSweep(string extra = "", Func<string, string>? edit = null) => RepoPaths.TempYaml((edit ?? (t => t))($"""
        name: s
        engine: gpu
        arch: {RepoPaths.Of("arch", "gpu", "h100.yaml")}
        workload: {RepoPaths.Of("workloads", "attention", "attention-1pass.yaml")}
        options: {"{kernel: fa3}"}
        parameters:
          grid:
            workload.params.seq_len: [1024, 2048]
        {extra}
        """), "sweep.yaml");

    private static InputException SweepError(string file, params SpecOverride[] sets) =>
        Assert.Throws<InputException>(() => SweepSpecParser.Load(file, BuiltInEvaluators.CreateRegistry(), sets));

    [Fact]
    public void UnknownOptionOnSetIsRefusedWithASuggestion()
    {
        var e = SweepError(GpuSweep(), SpecOverride.Parse("options.kernal=fa3"));
        Assert.Contains("unknown option 'kernal'", e.Problem);
        Assert.Contains("did you mean 'kernel'", e.Problem);

        var r = Cli("sweep", GpuSweep(), "--set", "options.kernal=fa3", "--out", Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N")));
        OneLineError(r, "--set options.kernal", "did you mean 'kernel'");
    }

    [Fact]
    public void UnknownOptionInTheSweepFileIsLocated()
    {
        var file = GpuSweep("set: {options.direction: fwd, options.dtyp: fp8}");
        var e = SweepError(file);
        Assert.Matches(@"sweep\.yaml:\d+:\d+: set\.options\.dtyp: ", e.OneLine);
        Assert.Contains("did you mean 'dtype'", e.Problem);
    }

    [Fact]
    public void UnknownOptionValuesAreRefusedAtTheirLine()
    {
        var kernel = SweepError(GpuSweep(edit: t => t.Replace("{kernel: fa3}", "{kernel: fa33}")));
        Assert.Contains("did you mean 'fa3'", kernel.Problem);
        Assert.NotNull(kernel.Location);
        var direction = SweepError(GpuSweep("set: {options.direction: sideways}"));
        Assert.Contains("unknown direction 'sideways'", direction.Problem);
    }

    [Fact]
    public void MisspeltSweptFieldSuggestsTheClosest()
    {
        var e = SweepError(GpuSweep(), SpecOverride.Parse("workload.params.head_dimm=64"));
        Assert.Contains("has no field 'params.head_dimm'", e.Problem);
        Assert.Contains("did you mean 'workload.params.head_dim'", e.Problem);
    }

    [Theory]
    [InlineData("{from: 1, to: 8, step: 0}", "step must be a non-zero number")]
    [InlineData("{from: 8, to: 1, step: 1}", "never reaches")]
    [InlineData("{from: 1, to: 8, factor: 1}", "factor must be a positive number other than 1")]
    [InlineData("[]", "empty list of values")]
    [InlineData("{from: 1, to: 8, stp: 1}", "did you mean 'step'")]
    public void BadRangesAreRefused(string values, string problem)
    {
        var e = SweepError(GpuSweep(edit: t => t.Replace("[1024, 2048]", values)));
        Assert.Contains(problem, e.Problem);
        Assert.NotNull(e.Location);
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("0/0")]
    [InlineData("1/")]
    public void ShardOutOfRangeIsRefused(string shard) => Assert.Throws<InputException>(() => ShardSpec.Parse(shard));

    // ---- plots ----

    [Theory]
    [InlineData("{kind: speedp, x: seq_len, y: latency_s}", "did you mean 'speedup'")]
    [InlineData("{kind: line, x: seq_len, y: latency_s, width: 4294967496}", "between 200 and 10000")]
    [InlineData("{kind: roofline, x: seq_len, y: latency_s, peak: -5}", "positive finite number")]
    [InlineData("{kind: line, x: seq_len, y: latency_s, colour: red}", "unknown field")]
    public void BadPlotRequestsAreRefused(string yaml, string problem)
    {
        var node = YNode.LoadText(yaml, "plot.yaml");
        var e = Assert.Throws<InputException>(() => PlotRequest.FromYaml(node));
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith("plot.yaml:1:", e.OneLine);
    }

    [Fact]
    public void PlotOfAMisspeltColumnSuggestsTheClosest()
    {
        var e = SweepError(GpuSweep("plots: [{kind: line, x: seq_lenn, y: latency_s}]"));
        Assert.Contains("did you mean 'seq_len'", e.Problem);
    }

    // ---- cascade architectures ----

    private static string FuseMax(Func<string, string> edit)
    {
        var dir = RepoPaths.Of("arch", "fusemax");
        var text = File.ReadAllText(Path.Combine(dir, "fusemax.yaml"))
            .Replace("hardware/fusemax-hardware.yaml", Path.Combine(dir, "hardware", "fusemax-hardware.yaml"))
            .Replace("../../workloads/", RepoPaths.Of("workloads") + "/")
            .Replace("end_to_end: layer-gemms.yaml", "");
        return RepoPaths.TempYaml(edit(text), "variant.yaml");
    }

    private static InputException CascadeError(string from, string to)
    {
        var file = FuseMax(t =>
        {
            Assert.Contains(from, t);
            return t.Replace(from, to);
        });
        return Assert.Throws<InputException>(() =>
        {
            var arch = CascadeArchitectureLoader.Load(file);
            new CascadeEvaluator(arch).Evaluate(FuseMaxStudy.ModelPath(RepoPaths.Root, "bert-base.yaml"),
                new Dictionary<string, string> { ["seq_len"] = "1024" }, attentionOnly: true);
        });
    }

    [Theory]
    [InlineData("{level: RF1D, keep: [LM, SLD, SLNV]}", "{level: RF1D, keep: [LM, SLD, SLNVV]}", "tensor or tensor set 'SLNVV'", "did you mean 'SLNV'")]
    [InlineData("{level: RF1D, keep: [LM, SLD, SLNV]}", "{level: RF1D, keep: [LM, SLD, onchp]}", "'onchp'", "did you mean 'onchip'")]
    [InlineData("2d: [QK, LM, SLN, SLD, SLNV]", "2d: [QKK, LM, SLN, SLD, SLNV]", "Einsum 'QKK'", "did you mean 'QK'")]
    [InlineData("        - {2d: [SLNV], 1d: [SPNV]}", "        - {2d: [SLNV], 1d: [SPNW]}", "Einsum 'SPNW'", "did you mean 'SPNV'")]
    [InlineData("[p: query_tile, e, f]", "[p: query_tile, ee, f]", "iteration variable 'ee'", "did you mean")]
    public void CascadeNamesTheBoundCascadeLacksAreLocated(string from, string to, string what, string suggestion)
    {
        var e = CascadeError(from, to);
        Assert.Matches(@"variant\.yaml:\d+:\d+: cascade_architecture\.attention\.", e.OneLine);
        Assert.Contains(what, e.Problem);
        Assert.Contains(suggestion, e.Problem);
    }

    [Fact]
    public void OffchipTensorTheCascadeLacksIsLocated()
    {
        var e = CascadeError("    spill: 0\n", "    spill: 0\n    offchip: [SLNVV]\n");
        Assert.Matches(@"variant\.yaml:\d+:\d+: cascade_architecture\.attention\.offchip\[0\]: ", e.OneLine);
        Assert.Contains("did you mean 'SLNV'", e.Problem);
    }

    // ---- constraints, mappings, problems ----

    private static readonly ProblemShape Gemm = ProblemLoader.Load(RepoPaths.Of("tests", "AccelSim.Tests", "Mapper", "Data", "gemm.yaml"));

    private static MapSpaceConstraints Constraints(string yaml, IReadOnlyCollection<string>? einsums = null) =>
        ConstraintsLoader.Parse(YNode.LoadText(yaml, "c.yaml"), Gemm, einsums);

    [Fact]
    public void ConstraintsForAnUnknownEinsumNameTheClosest()
    {
        var e = Assert.Throws<InputException>(() =>
            Constraints("constraints: {einsum: QKK, levels: []}", ["QK", "AV"]));
        Assert.Matches(@"^c\.yaml:1:\d+: constraints\.einsum: ", e.OneLine);
        Assert.Contains("did you mean 'QK'", e.Problem);
        // A real Einsum other than the one being mapped still means "does not apply here".
        Assert.Empty(Constraints("constraints: {einsum: AV, levels: []}", ["QK", "AV", Gemm.Name]).Directives);
    }

    [Fact]
    public void FactorZeroIsRefused()
    {
        var dim = Gemm.Dims[0].Name;
        var e = Assert.Throws<InputException>(() =>
            Constraints($"constraints: {{levels: [{{level: Buffer, temporal: '{dim}<=0'}}]}}"));
        Assert.Contains("must be > 0", e.Problem);
        var m = Assert.Throws<InputException>(() => MappingLoader.Parse(YNode.LoadText($"mapping: [{{level: DRAM, temporal: {dim}=0}}]", "m.yaml")));
        Assert.Contains("factors must be > 0", m.Problem);
    }

    /// <summary>A level cannot both keep and bypass a tensor: the error points at the bypassed name.</summary>
    [Fact]
    public void KeepingAndBypassingOneTensorIsRefused()
    {
        var m = Assert.Throws<InputException>(() => MappingLoader.Parse(YNode.LoadText(
            "mapping:\n  - level: DRAM\n  - level: Buffer\n    keep: [A, C]\n    bypass: [B, C]\n", "m.yaml")));
        Assert.Equal("m.yaml:5:17: mapping[1].bypass[1]: tensor 'C' is both kept and bypassed at level Buffer; list it in one of keep or bypass", m.OneLine);
        // Disjoint lists stay valid.
        MappingLoader.Parse(YNode.LoadText("mapping:\n  - level: DRAM\n  - level: Buffer\n    keep: [A]\n    bypass: [B]\n", "m.yaml"));
    }

    [Fact]
    public void ProblemWithANonPositiveDimensionIsRefused()
    {
        var e = Assert.Throws<InputException>(() => ProblemLoader.Parse(YNode.LoadText(
            "problem: {dims: {K: 0}, tensors: {A: [K]}}", "p.yaml")));
        Assert.Contains("size must be > 0", e.Problem);
    }

    // ---- SpAtten ----

    [Theory]
    [InlineData("  double_buffered:\n    value: 1", "  double_buffered:\n    value: 0.5", "must be an integer")]
    [InlineData("  double_buffered:\n    value: 1", "  double_bufferd:\n    value: 1", "did you mean 'double_buffered'")]
    public void SpattenArchitectureIsStrict(string from, string to, string problem)
    {
        var text = Text("arch", "spatten.yaml");
        Assert.Contains(from, text);
        var e = Assert.Throws<InputException>(() => SpattenArch.Parse(YNode.LoadText(text.Replace(from, to), "spatten.yaml")));
        Assert.Contains(problem, e.Problem);
        Assert.Matches(@"^spatten\.yaml:\d+:\d+: ", e.OneLine);
    }

    [Theory]
    [InlineData("value: {keep_ratio: 1.5}", "fraction in (0, 1]")]
    [InlineData("value: {keep_ratio: -0.1}", "fraction in (0, 1]")]
    [InlineData("sparsity: {block: {size: 0, density: 0.5}}", "at least 1")]
    [InlineData("value: {keep_ration: 0.5}", "did you mean 'keep_ratio'")]
    public void PruningSettingsOutsideTheirRangeAreRefused(string yaml, string problem)
    {
        var e = Assert.Throws<InputException>(() =>
            AccelSim.Pruning.Spec.PruningSpecParser.Parse(YNode.LoadText(yaml, "p.yaml"), "p"));
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith("p.yaml:1:", e.OneLine);
    }

    // ---- engines ----

    [Fact]
    public void AnalyzeEngineRefusesAnUnknownRank()
    {
        var file = RepoPaths.TempYaml($"""
            name: a
            engine: analyze
            workload: {RepoPaths.Of("workloads", "attention", "attention-1pass.yaml")}
            options: {"{rank: MM}"}
            parameters:
              grid:
                workload.params.seq_len: [1024]
            """, "analyze.yaml");
        var spec = SweepSpecParser.Load(file, BuiltInEvaluators.CreateRegistry());
        var engine = BuiltInEvaluators.CreateRegistry().Get("analyze", null, "engine");
        var e = Assert.Throws<InputException>(() => engine.Evaluate(spec.PointAt(0), CancellationToken.None));
        Assert.Contains("has no rank 'MM'", e.Problem);
        Assert.Contains("did you mean 'M'", e.Problem);
    }

    [Fact]
    public void RooflineEngineSaysItCannotEvaluateACascade()
    {
        var file = RepoPaths.TempYaml($"""
            name: r
            engine: analytic-roofline
            arch: {RepoPaths.Of("workloads", "sweeps", "roofline", "machines", "h100.yaml")}
            workload: {RepoPaths.Of("workloads", "attention", "attention-1pass.yaml")}
            parameters:
              grid:
                workload.params.seq_len: [1024, 2048]
            """, "roofline.yaml");
        var r = Cli("sweep", file, "--out", Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N")), "--progress", "none");
        Assert.Equal(2, r.Code);
        Assert.Contains("cannot evaluate an Einsum cascade", r.Err);
    }
}
