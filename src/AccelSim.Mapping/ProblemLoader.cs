using System.Collections.Immutable;
using System.Text;
using AccelSim.Core;

namespace AccelSim.Mapping;

/// <summary>
/// AccelSim's single-Einsum problem YAML:
/// <code>
/// problem:
///   name: conv1d
///   dims: {K: 32, C: 16, P: 16, R: 3}
///   coefficients: {stride: 1}        # optional named constants usable in rank expressions
///   ops: {mac: 1}                    # per-point operation counts (default mac: 1)
///   word_bits: 16                    # optional default tensor width
///   tensors:
///     Weights: [K, C, R]
///     Inputs: [C, "P*stride + R"]
///     Outputs: {ranks: [K, P], output: true}
/// </code>
/// </summary>
public static class ProblemLoader
{
    public static bool IsOurFormat(YNode root) =>
        root.IsMapping && root.Opt("problem") is { IsMapping: true } p && p.Has("dims") && p.Has("tensors");

    public static ProblemShape Load(string path) => Parse(YNode.LoadFile(path));

    public static ProblemShape Parse(YNode root)
    {
        root.ExpectOnlyKeys("problem");
        var p = root.Req("problem");
        p.ExpectOnlyKeys("name", "dims", "coefficients", "ops", "word_bits", "tensors", "source", "notes");
        var dims = ImmutableArray.CreateBuilder<ProblemDim>();
        foreach (var (name, n) in p.Req("dims").Entries)
        {
            var size = n.AsLong();
            if (size <= 0) throw n.Error($"size must be > 0, found {size}");
            if (dims.Any(d => d.Name == name)) throw n.Error("duplicate dimension");
            dims.Add(new ProblemDim(name, size));
        }
        var dimArr = dims.ToImmutable();
        var coeffs = new Dictionary<string, long>();
        if (p.Opt("coefficients") is { } cn)
            foreach (var (k, v) in cn.Entries) coeffs[k] = v.AsLong();
        int? defaultBits = p.OptLong("word_bits") is { } wb ? (int)wb : null;
        if (defaultBits is <= 0) throw p.Req("word_bits").Error("must be > 0");
        var tensors = ImmutableArray.CreateBuilder<DataSpace>();
        foreach (var (name, tn) in p.Req("tensors").Entries)
        {
            YNode ranksNode = tn;
            bool output = false;
            int? bits = defaultBits;
            if (tn.IsMapping)
            {
                tn.ExpectOnlyKeys("ranks", "output", "word_bits");
                ranksNode = tn.Req("ranks");
                output = tn.OptBool("output") ?? false;
                if (tn.OptLong("word_bits") is { } b) bits = b > 0 ? (int)b : throw tn.Req("word_bits").Error("must be > 0");
            }
            var ranks = ranksNode.Items.Select(r => RankExpression.Parse(r.Text, dimArr, coeffs, r)).ToImmutableArray();
            tensors.Add(new DataSpace(name, ranks, output, bits));
        }
        var ops = ImmutableArray.CreateBuilder<OpCount>();
        if (p.Opt("ops") is { } on)
            foreach (var (k, v) in on.Entries)
            {
                var c = v.AsDouble();
                if (c < 0) throw v.Error("must be >= 0");
                ops.Add(new OpCount(k, c));
            }
        else ops.Add(new OpCount("mac", 1));
        try
        {
            return ProblemShape.Create(p.OptString("name") ?? Path.GetFileNameWithoutExtension(root.File), dimArr, tensors.ToImmutable(), ops.ToImmutable());
        }
        catch (InputException e) when (e.Location is null)
        {
            throw new InputException(p.Location, "problem." + e.Field, e.Problem);
        }
    }

    public static string ToYaml(ProblemShape problem, string? header = null)
    {
        var sb = new StringBuilder();
        if (header is not null) foreach (var l in header.Split('\n')) sb.Append("# ").AppendLine(l.TrimEnd());
        sb.AppendLine("problem:");
        sb.AppendLine($"  name: {Hardware.Yaml.Str(problem.Name)}");
        sb.AppendLine("  dims: {" + string.Join(", ", problem.Dims.Select(d => $"{Hardware.Yaml.Key(d.Name)}: {d.Size}")) + "}");
        sb.AppendLine("  ops: {" + string.Join(", ", problem.OpsPerPoint.Select(o => $"{Hardware.Yaml.Key(o.Kind)}: {Invariant.Num(o.Count)}")) + "}");
        sb.AppendLine("  tensors:");
        foreach (var t in problem.Tensors)
        {
            var ranks = "[" + string.Join(", ", t.Ranks.Select(r => Hardware.Yaml.Str(r.Format(problem.Dims)))) + "]";
            var extra = (t.IsOutput ? ", output: true" : "") + (t.WordBits is { } b ? $", word_bits: {b}" : "");
            sb.AppendLine(t.IsOutput || t.WordBits is not null
                ? $"    {Hardware.Yaml.Key(t.Name)}: {{ranks: {ranks}{extra}}}"
                : $"    {Hardware.Yaml.Key(t.Name)}: {ranks}");
        }
        return sb.ToString();
    }
}

/// <summary>Parses rank expressions such as `P`, `2*P + R`, `P*stride + R*dilation - 1`.</summary>
public static class RankExpression
{
    public static TensorRank Parse(string text, ImmutableArray<ProblemDim> dims, IReadOnlyDictionary<string, long> coefficients, YNode at)
    {
        var terms = new Dictionary<int, long>();
        long constant = 0;
        var s = text.Replace(" ", "");
        if (s.Length == 0) throw at.Error("empty rank expression");
        int i = 0;
        while (i < s.Length)
        {
            long sign = 1;
            if (s[i] is '+' or '-') { sign = s[i] == '-' ? -1 : 1; i++; }
            var start = i;
            while (i < s.Length && s[i] is not ('+' or '-')) i++;
            var term = s[start..i];
            if (term.Length == 0) throw at.Error($"malformed rank expression '{text}'");
            long coeff = sign;
            int dim = -1;
            foreach (var factor in term.Split('*'))
            {
                if (Invariant.TryParseLong(factor, out var n)) coeff *= n;
                else if (coefficients.TryGetValue(factor, out var cv)) coeff *= cv;
                else
                {
                    var di = -1;
                    for (int k = 0; k < dims.Length; k++) if (dims[k].Name == factor) di = k;
                    if (di < 0) throw at.Error($"unknown dimension or coefficient '{factor}' in '{text}' (dims: {string.Join(", ", dims.Select(d => d.Name))})");
                    if (dim >= 0) throw at.Error($"a term may name only one dimension: '{term}'");
                    dim = di;
                }
            }
            if (dim < 0) constant += coeff;
            else terms[dim] = terms.GetValueOrDefault(dim) + coeff;
        }
        return new TensorRank(terms.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key)
            .Select(kv => new ProjectionTerm(kv.Key, kv.Value)).ToImmutableArray(), constant);
    }
}
