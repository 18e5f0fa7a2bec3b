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
