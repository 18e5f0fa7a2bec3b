using System.Collections.Immutable;
using System.Text;
using AccelSim.Core;
using AccelSim.Hardware;

namespace AccelSim.Mapping;

/// <summary>A loop bound on one dimension at one level.</summary>
public readonly record struct LoopFactor(string Dim, long Factor);

/// <summary>
/// What one storage level does: its temporal loops (outermost first), the spatial loops of its fan-out to the
/// next level down (mesh X and mesh Y), and which tensors it keeps. <see cref="Keep"/> null means "every tensor
/// the level may hold"; <see cref="Bypass"/> removes tensors from that set.
/// </summary>
public sealed record LevelMapping(
    string Level,
    ImmutableArray<LoopFactor> Temporal,
    ImmutableArray<LoopFactor> SpatialX,
    ImmutableArray<LoopFactor> SpatialY,
    ImmutableArray<string>? Keep = null,
    ImmutableArray<string>? Bypass = null,
    SourceLocation? Location = null)
{
    public static LevelMapping Empty(string level) =>
        new(level, ImmutableArray<LoopFactor>.Empty, ImmutableArray<LoopFactor>.Empty, ImmutableArray<LoopFactor>.Empty);
}

/// <summary>A complete mapping of one Einsum onto one architecture path (levels outermost first).</summary>
public sealed record Mapping(ImmutableArray<LevelMapping> Levels, string? Compute = null, string? File = null)
{
    public LevelMapping? For(string level) => Levels.FirstOrDefault(l => l.Level == level);
}

/// <summary>
/// AccelSim mapping YAML:
/// <code>
/// mapping:
///   compute: PE            # optional: which compute unit (default: the first able to run the Einsum)
///   levels:                # outermost first
///     - level: DRAM
///       temporal: K=2 P=4  # loops outermost first; missing dims have factor 1
///     - level: GlobalBuffer
///       temporal: C=4
///       spatial_x: K=16    # fan-out to the next level down along mesh X
///       bypass: [Outputs]  # or keep: [...]
/// </code>
/// </summary>
public static class MappingLoader
{
    public static bool IsOurFormat(YNode root) =>
        root.IsMapping && root.Opt("mapping") is { } m &&
        ((m.IsMapping && m.Has("levels")) || (m.IsSequence && m.Items.All(i => i.IsMapping && i.Has("level"))));

    public static Mapping Load(string path) => Parse(YNode.LoadFile(path));

    public static Mapping Parse(YNode root)
    {
        root.ExpectOnlyKeys("mapping");
        var m = root.Req("mapping");
        string? compute = null;
        YNode levels = m;
        if (m.IsMapping)
        {
            m.ExpectOnlyKeys("compute", "levels", "source", "notes");
            compute = m.OptString("compute");
            levels = m.Req("levels");
        }
        var list = ImmutableArray.CreateBuilder<LevelMapping>();
        foreach (var l in levels.Items)
        {
            l.ExpectOnlyKeys("level", "temporal", "spatial_x", "spatial_y", "keep", "bypass");
            var name = l.Req("level").Text;
            if (list.Any(x => x.Level == name)) throw l.Req("level").Error($"level '{name}' is mapped twice");
            if (l.Opt("keep") is { } keepNode && l.Opt("bypass") is { } bypassNode)
            {
                var kept = keepNode.ItemsOrSingle.Where(i => !i.IsNull).Select(i => i.Text).ToHashSet(StringComparer.Ordinal);
                if (bypassNode.ItemsOrSingle.FirstOrDefault(i => !i.IsNull && kept.Contains(i.Text)) is { } both)
                    throw both.Error($"tensor '{both.Text}' is both kept and bypassed at level {name}; list it in one of keep or bypass");
            }
            list.Add(new LevelMapping(name, Factors(l.Opt("temporal")), Factors(l.Opt("spatial_x")), Factors(l.Opt("spatial_y")),
                l.Opt("keep") is { } k ? k.ItemsOrSingle.Where(i => !i.IsNull).Select(i => i.Text).ToImmutableArray() : null,
                l.Opt("bypass") is { } b ? b.ItemsOrSingle.Where(i => !i.IsNull).Select(i => i.Text).ToImmutableArray() : null,
                l.Location));
        }
        return new Mapping(list.ToImmutable(), compute, root.File);
    }

    /// <summary>`P=4 K=2` (a string, loops in written order) or a YAML mapping `{P: 4, K: 2}`.</summary>
    public static ImmutableArray<LoopFactor> Factors(YNode? n)
    {
        if (n is null || n.IsNull) return ImmutableArray<LoopFactor>.Empty;
        var result = ImmutableArray.CreateBuilder<LoopFactor>();
        if (n.IsMapping)
        {
            foreach (var (k, v) in n.Entries) result.Add(new LoopFactor(k, FactorValue(v, v.Text)));
            return result.ToImmutable();
        }
        foreach (var tok in n.Text.Split(new[] { ' ', ',', '\t' }, StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = tok.IndexOf('=');
            if (eq <= 0) throw n.Error($"expected DIM=FACTOR, found '{tok}'");
            result.Add(new LoopFactor(tok[..eq], FactorValue(n, tok[(eq + 1)..])));
        }
        return result.ToImmutable();
    }

    private static long FactorValue(YNode at, string text)
    {
        if (!Invariant.TryParseLong(text, out var v)) throw at.Error($"expected an integer factor, found '{text}'");
        if (v <= 0) throw at.Error($"factors must be > 0, found {v}");
        return v;
    }

    public static string ToYaml(Mapping mapping, string? header = null)
    {
        var sb = new StringBuilder();
        if (header is not null) foreach (var l in header.Split('\n')) sb.Append("# ").AppendLine(l.TrimEnd());
        sb.AppendLine("mapping:");
        if (mapping.Compute is { } c) sb.AppendLine($"  compute: {Yaml.Str(c)}");
        sb.AppendLine("  levels:");
        static string F(ImmutableArray<LoopFactor> f) => string.Join(" ", f.Select(x => $"{x.Dim}={x.Factor}"));
        foreach (var l in mapping.Levels)
        {
            sb.AppendLine($"    - level: {Yaml.Str(l.Level)}");
            if (l.Temporal.Length > 0) sb.AppendLine($"      temporal: {F(l.Temporal)}");
            if (l.SpatialX.Length > 0) sb.AppendLine($"      spatial_x: {F(l.SpatialX)}");
            if (l.SpatialY.Length > 0) sb.AppendLine($"      spatial_y: {F(l.SpatialY)}");
            if (l.Keep is { } k) sb.AppendLine($"      keep: [{string.Join(", ", k.Select(Yaml.Str))}]");
            if (l.Bypass is { } b) sb.AppendLine($"      bypass: [{string.Join(", ", b.Select(Yaml.Str))}]");
        }
        return sb.ToString();
    }
}
