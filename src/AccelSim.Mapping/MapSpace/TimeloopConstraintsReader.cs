using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Mapping.MapSpaces;

/// <summary>
/// Reads Timeloop constraint files: legacy v0.2/v0.3 `mapspace_constraints:` and `architecture_constraints:` (a list,
/// or `{targets: [...]}`), and the same keys in v0.4 (`version: 0.4`, `type: dataspace`). Semantics follow Timeloop:
/// * `type: temporal|spatial`: `factors: "K=16 P=0"` fixes factors (a dimension left out is free; `=0` puts whatever
///   remains of the dimension at this level; `K&lt;=16` bounds it); `permutation` lists loops innermost first, and
///   loops it leaves out go outside the listed ones in any order.
/// * `type: spatial`: factors of the fan-out below the target; with `split: N` the first N dimensions of the
///   permutation may only spread along mesh X, the rest only along Y.
/// * `type: bypass|datatype|dataspace`: `keep: [...]` / `bypass: [...]`; tensors not named are free.
/// * `type: utilization|parallelism`: `min: 0.5`, the minimum spatial utilisation.
/// A `mapper:` section (search settings) is ignored: use `--search`, `--objective`, `--budget` instead.
/// </summary>
public static class TimeloopConstraintsReader
{
    private static readonly string[] RootKeys = { "mapspace_constraints", "architecture_constraints", "mapspace" };

    public static bool IsTimeloop(YNode root) => root.IsMapping && RootKeys.Any(root.Has);

    public static MapSpaceConstraints Read(YNode root, ProblemShape problem, IReadOnlyDictionary<string, string>? spatialTargets = null)
    {
        root.ExpectOnlyKeys("mapspace_constraints", "architecture_constraints", "mapspace", "mapper");
        var list = ImmutableArray.CreateBuilder<MapDirective>();
        foreach (var key in RootKeys)
        {
            if (root.Opt(key) is not { IsNull: false } section) continue;
            foreach (var item in Targets(section, key == "mapspace")) Directive(item, problem, spatialTargets, list);
        }
        return new MapSpaceConstraints(list.ToImmutable(), ImmutableArray.Create(root.File));
    }

    private static IReadOnlyList<YNode> Targets(YNode section, bool wrapped)
    {
        if (section.IsSequence) return section.Items;
        if (wrapped && section.Opt("constraints") is { } inner) return Targets(inner, false);
        section.ExpectOnlyKeys("version", "targets", "constraints");
        if (section.Opt("targets") is { IsNull: false } t) return t.Items;
        if (section.Opt("constraints") is { IsNull: false } c) return c.Items;
        return Array.Empty<YNode>();
    }

    private static void Directive(YNode d, ProblemShape problem, IReadOnlyDictionary<string, string>? aliases, ImmutableArray<MapDirective>.Builder list)
    {
        d.ExpectOnlyKeys("target", "type", "factors", "permutation", "split", "keep", "bypass", "min", "name");
        var typeNode = d.Req("type");
        var type = typeNode.Text;
        var targetNode = d.Opt("target") ?? d.Req("name");
        var target = targetNode.Text;
        if (type == "spatial" && aliases is not null && aliases.TryGetValue(target, out var storage)) target = storage;
        switch (type)
        {
            case "temporal":
            case "spatial":
            {
                var slot = type == "temporal" ? FactorSlot.Temporal : FactorSlot.Spatial;
                if (d.Opt("factors") is { IsNull: false } f) list.AddRange(FactorSyntax.Parse(f, target, slot, problem, timeloopZeroIsRest: true));
                var perm = d.Opt("permutation") is { IsNull: false } p ? Permutation(p, problem) : null;
                if (type == "temporal")
                {
                    if (perm is not null)
                    {
                        // Innermost first in Timeloop; ours is outermost first with the free loops outside.
                        var inner = perm.Value.Reverse().ToImmutableArray();
                        list.Add(new OrderDirective(target, ImmutableArray.Create(new OrderPattern(ImmutableArray<string>.Empty, true, inner)),
                            d.Req("permutation").Location, d.Req("permutation").Path));
                    }
                    if (d.Opt("split") is { } sp) throw sp.Error("split applies to spatial directives only");
                }
                else if (d.Opt("split") is { IsNull: false } splitNode)
                {
                    var split = splitNode.AsLong();
                    if (split < 0) throw splitNode.Error($"must be >= 0, found {split}");
                    if (perm is null) throw splitNode.Error("split needs a permutation (its first N dimensions go on mesh X)");
                    for (int i = 0; i < perm.Value.Length; i++)
                        list.Add(new AxisDirective(target, perm.Value[i], i < split ? MeshAxis.X : MeshAxis.Y, splitNode.Location, splitNode.Path));
                }
                break;
            }
            case "bypass":
            case "bypassing":
            case "datatype":
            case "dataspace":
                foreach (var (key, keep) in new[] { ("keep", true), ("bypass", false) })
                    if (d.Opt(key) is { IsNull: false } kn)
                        foreach (var t in kn.ItemsOrSingle)
                        {
                            if (problem.TensorIndex(t.Text) < 0)
                                throw t.Error($"unknown data space '{t.Text}'{Suggest.DidYouMean(t.Text, problem.Tensors.Select(x => x.Name))} (data spaces: {string.Join(", ", problem.Tensors.Select(x => x.Name))})");
                            list.Add(new KeepDirective(target, t.Text, keep, t.Location, kn.Path));
                        }
                break;
            case "utilization":
            case "parallelism":
            {
                var min = d.Req("min");
                var v = min.AsDouble();
                if (v is < 0 or > 1 || double.IsNaN(v)) throw min.Error($"must be between 0 and 1, found {Invariant.Num(v)}");
                list.Add(new MinUtilizationDirective(v, min.Location, min.Path));
                break;
            }
            default:
                throw typeNode.Error($"unsupported constraint type '{type}'{Suggest.DidYouMean(type, ["temporal", "spatial", "bypass", "datatype", "dataspace", "utilization", "parallelism"])} (supported: temporal, spatial, bypass/datatype/dataspace, utilization)");
        }
    }

    /// <summary>Dimension names, innermost first; spaces are only for readability. Longest names match first.</summary>
    private static ImmutableArray<string>? Permutation(YNode n, ProblemShape problem)
    {
        var dims = problem.Dims.Select(d => d.Name).OrderByDescending(d => d.Length).ToList();
        var result = ImmutableArray.CreateBuilder<string>();
        if (n.IsSequence)
        {
            foreach (var i in n.Items)
            {
                FactorSyntax.CheckDim(i, i.Text, problem);
                result.Add(i.Text);
            }
        }
        else
        {
            var s = n.Text.Replace(" ", "").Replace(",", "");
            int k = 0;
            while (k < s.Length)
            {
                var match = dims.FirstOrDefault(d => string.CompareOrdinal(s, k, d, 0, d.Length) == 0)
                            ?? throw n.Error($"cannot read permutation '{n.Text}' at '{s[k..]}' (dims: {string.Join(", ", problem.Dims.Select(d => d.Name))})");
                result.Add(match);
                k += match.Length;
            }
        }
        if (result.Distinct().Count() != result.Count) throw n.Error("a dimension appears twice in the permutation");
        return result.ToImmutable();
    }
}
