namespace AccelSim.Pruning.Traces;

/// <summary>Dense row-major matrix of doubles (rows x cols).</summary>
public sealed class Matrix
{
    public Matrix(int rows, int cols)
    {
        Rows = rows;
        Cols = cols;
        Data = new double[rows * cols];
    }

    public int Rows { get; }
    public int Cols { get; }
    public double[] Data { get; }

    public double this[int r, int c]
    {
        get => Data[r * Cols + c];
        set => Data[r * Cols + c] = value;
    }
}

/// <summary>The probabilities (queries x keys) and outputs (queries x head_dim) of one attention head.</summary>
public sealed record AttentionResult(Matrix Probabilities, Matrix Output);

/// <summary>
/// Computes one head of attention restricted to a set of query rows and key rows, optionally with a mask.
/// Implementations: <see cref="ReferenceAttention"/> (double precision, in this library); after the Einsum IR lands,
/// an implementation that runs the attention cascade through the Einsum interpreter.
/// </summary>
public interface IAttentionEvaluator
{
    /// <param name="allowed">Optional structured-sparsity mask over (query position, key position).</param>
    AttentionResult Evaluate(Matrix q, Matrix k, Matrix v, IReadOnlyList<int> queries, IReadOnlyList<int> keys,
        Func<int, int, bool>? allowed = null);
}

/// <summary>softmax(Q K^T / sqrt(D)) V in double precision with the usual max subtraction.</summary>
public sealed class ReferenceAttention : IAttentionEvaluator
{
    public static readonly ReferenceAttention Instance = new();

    public AttentionResult Evaluate(Matrix q, Matrix k, Matrix v, IReadOnlyList<int> queries, IReadOnlyList<int> keys,
        Func<int, int, bool>? allowed = null)
    {
        var d = q.Cols;
        var scale = 1.0 / Math.Sqrt(d);
        var probs = new Matrix(queries.Count, keys.Count);
        var output = new Matrix(queries.Count, v.Cols);
        var scores = new double[keys.Count];
        for (var qi = 0; qi < queries.Count; qi++)
        {
            var qr = queries[qi];
            var max = double.NegativeInfinity;
            for (var kj = 0; kj < keys.Count; kj++)
            {
                var kr = keys[kj];
                if (allowed is not null && !allowed(qr, kr))
                {
                    scores[kj] = double.NegativeInfinity;
                    continue;
                }
                var s = 0.0;
                for (var x = 0; x < d; x++) s += q[qr, x] * k[kr, x];
                scores[kj] = s * scale;
                if (scores[kj] > max) max = scores[kj];
            }
            var sum = 0.0;
            for (var kj = 0; kj < keys.Count; kj++)
            {
                var e = double.IsNegativeInfinity(scores[kj]) ? 0.0 : Math.Exp(scores[kj] - max);
                probs[qi, kj] = e;
                sum += e;
            }
            for (var kj = 0; kj < keys.Count; kj++)
            {
                var p = sum > 0 ? probs[qi, kj] / sum : 0.0;
                probs[qi, kj] = p;
                if (p == 0) continue;
                var kr = keys[kj];
                for (var x = 0; x < v.Cols; x++) output[qi, x] += p * v[kr, x];
            }
        }
        return new AttentionResult(probs, output);
    }
}
