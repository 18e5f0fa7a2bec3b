using System.Collections.Immutable;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Einsum.Interpretation;

/// <summary>Values of every tensor after evaluation, plus the iteration points each Einsum actually executed.</summary>
public sealed record InterpreterResult(ImmutableDictionary<string, DenseTensor> Tensors, ImmutableDictionary<string, long> ExecutedPoints)
{
    public DenseTensor this[string tensor] => Tensors[tensor];
}

/// <summary>
/// Evaluates any cascade in double precision: the oracle every engine is checked against. Elements are computed on
/// demand and memoised, so running recurrences (1-pass softmax) evaluate in the only order that works, and a true
/// element-level cycle is reported instead of looping. Empty elements follow the rules on <see cref="ExtendedEinsum"/>.
/// </summary>
public sealed class Interpreter
{
    private readonly Cascade _cascade;
    private readonly Dictionary<string, DenseTensor> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, sbyte[]> _state = new(StringComparer.Ordinal); // 0 new, 1 computing, 2 done
    private readonly Dictionary<string, ExtendedEinsum> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _executed = new(StringComparer.Ordinal);

    private Interpreter(Cascade cascade, IReadOnlyDictionary<string, DenseTensor> inputs)
    {
        _cascade = cascade;
        foreach (var e in cascade.Einsums) { _producer[e.Output.Tensor] = e; _executed[e.Name] = 0; }
        foreach (var t in cascade.Tensors)
        {
            if (t.Role == TensorRole.Input)
            {
                if (!inputs.TryGetValue(t.Name, out var given))
                    throw new ArgumentException($"input tensor {t.Name} was not supplied");
                if (!given.Extents.SequenceEqual(t.Extents))
                    throw new ArgumentException($"input {t.Name} has extents [{string.Join(",", given.Extents)}], expected [{string.Join(",", t.Extents)}]");
                _tensors[t.Name] = given;
            }
            else
            {
                _tensors[t.Name] = new DenseTensor(t.Name, t.Extents);
                _state[t.Name] = new sbyte[_tensors[t.Name].Length];
            }
        }
    }

    /// <summary>
    /// Random inputs in [-1, 1) for every input tensor, from one seed; a tensor used as a gather table gets random
    /// whole numbers valid in every rank it indexes.
    /// </summary>
    public static ImmutableDictionary<string, DenseTensor> RandomInputs(Cascade cascade, int seed)
    {
        var rng = new Random(seed);
        var tableRange = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in cascade.Einsums)
            foreach (var a in e.Inputs)
                for (var d = 0; d < a.Indices.Length; d++)
                    if (a.GatherAt(d) is { } g)
                    {
                        var table = e.Inputs[g.TableInput].Tensor;
                        var size = cascade.Tensor(a.Tensor).Extents[d];
                        tableRange[table] = Math.Min(size, tableRange.GetValueOrDefault(table, long.MaxValue));
                    }
        return cascade.Tensors.Where(t => t.Role == TensorRole.Input)
            .ToImmutableDictionary(t => t.Name, t =>
            {
                var tensor = DenseTensor.Random(t.Name, t.Extents, rng);
                if (tableRange.TryGetValue(t.Name, out var range))
                    for (long o = 0; o < tensor.Length; o++) tensor.Values[o] = rng.NextInt64(range);
                return tensor;
            }, StringComparer.Ordinal);
    }

    /// <summary>Evaluates every element of every tensor the cascade produces.</summary>
    public static InterpreterResult Run(Cascade cascade, IReadOnlyDictionary<string, DenseTensor> inputs)
    {
        InterpreterResult? result = null;
        Exception? error = null;
        // Deep recurrences recurse deeply; give the evaluation a large stack of its own.
        var thread = new Thread(() =>
        {
            try
            {
                var it = new Interpreter(cascade, inputs);
                foreach (var e in cascade.Einsums)
                {
                    var t = it._tensors[e.Output.Tensor];
                    var idx = new long[t.Extents.Length];
                    for (long o = 0; o < t.Length; o++)
                    {
                        var ix = t.IndexOf(o);
                        Array.Copy(ix, idx, ix.Length);
                        it.Element(e.Output.Tensor, idx);
                    }
                }
                result = new InterpreterResult(it._tensors.ToImmutableDictionary(StringComparer.Ordinal), it._executed.ToImmutableDictionary());
            }
            catch (Exception e) { error = e; }
        }, 512 * 1024 * 1024);
        thread.Start();
        thread.Join();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return result!;
    }

    /// <summary>The element's value, or null when it is empty.</summary>
    private double? Element(string tensor, long[] index)
    {
        var t = _tensors[tensor];
        var o = t.Offset(index);
        if (o < 0) return null;
        if (!_state.TryGetValue(tensor, out var state)) return t.Present[o] ? t.Values[o] : null; // input
        switch (state[o])
        {
            case 2: return t.Present[o] ? t.Values[o] : null;
            case 1: throw new InvalidOperationException($"element {tensor}[{string.Join(",", index)}] depends on itself");
        }
        state[o] = 1;
        var v = Compute(_producer[tensor], index);
        state[o] = 2;
        if (v is { } x) { t.Values[o] = x; t.Present[o] = true; }
        return v;
    }

    private double? Compute(ExtendedEinsum e, long[] outIndex)
    {
        var point = new long[e.Iteration.Length];
        for (var d = 0; d < outIndex.Length; d++)
        {
            var idx = e.Output.Indices[d];
            var v = idx.SoleVariable!.Value;
            var value = outIndex[d] - idx.Constant;
            if (value < 0 || value >= e.Iteration[v].Size) return e.Init; // an element this Einsum never writes
            point[v] = value;
        }

        if (e.ReduceVariables.IsEmpty)
        {
            var r = Passes(e, point) ? Eval(e, e.Body, point) : null;
            if (r is not null) _executed[e.Name]++;
            return r ?? e.Init;
        }

        double? acc = e.Init;
        var reduce = e.ReduceVariables;
        var count = reduce.Aggregate(1L, (a, v) => a * e.Iteration[v].Size);
        for (long k = 0; k < count; k++)
        {
            var rem = k;
            for (var i = reduce.Length - 1; i >= 0; i--)
            {
                var v = reduce[i];
                point[v] = rem % e.Iteration[v].Size;
                rem /= e.Iteration[v].Size;
            }
            if (!Passes(e, point)) continue;
            if (Eval(e, e.Body, point) is not { } x) continue;
            _executed[e.Name]++;
            acc = acc is not { } a ? x : e.Reduce switch
            {
                ReduceOp.Sum => a + x,
                ReduceOp.Max => Math.Max(a, x),
                _ => Math.Min(a, x),
            };
        }
        return acc;
    }

    /// <summary>The index a gather looks up (null when the table element is empty); outside the rank it is an error.</summary>
    private long? Gather(ExtendedEinsum e, GatherIndex g, TensorAccess access, int rank, long[] point)
    {
        var table = e.Inputs[g.TableInput];
        var tix = new long[table.Indices.Length];
        for (var d = 0; d < tix.Length; d++) tix[d] = table.Indices[d].Evaluate(point);
        if (Element(table.Tensor, tix) is not { } v) return null;
        var size = _tensors[access.Tensor].Extents[rank];
        if (v != Math.Floor(v) || v < 0 || v >= size)
            throw new AccelSim.Core.InputException(e.Location, null,
                $"{e.Name}: gather {table.Tensor}[{string.Join(",", tix)}] = {v.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not an index of rank {rank + 1} of {access.Tensor} (a whole number in [0, {size}))");
        return (long)v;
    }

    /// <summary>1 when the operand at this point is among the k largest over the selected variable (ties to the
    /// lower index; empty values are not candidates), 0 otherwise; empty when the operand is empty here.</summary>
    private double? TopK(ExtendedEinsum e, TopKExpr t, long[] point)
    {
        var own = point[t.Variable];
        if (Eval(e, t.Operand, point) is not { } mine) return null;
        var other = (long[])point.Clone();
        long above = 0;
        for (long i = 0; i < t.Size && above < t.K; i++)
        {
            if (i == own) continue;
            other[t.Variable] = i;
            if (Eval(e, t.Operand, other) is { } x && (x > mine || (x == mine && i < own))) above++;
        }
        return above < t.K ? 1 : 0;
    }

    /// <summary>Whether the point passes the filter; a filter reading tensors reads their values (empty = not kept).</summary>
    private bool Passes(ExtendedEinsum e, long[] point)
    {
        if (e.Filter is null) return true;
        if (!_readsData.TryGetValue(e.Name, out var reads)) _readsData[e.Name] = reads = !e.DataFilter.IsEmpty;
        return reads ? Eval(e, e.Filter, point) is { } v && v != 0 : ScalarEvaluator.Truth(e.Filter, point);
    }

    private readonly Dictionary<string, bool> _readsData = new(StringComparer.Ordinal);

    private double? Eval(ExtendedEinsum e, BoundExpr x, long[] point)
    {
        switch (x)
        {
            case ConstExpr c: return c.Value;
            case IndexValueExpr i: return i.Index.Evaluate(point);
            case ReadExpr r:
                var access = e.Inputs[r.Input];
                var idx = new long[access.Indices.Length];
                for (var d = 0; d < idx.Length; d++)
                {
                    if (access.GatherAt(d) is { } g)
                    {
                        if (Gather(e, g, access, d, point) is not { } at) return null;
                        idx[d] = at;
                    }
                    else idx[d] = access.Indices[d].Evaluate(point);
                }
                return Element(access.Tensor, idx);
            case UnaryBound u:
                return Eval(e, u.Operand, point) is { } a ? ScalarEvaluator.Apply(u.Fn, a) : null;
            case BinaryBound b:
                var l = Eval(e, b.Left, point);
                var rr = Eval(e, b.Right, point);
                // Union only between tensor values: an empty score plus a constant bias stays empty (masked).
                if (b.Fn is BinaryFn.Add or BinaryFn.Max or BinaryFn.Min && b.Left.Reads().Any() && b.Right.Reads().Any())
                {
                    if (l is null) return rr;
                    if (rr is null) return l;
                }
                return l is { } lv && rr is { } rv ? ScalarEvaluator.Apply(b.Fn, lv, rv) : null;
            case BlockMaskExpr m:
                return ScalarEvaluator.Value(m, point);
            case TopKExpr t:
                return TopK(e, t, point);
            default:
                throw new InvalidOperationException("unsupported expression");
        }
    }
}
