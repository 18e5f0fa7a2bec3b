using AccelSim.Einsum.Checking;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// `accelsim check`: every shipped attention workload and variant passes against its direct formula (or, for the
/// softmax cascades, against each other), a perturbed cascade fails with exit 1 and its error, and bad requests are
/// one-line input errors (exit 2).
/// </summary>
public class CheckCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static IEnumerable<string> Files(string dir) =>
        Directory.GetFiles(RepoPaths.Of("workloads", dir), "*.yaml").Order(StringComparer.Ordinal);

    public static TheoryData<string> ShippedWorkloads() =>
        [.. Files("attention").Concat(Files("variants")).Select(f => Path.GetRelativePath(RepoPaths.Root, f))];

    public static TheoryData<string> Variants() => [.. Files("variants").Select(f => Path.GetRelativePath(RepoPaths.Root, f))];

    [Theory]
    [MemberData(nameof(ShippedWorkloads))]
    public void EveryShippedWorkloadPassesItsReference(string relative)
    {
        var (code, output, err) = Run("check", RepoPaths.Of(relative));
        Assert.True(code == 0, $"{relative}: exit {code}\n{output}{err}");
        Assert.Contains("max relative error", output);
        Assert.Contains("points executed: ", output);
        Assert.EndsWith("PASS", output.Trim());
    }

    [Fact]
    public void ThereAreAtLeastTenVariantsEachCitingItsPaperAndNamingItsFormula()
    {
        var variants = Files("variants").ToList();
        Assert.True(variants.Count >= 10, $"{variants.Count} variants");
        foreach (var v in variants)
        {
            var spec = WorkloadLoader.LoadSpec(v);
            Assert.False(string.IsNullOrWhiteSpace(spec.Source), $"{v}: no source:");
            Assert.Matches(@"(arXiv|NeurIPS|ICML|ICLR|CVPR|ECCV)", spec.Source!);
            Assert.NotNull(spec.Reference);
            Assert.NotNull(DirectFormulas.Find(spec.Reference!));
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryVariantAnalyzesAtItsDefaultSizes(string relative)
    {
        var (code, _, err) = Run("analyze", RepoPaths.Of(relative));
        Assert.True(code == 0, err);
    }

    [Theory]
    [InlineData("variants/sigmoid-attention.yaml", "--set", "causal=false", "--set", "kv_len=seq_len + 3")]
    [InlineData("variants/softplus-attention.yaml", "--set", "length_scale=2.5", "--set", "seq_len=7")]
    [InlineData("variants/chunked-linear-attention.yaml", "--set", "chunk=3", "--set", "seq_len=11")]
    [InlineData("variants/lightning-attention.yaml", "--set", "chunk=5", "--set", "decay=0.5")]
    [InlineData("variants/streaming-head-attention.yaml", "--set", "kv_len=17", "--set", "tile=3", "--set", "dense_heads=1")]
    [InlineData("variants/neighborhood-attention-1d.yaml", "--set", "seq_len=13", "--set", "dilation=3")]
    [InlineData("variants/neighborhood-attention-1d.yaml", "--set", "seq_len=17", "--set", "kernel=5")]
    [InlineData("variants/agent-attention.yaml", "--set", "seq_len=12", "--set", "agents=3")]
    [InlineData("variants/multi-head-latent-attention.yaml", "--set", "kv_len=14", "--set", "causal=false")]
    [InlineData("variants/differential-attention.yaml", "--set", "lambda=0.3", "--seed", "5")]
    [InlineData("variants/cross-attention.yaml", "--set", "seq_len=3", "--set", "kv_len=11")]
    public void VariantsPassAtOtherSizesAndSeeds(string relative, params string[] options)
    {
        var (code, output, err) = Run(["check", RepoPaths.Of("workloads", relative), .. options]);
        Assert.True(code == 0, $"{relative}: exit {code}\n{output}{err}");
    }

    [Fact]
    public void ReportsTheSizesAndSeedItUsed()
    {
        var (code, output, _) = Run("check", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--seed", "9", "--set", "causal=true");
        Assert.Equal(0, code);
        Assert.Contains("against softmax-attention", output);
        Assert.Contains("seq_len=10", output);
        Assert.Contains("head_dim=4", output);
        Assert.Contains("--set causal=true", output);
        Assert.Contains("seed 9", output);
    }

    [Fact]
    public void CascadesAgreeWithEachOther()
    {
        var (code, output, err) = Run("check", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"),
            "--against", RepoPaths.Of("workloads", "attention", "attention-3pass.yaml"), "--set", "causal=true", "--set", "kv_len=seq_len + 3");
        Assert.True(code == 0, output + err);
        Assert.Contains("reference cascade: ", output);
    }

    private static string Perturbed(string relative, string from, string to)
    {
        var text = File.ReadAllText(RepoPaths.Of("workloads", relative));
        Assert.Contains(from, text);
        // The copy sits next to the original so that relative `extends:`/`model:` paths still resolve.
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N"), Path.GetDirectoryName(relative)!);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Path.GetFileName(relative));
        File.WriteAllText(path, text.Replace(from, to));
        return path;
    }

    public static TheoryData<string, string, string> Perturbations() => new()
    {
        // the online softmax without its correction of the previous denominator and numerator
        { "attention/attention-1pass.yaml", "SPD[b,h,m1,p] = PRM[b,h,m1,p] * RD[b,h,m1,p]", "SPD[b,h,m1,p] = RD[b,h,m1,p]" },
        { "attention/attention-1pass.yaml", "SPNV[b,h,m1,p,f] = PRM[b,h,m1,p] * RNV[b,h,m1,p,f]", "SPNV[b,h,m1,p,f] = RNV[b,h,m1,p,f]" },
        // a sum where the denominator needs ... a max (not shift-invariant here: it is the divisor)
        { "attention/attention-3pass.yaml", "SD[b,h,p] = sum[m](SN[b,h,m,p])", "SD[b,h,p] = max[m](SN[b,h,m,p])" },
        // sigmoid attention with its causal mask off by one (one future key visible)
        { "variants/sigmoid-attention.yaml", "causal(p, m, kv_len - seq_len)", "causal(p, m, kv_len - seq_len + 1)" },
        // chunked linear attention without the state carried over chunks
        { "variants/chunked-linear-attention.yaml", "(NI[b,h,p1,p0,f] + NX[b,h,p1,p0,f]) / (DI[b,h,p1,p0] + DX[b,h,p1,p0])", "NI[b,h,p1,p0,f] / (DI[b,h,p1,p0] + DX[b,h,p1,p0])" },
        // an intra-chunk mask off by one
        { "variants/lightning-attention.yaml", "where: m0 <= p0", "where: m0 < p0" },
        // streaming heads that forget their sink tokens
        { "variants/streaming-head-attention.yaml", "(m < sink or m > p", "(m < 0 or m > p" },
    };

    [Theory]
    [MemberData(nameof(Perturbations))]
    public void APerturbedCascadeFails(string relative, string from, string to)
    {
        var (code, output, err) = Run("check", Perturbed(relative, from, to));
        Assert.True(code == 1, $"exit {code}\n{output}{err}");
        Assert.Contains("FAIL", output);
        Assert.Matches(@"max relative error [0-9.]+E[-+][0-9]+|is (present|empty) but", output);
        Assert.Equal("", err);
    }

    [Fact]
    public void APerturbedCascadeFailsAgainstAnotherCascade()
    {
        var broken = Perturbed("attention/attention-1pass.yaml", "SPD[b,h,m1,p] = PRM[b,h,m1,p] * RD[b,h,m1,p]", "SPD[b,h,m1,p] = RD[b,h,m1,p]");
        var (code, output, _) = Run("check", broken, "--against", RepoPaths.Of("workloads", "attention", "attention-3pass.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("FAIL", output);
    }

    [Fact]
    public void ALooseToleranceAcceptsWhatTheDefaultRejects()
    {
        var broken = Perturbed("attention/attention-3pass.yaml", "A[b,h,m,p] = SN[b,h,m,p] / SD[b,h,p]", "A[b,h,m,p] = SN[b,h,m,p] / (SD[b,h,p] + 1e-6)");
        Assert.Equal(1, Run("check", broken).Code);
        Assert.Equal(0, Run("check", broken, "--tolerance", "1e-4").Code);
    }

    [Theory]
    [InlineData("--reference", "sigmoid-atention", "--reference: unknown reference 'sigmoid-atention' (did you mean 'sigmoid-attention'?)")]
    [InlineData("--tolerance", "0", "--tolerance: must be a positive number")]
    [InlineData("--set", "seq_lem=4", "--set seq_lem: unknown parameter 'seq_lem' (did you mean 'seq_len'?)")]
    [InlineData("--set", "seq_len=100000", "--set: too large to check")]
    public void BadRequestsAreOneLineInputErrors(string option, string value, string expected)
    {
        var (code, output, err) = Run("check", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), option, value);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains(expected, err);
    }

    [Fact]
    public void AgainstAndReferenceTogetherAreRefused()
    {
        var w = RepoPaths.Of("workloads", "attention", "attention-1pass.yaml");
        var (code, _, err) = Run("check", w, "--against", w, "--reference", "softmax-attention");
        Assert.Equal(2, code);
        Assert.StartsWith("--against: give either", err.Trim());
    }

    [Fact]
    public void AFormulaNeedingMissingInputsSaysWhichOne()
    {
        var (code, _, err) = Run("check", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--reference", "gated-attention");
        Assert.Equal(2, code);
        Assert.Contains("reference: gated-attention: needs an input tensor G[B,H,P,F]", err);
    }

    [Fact]
    public void AWorkloadWithNothingToCompareWithIsAnInputError()
    {
        var path = Perturbed("variants/sigmoid-attention.yaml", "reference: sigmoid-attention\n", "");
        var (code, _, err) = Run("check", path);
        Assert.Equal(2, code);
        Assert.Contains("reference: nothing to compare with", err);
    }

    [Fact]
    public void AMisspeltReferenceInTheWorkloadIsLocated()
    {
        var path = Perturbed("variants/sigmoid-attention.yaml", "reference: sigmoid-attention", "reference: sigmoid-attn");
        foreach (var verb in new[] { "check", "analyze" })
        {
            var (code, _, err) = Run(verb, path);
            Assert.Equal(2, code);
            Assert.Matches(@"sigmoid-attention\.yaml:\d+:\d+: reference: unknown reference 'sigmoid-attn'", err.Trim());
        }
    }
}
