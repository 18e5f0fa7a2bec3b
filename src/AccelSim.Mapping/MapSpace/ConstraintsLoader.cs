using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Mapping.MapSpaces;

/// <summary>
/// Reads map-space constraint files: AccelSim's own format (`constraints:`) and Timeloop's legacy
/// `mapspace_constraints:` / `architecture_constraints:` (format detected from the content).
/// <code>
/// constraints:
///   einsum: QK                 # optional: only applies when mapping this Einsum
///   min_utilization: 0.5       # busy compute units / all compute units
///   levels:
///     - level: GlobalBuffer
///       temporal: K=4 P=rest C&lt;=8   # fixed, remainder, at most, at least (C&gt;=2)
///       spatial_x: K=16        # factors of the fan-out below the level, per mesh axis
///       spatial: M&lt;=16        # ... or of the whole fan-out (X times Y)
///       spatial_x_ranks: [K]   # only these ranks may spread along mesh X (others get factor 1)
///       spatial_y_ranks: [C]
///       order: "* K P"         # loops outermost first; * = the other loops in any order; a list = alternatives
///       keep: [Inputs]
///       bypass: [Outputs]
/// </code>
/// </summary>
public static class ConstraintsLoader
{
    public static bool IsOurFormat(YNode root) => root.IsMapping && root.Has("constraints");

    /// <param name="spatialTargets">Timeloop v0.4 container names that spatial directives may target, mapped to the storage level above them.</param>
    /// <param name="einsums">Every Einsum of the workload being mapped, when it is a cascade: an `einsum:` naming none
    /// of them is an error (a typo would otherwise make the file silently apply to nothing).</param>
    public static MapSpaceConstraints Load(string path, ProblemShape problem, IReadOnlyDictionary<string, string>? spatialTargets = null,
        IReadOnlyCollection<string>? einsums = null)
    {
        if (!File.Exists(path)) throw new InputException(null, "--constraints", $"file not found: {path}");
        var root = YNode.LoadFile(path);
        if (IsOurFormat(root)) return Parse(root, problem, einsums);
        if (TimeloopConstraintsReader.IsTimeloop(root)) return TimeloopConstraintsReader.Read(root, problem, spatialTargets);
        throw root.Error("not a constraints file (expected AccelSim `constraints: {levels}` or Timeloop `mapspace_constraints:` / `architecture_constraints:`)");
    }

    public static MapSpaceConstraints LoadAll(IEnumerable<string> paths, ProblemShape problem, IReadOnlyDictionary<string, string>? spatialTargets = null,
        IReadOnlyCollection<string>? einsums = null)
    {
        var all = MapSpaceConstraints.None;
        foreach (var p in paths) all = all.Concat(Load(p, problem, spatialTargets, einsums));
        return all;
    }

    public static MapSpaceConstraints Parse(YNode root, ProblemShape problem, IReadOnlyCollection<string>? einsums = null)
    {
        root.ExpectOnlyKeys("constraints");
        var c = root.Req("constraints");
        c.ExpectOnlyKeys("einsum", "min_utilization", "levels", "source", "notes");
        if (c.Opt("einsum") is { IsNull: false } einsumNode)
        {
            var einsum = einsumNode.Text;
            var known = einsums ?? [problem.Name];
            if (!known.Contains(einsum))
                throw einsumNode.Error($"the workload has no Einsum '{einsum}'{Suggest.DidYouMean(einsum, known)} (Einsums: {string.Join(", ", known)})");
            if (einsum != problem.Name)
                return new MapSpaceConstraints(ImmutableArray<MapDirective>.Empty, ImmutableArray.Create(root.File));
        }
        var list = ImmutableArray.CreateBuilder<MapDirective>();
        if (c.Opt("min_utilization") is { IsNull: false } mu)
        {
            var v = mu.AsDouble();
            if (v is < 0 or > 1 || double.IsNaN(v)) throw mu.Error($"must be between 0 and 1, found {Invariant.Num(v)}");
            list.Add(new MinUtilizationDirective(v, mu.Location, mu.Path));
        }
        if (c.Opt("levels") is { IsNull: false } levels)
            foreach (var l in levels.Items)
            {
                l.ExpectOnlyKeys("level", "temporal", "spatial", "spatial_x", "spatial_y", "spatial_x_ranks", "spatial_y_ranks", "order", "keep", "bypass");
                var level = l.Req("level").Text;
                void Factors(string key, FactorSlot slot)
                {
                    if (l.Opt(key) is { IsNull: false } n) list.AddRange(FactorSyntax.Parse(n, level, slot, problem, timeloopZeroIsRest: true));
                }
                Factors("temporal", FactorSlot.Temporal);
                Factors("spatial", FactorSlot.Spatial);
                Factors("spatial_x", FactorSlot.SpatialX);
                Factors("spatial_y", FactorSlot.SpatialY);
                foreach (var (key, axis) in new[] { ("spatial_x_ranks", MeshAxis.X), ("spatial_y_ranks", MeshAxis.Y) })
                    if (l.Opt(key) is { } rn)
                    {
                        var dims = rn.IsNull ? ImmutableArray<string>.Empty
                            : rn.ItemsOrSingle.SelectMany(i => i.Text.Split(new[] { ' ', ',' }, StringSplitOptions.RemoveEmptyEntries)).ToImmutableArray();
                        foreach (var d in dims) FactorSyntax.CheckDim(rn, d, problem);
                        list.Add(new SpatialRanksDirective(level, axis, dims, rn.Location, rn.Path));
                    }
                if (l.Opt("order") is { IsNull: false } on)
                {
                    var alts = on.ItemsOrSingle.Select(i => ParsePattern(i, problem)).ToImmutableArray();
                    list.Add(new OrderDirective(level, alts, on.Location, on.Path));
                }
                foreach (var (key, keep) in new[] { ("keep", true), ("bypass", false) })
                    if (l.Opt(key) is { IsNull: false } kn)
                        foreach (var t in kn.ItemsOrSingle)
                        {
                            if (problem.TensorIndex(t.Text) < 0)
                                throw t.Error($"unknown tensor '{t.Text}'{Suggest.DidYouMean(t.Text, problem.Tensors.Select(x => x.Name))} (tensors: {string.Join(", ", problem.Tensors.Select(x => x.Name))})");
                            list.Add(new KeepDirective(level, t.Text, keep, t.Location, kn.Path));
                        }
            }
        return new MapSpaceConstraints(list.ToImmutable(), ImmutableArray.Create(root.File));
    }

    /// <summary>`K * P R`: outermost first; `*` (at most once) stands for the loops not named.</summary>
    private static OrderPattern ParsePattern(YNode n, ProblemShape problem)
    {
        var tokens = n.Text.Split(new[] { ' ', ',', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        var outer = ImmutableArray.CreateBuilder<string>();
        var inner = ImmutableArray.CreateBuilder<string>();
        bool star = false;
        var seen = new HashSet<string>();
        foreach (var tok in tokens)
        {
            if (tok == "*")
            {
                if (star) throw n.Error("at most one '*' per order");
                star = true;
                continue;
            }
            FactorSyntax.CheckDim(n, tok, problem);
            if (!seen.Add(tok)) throw n.Error($"dimension '{tok}' appears twice in the order");
            (star ? inner : outer).Add(tok);
        }
        if (!star)
        {
            // An order without '*' that leaves dimensions out lets them go outside the listed ones, as in Timeloop.
            var missing = problem.Dims.Select(d => d.Name).Where(d => !seen.Contains(d)).ToList();
            if (missing.Count > 0) return new OrderPattern(ImmutableArray<string>.Empty, true, outer.ToImmutable());
        }
        return new OrderPattern(outer.ToImmutable(), star, inner.ToImmutable());
    }
}

/// <summary>Factor lists shared by both constraint dialects: `K=16 P=rest C&lt;=8 R&gt;=1`, `K16`, or a YAML mapping.</summary>
public static class FactorSyntax
{
    public static void CheckDim(YNode at, string dim, ProblemShape problem)
    {
        if (problem.DimIndex(dim) < 0)
            throw at.Error($"unknown dimension '{dim}'{Suggest.DidYouMean(dim, problem.Dims.Select(d => d.Name))} (dims: {string.Join(", ", problem.Dims.Select(d => d.Name))})");
    }

    public static IEnumerable<FactorDirective> Parse(YNode n, string level, FactorSlot slot, ProblemShape problem, bool timeloopZeroIsRest)
    {
        var result = new List<FactorDirective>();
        IEnumerable<(string Dim, string Op, string Value)> items;
        if (n.IsMapping) items = n.Entries.Select(e => (e.Key, "=", e.Value.Text));
        else
        {
            var tokens = n.IsSequence ? n.Items.SelectMany(i => Tokens(i.Text)) : Tokens(n.Text);
            items = tokens.Select(tok => Split(n, tok));
        }
        var seen = new HashSet<string>();
        foreach (var (dim, op, value) in items)
        {
            CheckDim(n, dim, problem);
            FactorKind kind;
            long v = 0;
            if (value.Equals("rest", StringComparison.OrdinalIgnoreCase) || value == "*")
            {
                if (op != "=") throw n.Error($"'{dim}{op}{value}': a remainder must be written {dim}=rest");
                kind = FactorKind.Rest;
            }
            else
            {
                if (!Invariant.TryParseLong(value, out v)) throw n.Error($"expected an integer factor for {dim}, found '{value}'");
                if (v < 0) throw n.Error($"factor of {dim} must be >= 0, found {v}");
                kind = op switch { "<=" => FactorKind.Max, ">=" => FactorKind.Min, _ => FactorKind.Fixed };
                if (v == 0)
                {
                    if (kind != FactorKind.Fixed || !timeloopZeroIsRest) throw n.Error($"factor of {dim} must be > 0");
                    kind = FactorKind.Rest; // Timeloop: `=0` puts whatever remains of the dimension at this level.
                }
            }
            if (!seen.Add(dim + op)) throw n.Error($"dimension '{dim}' is constrained twice here");
            result.Add(new FactorDirective(level, slot, dim, kind, v, n.Location, n.Path));
        }
        return result;
    }

    private static IEnumerable<string> Tokens(string text) =>
        text.Split(new[] { ' ', ',', '\t' }, StringSplitOptions.RemoveEmptyEntries);

    private static (string, string, string) Split(YNode at, string tok)
    {
        foreach (var op in new[] { "<=", ">=", "=" })
        {
            var i = tok.IndexOf(op, StringComparison.Ordinal);
            if (i > 0) return (tok[..i], op, tok[(i + op.Length)..]);
        }
        // Timeloop also accepts `K16` (name immediately followed by the number).
        var j = tok.IndexOfAny("0123456789".ToCharArray());
        if (j > 0 && tok[j..].All(char.IsDigit)) return (tok[..j], "=", tok[j..]);
        throw at.Error($"expected DIM=FACTOR (or DIM<=N, DIM>=N, DIM=rest), found '{tok}'");
    }
}
