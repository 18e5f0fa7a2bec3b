using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Einsum.Loading;

/// <summary>A rank as written: a size formula, optionally split into partitions (outer to inner).</summary>
public sealed record RankSpec(string Name, string SizeText, YNode Node, ImmutableArray<(string Name, string? SizeText, YNode Node)> Split);

public sealed record TensorSpec(string Name, ImmutableArray<string> Ranks, int? WordBits, string? Role, YNode Node);

public sealed record EinsumSpec(string? Name, string Text, YNode TextNode, string? Where, YNode? WhereNode, double? Init, YNode Node)
{
    /// <summary>`density:`, the declared fraction of points a data-dependent `where:` keeps.</summary>
    public YNode? Density { get; init; }
}

/// <summary>
/// A workload file as written (before parameters are bound). Parse once, bind many times (sweeps do this).
/// </summary>
public sealed record WorkloadSpec(
    string Name,
    string? Description,
    string? Source,
    string File,
    string? ModelFile,
    ImmutableArray<ParamSource> Params,
    ImmutableArray<RankSpec> Ranks,
    ImmutableArray<TensorSpec> Tensors,
    ImmutableArray<EinsumSpec> Einsums,
    ImmutableArray<string> Outputs,
    YNode? Attention,
    ImmutableDictionary<string, YNode> Extensions)
{
    /// <summary>Top-level sections other engines own (parsed by them from <see cref="Extensions"/>); notes are free text.</summary>
    public static readonly ImmutableArray<string> ExtensionSections = ["pruning", "sparsity", "notes"];

    /// <summary>
    /// The direct formula `accelsim check` compares this cascade with by default (`reference: sigmoid-attention`); null
    /// when the file names none. <see cref="ReferenceNode"/> locates it for errors.
    /// </summary>
    public string? Reference { get; init; }

    public YNode? ReferenceNode { get; init; }

    /// <summary>The longest chain of `extends:` accepted (a variant of a variant of ...).</summary>
    public const int MaxExtendsDepth = 16;

    public static WorkloadSpec Parse(YNode root) => Parse(root, []);

    private static WorkloadSpec Parse(YNode root, ImmutableList<string> extendedFrom)
    {
        if (!root.IsMapping) throw root.Error("a workload file must be a YAML mapping");
        if (root.Opt("extends") is { IsNull: false } extends) return ParseVariant(root, extends, extendedFrom);
        root.ExpectOnlyKeys([.. new[] { "name", "description", "source", "model", "params", "ranks", "tensors", "einsums", "outputs", "attention", "reference" }, .. ExtensionSections]);

        var file = root.File;
        var name = root.OptString("name") ?? Path.GetFileNameWithoutExtension(file);
        string? modelFile = null;
        if (root.Opt("model") is { IsNull: false } m)
            modelFile = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", m.Text));

        var ps = ImmutableArray.CreateBuilder<ParamSource>();
        if (root.Opt("params") is { IsNull: false } pnode)
            foreach (var (key, value) in pnode.Entries)
            {
                if (key.StartsWith('+'))
                    throw new InputException(pnode.KeyLocation(key), value.Path, $"'{key}': a leading + adds a parameter only in an extends: variant; here write {key[1..]}");
                ps.Add(ParamFromNode(key, value, "workload"));
            }

        var ranks = ImmutableArray.CreateBuilder<RankSpec>();
        foreach (var (key, value) in root.Req("ranks").Entries)
        {
            if (value.IsScalar) { ranks.Add(new RankSpec(key, value.Text, value, [])); continue; }
            value.ExpectOnlyKeys("size", "split");
            var size = value.Req("size");
            var split = ImmutableArray.CreateBuilder<(string, string?, YNode)>();
            if (value.Opt("split") is { IsNull: false } s)
                foreach (var (pname, pval) in s.Entries)
                    split.Add((pname, pval.IsNull || pval.Text == "auto" ? null : pval.Text, pval));
            ranks.Add(new RankSpec(key, size.Text, size, split.ToImmutable()));
        }

        var tensors = ImmutableArray.CreateBuilder<TensorSpec>();
        if (root.Opt("tensors") is { IsNull: false } tnode)
            foreach (var (key, value) in tnode.Entries)
            {
                if (value.IsSequence)
                {
                    tensors.Add(new TensorSpec(key, [.. value.Items.Select(i => i.Text)], null, null, value));
                    continue;
                }
                value.ExpectOnlyKeys("ranks", "word_bits", "role", "description");
                var role = value.OptString("role");
                if (role is not (null or "input" or "output" or "intermediate"))
                    throw value.Req("role").Error("role must be input, output or intermediate");
                tensors.Add(new TensorSpec(key, [.. value.Req("ranks").Items.Select(i => i.Text)],
                    value.Opt("word_bits") is { IsNull: false } wb ? wb.AsInt() : null, role, value));
            }

        var einsums = ImmutableArray.CreateBuilder<EinsumSpec>();
        var enode = root.Req("einsums");
        foreach (var item in enode.Items)
        {
            if (item.IsScalar) { einsums.Add(new EinsumSpec(null, item.Text, item, null, null, null, item)); continue; }
            item.ExpectOnlyKeys("name", "expr", "where", "init", "density", "description");
            var expr = item.Req("expr");
            var where = item.Opt("where");
            einsums.Add(new EinsumSpec(item.OptString("name"), expr.Text, expr,
                where is { IsNull: false } ? where.Text : null, where is { IsNull: false } ? where : null,
                item.OptDouble("init"), item) { Density = item.Opt("density") is { IsNull: false } dn ? dn : null });
        }
        if (einsums.Count == 0) throw enode.Error("a workload needs at least one Einsum");

        var outputs = root.Opt("outputs") is { IsNull: false } o
            ? o.ItemsOrSingle.Select(i => i.Text).ToImmutableArray()
            : ImmutableArray<string>.Empty;

        var ext = ExtensionSections.Where(root.Has).ToImmutableDictionary(k => k, k => root.Req(k));

        return new WorkloadSpec(name, root.OptString("description"), root.OptString("source"), file, modelFile,
            ps.ToImmutable(), ranks.ToImmutable(), tensors.ToImmutable(), einsums.ToImmutable(), outputs,
            root.Opt("attention") is { IsNull: false } a ? a : null, ext)
        {
            Reference = ReferenceName(root),
            ReferenceNode = root.Opt("reference") is { IsNull: false } r ? r : null,
        };
    }

    /// <summary>
    /// A variant (`extends: base.yaml`) reuses a base workload's ranks, tensors and Einsums and changes only its name,
    /// description, model and parameter defaults (e.g. multi-query attention = grouped-query with kv_heads = 1), and may
/// add parameters written `+name: value` (used by the overridden formulas, or set with --set).
    /// </summary>
    private static WorkloadSpec ParseVariant(YNode root, YNode extends, ImmutableList<string> extendedFrom)
    {
        root.ExpectOnlyKeys("extends", "name", "description", "source", "model", "params", "reference");
        var dir = Path.GetDirectoryName(Path.GetFullPath(root.File)) ?? ".";
        var basePath = Path.Combine(dir, extends.Text);
        if (!System.IO.File.Exists(basePath)) throw extends.Error($"base workload '{extends.Text}' not found");
        var chain = extendedFrom.Add(Path.GetFullPath(root.File));
        if (chain.Contains(Path.GetFullPath(basePath)))
            throw extends.Error($"extends itself: {string.Join(" -> ", chain.Append(Path.GetFullPath(basePath)).Select(Path.GetFileName))}");
        if (chain.Count > MaxExtendsDepth)
            throw extends.Error($"more than {MaxExtendsDepth} files extend one another");
        var b = Parse(YNode.LoadFile(basePath), chain);
        var ps = b.Params.ToList();
        if (root.Opt("params") is { IsNull: false } pnode)
            foreach (var (key, value) in pnode.Entries)
            {
                // `+name` adds a parameter the base lacks (as `+arch.path` adds a field in sweeps); a plain name
                // must override one, so a typo is an error rather than a silently unused parameter.
                var adds = key.StartsWith('+');
                var name = adds ? key[1..] : key;
                var i = ps.FindIndex(p => p.Name == name);
                if (adds)
                {
                    if (!IsParamName(name))
                        throw new InputException(pnode.KeyLocation(key), value.Path, $"'{key}': write + followed by a parameter name (a letter or _, then letters, digits or _)");
                    if (i >= 0)
                        throw new InputException(pnode.KeyLocation(key), value.Path, $"the base workload {b.Name} already has parameter '{name}' (drop the + to override it)");
                    ps.Add(ParamFromNode(name, value, "workload"));
                    continue;
                }
                if (i < 0)
                    throw new InputException(pnode.KeyLocation(key), value.Path,
                        $"the base workload {b.Name} has no parameter '{key}'{Suggest.DidYouMean(key, b.Params.Select(p => p.Name))}; write +{key} to add it");
                ps[i] = ParamFromNode(key, value, "workload");
            }
        string? model = b.ModelFile;
        if (root.Opt("model") is { IsNull: false } m) model = Path.GetFullPath(Path.Combine(dir, m.Text));
        return b with
        {
            Name = root.OptString("name") ?? Path.GetFileNameWithoutExtension(root.File),
            Description = root.OptString("description") ?? b.Description,
            Source = root.OptString("source") ?? b.Source,
            File = root.File,
            ModelFile = model,
            Params = [.. ps],
            Reference = ReferenceName(root) ?? b.Reference,
            ReferenceNode = root.Opt("reference") is { IsNull: false } r ? r : b.ReferenceNode,
        };
    }

    /// <summary>`reference:` names one of the built-in direct formulas (checked here so every verb rejects a typo).</summary>
    private static string? ReferenceName(YNode root)
    {
        if (root.Opt("reference") is not { IsNull: false } node) return null;
        var names = Checking.DirectFormulas.Names;
        if (!node.IsScalar) throw node.Error($"reference must be the name of a direct formula ({string.Join(", ", names)})");
        if (Checking.DirectFormulas.Find(node.Text) is null)
            throw node.Error($"unknown reference '{node.Text}'{Suggest.DidYouMean(node.Text, names)} (known: {string.Join(", ", names)})");
        return node.Text;
    }

    private static bool IsParamName(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');

    internal static ParamSource ParamFromNode(string key, YNode value, string origin)
    {
        if (!value.IsScalar || value.IsNull) throw value.Error("a parameter must be a number, true/false or a formula");
        // A plain scalar's column is exact; quoted scalars start one character later.
        return new ParamSource(key, value.Text, value.Location, value.Path, 0, origin);
    }
}
