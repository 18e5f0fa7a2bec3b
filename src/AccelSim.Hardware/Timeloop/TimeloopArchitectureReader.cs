using System.Collections.Immutable;
using System.Text.RegularExpressions;
using AccelSim.Core;

namespace AccelSim.Hardware.Timeloop;

/// <summary>A Timeloop architecture translated to ours, plus the names a Timeloop mapping may use as spatial targets.</summary>
public sealed record TimeloopArchitecture(Architecture Architecture, ImmutableDictionary<string, string> SpatialTargets, string Dialect);

/// <summary>
/// Reads Timeloop architecture YAML: the legacy v0.2/v0.3 `subtree`/`local` tree and the v0.4 flat `nodes` list.
/// Energies come from an Accelergy ERT when one is given (legacy rule: one vector-access energy per buffer);
/// without one they are zero and the caller is told.
/// </summary>
public static partial class TimeloopArchitectureReader
{
    public static bool IsTimeloop(YNode root) =>
        root.IsMapping && root.Opt("architecture") is { IsMapping: true } a && (a.Has("subtree") || a.Has("nodes"));

    [GeneratedRegex(@"^(.*)\[(\d+)\.\.(\d+)\]$")]
    private static partial Regex RangeName();

    private sealed record Raw(string Name, string Class, Dictionary<string, YNode> Attrs, int Instances, int? MeshX, YNode Node);

    public static TimeloopArchitecture Read(YNode root, ErtFile? ert)
    {
        var a = root.Req("architecture");
        var raws = new List<Raw>();
        var spatialTargets = ImmutableDictionary.CreateBuilder<string, string>();
        string dialect;
        double clock = 1e9;
        if (a.Has("subtree"))
        {
            dialect = "timeloop-v0.2";
            foreach (var st in a.Req("subtree").Items) Visit(st, 1, new Dictionary<string, YNode>(), raws, spatialTargets);
        }
        else
        {
            dialect = "timeloop-v0.4";
            int mult = 1, meshX = 1;
            var attrs = new Dictionary<string, YNode>();
            string? lastStorage = null;
            foreach (var n in a.Req("nodes").Items)
            {
                var name = n.Req("name").Text;
                if (n.Opt("attributes") is { } at)
                    foreach (var (k, v) in at.Entries)
                        if (!n.Has("class")) attrs[k] = v;
                if (!n.Has("class"))
                {
                    if (n.Opt("attributes")?.Opt("global_cycle_seconds") is { } gcs) clock = 1.0 / gcs.AsDouble();
                    if (n.Opt("spatial") is { } sp)
                    {
                        var mx = sp.OptLong("meshX") ?? 1;
                        var my = sp.OptLong("meshY") ?? 1;
                        mult *= (int)(mx * my);
                        meshX *= (int)mx;
                        if (lastStorage is not null) spatialTargets[name] = lastStorage;
                    }
                    continue;
                }
                var merged = new Dictionary<string, YNode>(attrs);
                if (n.Opt("attributes") is { } ca) foreach (var (k, v) in ca.Entries) merged[k] = v;
                var raw = new Raw(name, n.Req("class").Text, merged, mult, meshX, n);
                raws.Add(raw);
                if (!IsCompute(raw.Class)) lastStorage = name;
            }
        }
        if (a.Opt("subtree")?.Items.FirstOrDefault()?.Opt("attributes")?.Opt("global_cycle_seconds") is { } g) clock = 1.0 / g.AsDouble();

        var storage = ImmutableArray.CreateBuilder<StorageLevel>();
        ComputeUnit? compute = null;
        string? parent = null;
        foreach (var r in raws)
        {
            if (IsCompute(r.Class))
            {
                if (compute is not null) throw r.Node.Error("only one arithmetic component is supported");
                if (parent is null) throw r.Node.Error("the arithmetic unit needs a storage level above it");
                var e = ert?.ComputeEnergy(r.Name) ?? 0;
                var energies = ImmutableDictionary<string, Sourced>.Empty.Add("mac", new Sourced(e, ert is null ? null : $"{Path.GetFileName(ert.File)}: {r.Name}"));
                compute = new ComputeUnit(r.Name, parent, r.Instances, MeshX(r), energies,
                    ImmutableArray.Create(new ComputeOperation("mac", 1, ImmutableArray.Create(new ActionCount("mac", 1)), "Timeloop: one MAC per cycle")),
                    Sourced.Zero, new Sourced(ert?.Areas.GetValueOrDefault(r.Name) ?? 0, null), r.Node.Location);
                continue;
            }
            storage.Add(ToLevel(r, parent, ert));
            parent = r.Name;
        }
        if (compute is null) throw a.Error("no arithmetic unit (a component whose class is a MAC) was found");
        var arch = new Architecture(Path.GetFileNameWithoutExtension(root.File), clock,
            Tech(raws.SelectMany(r => r.Attrs.TryGetValue("technology", out var t) ? new[] { t.Text } : Array.Empty<string>()).FirstOrDefault()),
            storage.ToImmutable(), ImmutableArray.Create(compute), $"imported from Timeloop {dialect} {root.File}", root.File);
        ArchitectureLoader.ValidateMeshes(arch, a);
        return new TimeloopArchitecture(arch, spatialTargets.ToImmutable(), dialect);
    }

    private static double Tech(string? t)
    {
        if (t is null) return 45;
        var digits = new string(t.TakeWhile(ch => char.IsDigit(ch) || ch == '.').ToArray());
        return Invariant.TryParseDouble(digits, out var v) && v > 0 ? v : 45;
    }

    private static bool IsCompute(string cls)
    {
        var c = cls.ToLowerInvariant();
        return c.Contains("mac") || c is "compute" or "alu" or "adder" or "multiplier";
    }

    private static int MeshX(Raw r) => r.MeshX is { } m && m > 0 ? Math.Min(m, r.Instances) : r.Instances;

    private static void Visit(YNode node, int mult, Dictionary<string, YNode> inherited, List<Raw> raws,
        ImmutableDictionary<string, string>.Builder spatial)
    {
        var (_, rep) = SplitName(node.Req("name"));
        var attrs = new Dictionary<string, YNode>(inherited);
        if (node.Opt("attributes") is { } at) foreach (var (k, v) in at.Entries) attrs[k] = v;
        var m = mult * rep;
        if (node.Opt("local") is { } local)
            foreach (var c in local.Items)
            {
                var (cname, crep) = SplitName(c.Req("name"));
                var merged = new Dictionary<string, YNode>(attrs);
                if (c.Opt("attributes") is { } ca) foreach (var (k, v) in ca.Entries) merged[k] = v;
                int? meshX = merged.TryGetValue("meshX", out var mx) ? mx.AsInt() : null;
                raws.Add(new Raw(cname, c.Req("class").Text, merged, m * crep, meshX, c));
            }
        if (node.Opt("subtree") is { } sub)
            foreach (var st in sub.Items) Visit(st, m, attrs, raws, spatial);
    }

    private static (string Name, int Replication) SplitName(YNode n)
    {
        var match = RangeName().Match(n.Text);
        if (!match.Success) return (n.Text, 1);
        var lo = int.Parse(match.Groups[2].Value, Invariant.Culture);
        var hi = int.Parse(match.Groups[3].Value, Invariant.Culture);
        if (hi < lo) throw n.Error("empty instance range");
        return (match.Groups[1].Value, hi - lo + 1);
    }

    private static StorageLevel ToLevel(Raw r, string? parent, ErtFile? ert)
    {
        int? Int(params string[] keys)
        {
            foreach (var k in keys)
                if (r.Attrs.TryGetValue(k, out var v) && !v.IsNull) return v.AsInt();
            return null;
        }
        double? Dbl(params string[] keys)
        {
            foreach (var k in keys)
                if (r.Attrs.TryGetValue(k, out var v) && !v.IsNull) return v.AsDouble();
            return null;
        }
        var wordBits = Int("word-bits", "word_bits", "datawidth") ?? 16;
        var width = Int("width", "memory_width");
        var block = Int("block-size", "block_size") ?? (width is { } w ? Math.Max(1, w / wordBits) : 1);
        var depth = Int("depth", "memory_depth");
        long? capacity = r.Class.Equals("DRAM", StringComparison.OrdinalIgnoreCase) || depth is null ? null : (long)depth.Value * block;
        var vae = ert?.VectorAccessEnergy(r.Name);
        var src = ert is null ? null : $"{Path.GetFileName(ert.File)}: {r.Name} (legacy Timeloop: max read/write energy per vector access)";
        var e = new Sourced(vae ?? 0, src);
        var cls = r.Class.ToLowerInvariant();
        var ourClass = cls == "dram" ? "dram" : cls.Contains("regfile") || cls.EndsWith("_rf", StringComparison.Ordinal) ? "regfile" : "sram";
        return new StorageLevel(r.Name, ourClass, parent, capacity, wordBits, block,
            Dbl("read_bandwidth"), Dbl("write_bandwidth"), null, r.Instances, MeshX(r),
            Dbl("multiple_buffering", "multiple-buffering") ?? 1, null, e, e, e, Sourced.Zero,
            new Sourced(ert?.Areas.GetValueOrDefault(r.Name) ?? 0, null), r.Node.Location);
    }
}
