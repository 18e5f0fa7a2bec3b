using System.Collections.Immutable;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>Extensions of the workload language (issue 14): sin/cos, parameters added by `extends:`, masks through empty values.</summary>
public class IrExtensionTests
{
    /// <summary>
    /// Rotary position embedding (Su et al., RoFormer, 2021, eq. 34): each pair (q[2i], q[2i+1]) of a head's
    /// dimensions is rotated by the angle p * theta^(-2i/d).
    /// </summary>
    private const string Rope = """
        name: rope
        params: {heads: 2, seq_len: 7, head_dim: 6, theta: 10000}
        ranks: {H: heads, P: seq_len, E: head_dim, I: head_dim / 2}
        tensors: {Q: [H, P, E]}
        einsums:
          - ANG[p,i] = p * pow(theta, -2 * i / head_dim)
          - QE[h,p,i] = Q[h,p,2*i] * cos(ANG[p,i]) - Q[h,p,2*i+1] * sin(ANG[p,i])
          - QO[h,p,i] = Q[h,p,2*i] * sin(ANG[p,i]) + Q[h,p,2*i+1] * cos(ANG[p,i])
        outputs: [QE, QO]
        """;

    [Fact]
    public void RotaryEmbeddingEqualsItsDirectFormula()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Rope));
        var inputs = Interpreter.RandomInputs(cascade, 7);
        var run = Interpreter.Run(cascade, inputs);
        var q = inputs["Q"];
        const int d = 6;
        for (long h = 0; h < 2; h++)
            for (long p = 0; p < 7; p++)
                for (long i = 0; i < d / 2; i++)
                {
                    var angle = p * Math.Pow(10000, -2.0 * i / d);
                    double x = q[h, p, 2 * i], y = q[h, p, 2 * i + 1];
                    Assert.Equal(x * Math.Cos(angle) - y * Math.Sin(angle), run["QE"][h, p, i], 1e-14);
                    Assert.Equal(x * Math.Sin(angle) + y * Math.Cos(angle), run["QO"][h, p, i], 1e-14);
                }
    }

    [Fact]
    public void SinAndCosCountAsSpecialFunctions()
    {
        var report = CascadeAnalyzer.Analyze(WorkloadLoader.Load(RepoPaths.TempYaml(Rope)));
        var qe = report.Einsum("QE").OpsPerPoint;
        Assert.Equal(2, qe.Exp); // one sin, one cos, priced like exp
        Assert.Equal(2, qe.Mul);
        Assert.Equal(1, qe.Add);
        Assert.Equal(2L * 7 * 3, report.Einsum("QE").Points);
    }

    [Fact]
    public void SinAndCosFoldInParameters()
    {
        var cascade = WorkloadLoader.Load(RepoPaths.TempYaml(Rope.Replace("theta: 10000", "theta: 10000 + 0 * sin(0) * cos(0)")));
        Assert.Equal(2L * 7 * 3, CascadeAnalyzer.Analyze(cascade).Einsum("QO").Points);
    }
}

public class VariantParameterTests
{
    private const string Base = """
        name: base
        params: {rows: 8, cols: 4}
        ranks: {N: rows, K: cols}
        tensors: {A: [N, K], B: [K]}
        einsums:
          - Y[n] = A[n,k] * B[k]
        """;

    /// <summary>Writes base.yaml and variant.yaml side by side; returns the variant's path.</summary>
    private static string Variant(string paramsBlock)
    {
        var basePath = RepoPaths.TempYaml(Base, "base.yaml");
        var path = Path.Combine(Path.GetDirectoryName(basePath)!, "variant.yaml");
        File.WriteAllText(path, "extends: base.yaml\nparams:\n" + paramsBlock);
        return path;
    }

    private static (int Code, string Err) Analyze(string path, params string[] extra)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        return (AccelSim.Cli.Cli.Run(["analyze", path, .. extra], o, e), e.ToString());
    }

    [Fact]
    public void PlusAddsAParameterThatOverriddenFormulasUse()
    {
        var path = Variant("  +blocks: 3\n  rows: blocks * 5\n");
        var spec = WorkloadLoader.LoadSpec(path);
        Assert.Contains(spec.Params, p => p.Name == "blocks");
        var cascade = WorkloadLoader.Bind(spec);
        Assert.Equal(15L * 4, CascadeAnalyzer.Analyze(cascade).Einsum(cascade.Einsums[0].Name).Points);
        // The added parameter is an ordinary one: --set reaches it.
        var set = WorkloadLoader.Bind(spec, new Dictionary<string, string> { ["blocks"] = "2" });
        Assert.Equal(10L * 4, CascadeAnalyzer.Analyze(set).Einsum(set.Einsums[0].Name).Points);
    }

    [Fact]
    public void ANameTheBaseLacksWithoutPlusIsALocatedErrorWithASuggestion()
    {
        var (code, err) = Analyze(Variant("  row: 3\n"));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^.*variant\.yaml:3:3: params\.row: the base workload base has no parameter 'row' \(did you mean 'rows'\?\); write \+row to add it$", err.TrimEnd('\n'));
    }

    [Fact]
    public void PlusOnAnExistingParameterIsAnError()
    {
        var (code, err) = Analyze(Variant("  +rows: 3\n"));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains("already has parameter 'rows' (drop the + to override it)", err);
    }

    [Fact]
    public void PlusNeedsAName()
    {
        var (code, err) = Analyze(Variant("  \"+3x\": 3\n"));
        Assert.Equal(2, code);
        Assert.Contains("write + followed by a parameter name", err);
    }
}

public class BaseParameterPlusTests
{
    [Fact]
    public void PlusInABaseFileIsAnError()
    {
        var path = RepoPaths.TempYaml("name: b\nparams: {+rows: 8}\nranks: {N: rows}\ntensors: {A: [N]}\neinsums:\n  - Y[n] = A[n] * 2\n");
        var e = new StringWriter();
        Assert.Equal(2, AccelSim.Cli.Cli.Run(["analyze", path], new StringWriter(), e));
        Assert.Contains("a leading + adds a parameter only in an extends: variant; here write rows", e.ToString());
    }
}

/// <summary>A mask carries through a constant: empty + c is empty, in the interpreter and in the analysis alike.</summary>
public class MaskThroughConstantTests
{
    [Theory]
    [InlineData("sigmoid-attention.yaml", "SG")]
    [InlineData("softplus-attention.yaml", "SP")]
    public void MaskedScoresStayEmptyAndCountsMatchExecution(string file, string einsum)
    {
        var set = new Dictionary<string, string> { ["batch"] = "1", ["heads"] = "2", ["seq_len"] = "7", ["kv_len"] = "9", ["head_dim"] = "4", ["causal"] = "true" };
        var cascade = WorkloadLoader.Load(RepoPaths.Of("workloads", "variants", file), set);
        var run = Interpreter.Run(cascade, Interpreter.RandomInputs(cascade, 3));
        var report = CascadeAnalyzer.Analyze(cascade);
        var output = cascade.Einsums.Single(e => e.Name == einsum).Output.Tensor;
        // visible keys m <= p + (kv_len - seq_len): 3 + 4 + ... + 9 per head
        var visible = Enumerable.Range(0, 7).Sum(p => p + 3L);
        for (long h = 0; h < 2; h++)
            for (long m = 0; m < 9; m++)
                for (long p = 0; p < 7; p++)
                    Assert.Equal(m <= p + 2, run[output].IsPresent(0, h, m, p));
        Assert.Equal(2 * visible, run.ExecutedPoints[einsum]);
        foreach (var e in cascade.Einsums)
            Assert.True(report.Einsum(e.Name).Points == run.ExecutedPoints[e.Name],
                $"{file} {e.Name}: analytical {report.Einsum(e.Name).Points}, executed {run.ExecutedPoints[e.Name]}");
    }
}
