using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// Direct softmax(Q K^T * scale) V, written independently of any cascade: loops over the attention output's
/// batch-like ranks, query positions and keys. Used as the oracle the cascades must match.
/// </summary>
public static class AttentionReference
{
    /// <summary>Optional extra mask (query p, key m) on top of causal/window, e.g. a block-sparse pattern.</summary>
    public static DenseTensor Compute(Cascade c, IReadOnlyDictionary<string, DenseTensor> inputs, Func<long, long, bool>? extraMask = null)
    {
        var info = c.Attention ?? throw new InvalidOperationException($"{c.Name} has no attention: section");
        var q = inputs[info.Query];
        var k = inputs[info.Key];
        var v = inputs[info.Value];
        var qDef = c.Tensor(info.Query);
        var kDef = c.Tensor(info.Key);
        var vDef = c.Tensor(info.Value);
        var oDef = c.Tensor(info.Output);
        var P = c.Rank(info.QueryRank).Size;
        var M = c.Rank(info.KeyRank).Size;
        var E = c.Rank(info.HeadDimRank).Size;
        var F = c.Rank(info.ValueDimRank).Size;
        var outT = new DenseTensor(oDef.Name, oDef.Extents);
        var batchRanks = oDef.Ranks.Where(r => r != info.QueryRank && r != info.ValueDimRank).ToArray();
        var batchSizes = batchRanks.Select(r => c.Rank(r).Size).ToArray();
        var batchCount = batchSizes.Aggregate(1L, (a, b) => a * b);
        var offset = M - P; // queries are aligned with the last keys

        long[] Index(TensorDef t, Dictionary<string, long> at) => t.Ranks.Select(r => at[r]).ToArray();

        for (long bi = 0; bi < batchCount; bi++)
        {
            var at = new Dictionary<string, long>();
            var rem = bi;
            for (var i = batchRanks.Length - 1; i >= 0; i--) { at[batchRanks[i]] = rem % batchSizes[i]; rem /= batchSizes[i]; }
            for (long p = 0; p < P; p++)
            {
                at[info.QueryRank] = p;
                var scores = new double[M];
                var visible = new bool[M];
                var max = double.NegativeInfinity;
                for (long m = 0; m < M; m++)
                {
                    var ok = (!info.Causal || m <= p + offset)
                             && (info.Window is not { } w || Math.Abs(p + offset - m) < w)
                             && (extraMask is null || extraMask(p, m));
                    if (!ok) continue;
                    visible[m] = true;
                    at[info.KeyRank] = m;
                    double s = 0;
                    for (long e = 0; e < E; e++)
                    {
                        at[info.HeadDimRank] = e;
                        s += q[Index(qDef, at)] * k[Index(kDef, at)];
                    }
                    scores[m] = s * info.Scale;
                    max = Math.Max(max, scores[m]);
                }
                double denom = 0;
                for (long m = 0; m < M; m++) if (visible[m]) denom += Math.Exp(scores[m] - max);
                for (long f = 0; f < F; f++)
                {
                    at[info.ValueDimRank] = f;
                    double acc = 0;
                    for (long m = 0; m < M; m++)
                    {
                        if (!visible[m]) continue;
                        at[info.KeyRank] = m;
                        acc += Math.Exp(scores[m] - max) / denom * v[Index(vDef, at)];
                    }
                    outT[Index(oDef, at)] = acc;
                }
            }
        }
        return outT;
    }

    /// <summary>Largest |actual - expected| / max(|expected|, 1) over all elements (every element must be present).</summary>
    public static double MaxRelativeError(DenseTensor actual, DenseTensor expected)
    {
        Assert.True(expected.Extents.SequenceEqual(actual.Extents), "extents differ");
        double worst = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected.Present[i], $"reference element {i} of {expected.Name} is empty");
            Assert.True(actual.Present[i], $"element {string.Join(",", actual.IndexOf(i))} of {actual.Name} is empty");
            worst = Math.Max(worst, Math.Abs(actual.Values[i] - expected.Values[i]) / Math.Max(Math.Abs(expected.Values[i]), 1));
        }
        return worst;
    }
}
