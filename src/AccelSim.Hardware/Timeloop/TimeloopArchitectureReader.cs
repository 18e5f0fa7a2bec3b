using System.Collections.Immutable;
using System.Text.RegularExpressions;
using AccelSim.Core;

namespace AccelSim.Hardware.Timeloop;

/// <summary>A Timeloop architecture translated to ours, plus the names a Timeloop mapping may use as spatial targets.</summary>
public sealed record TimeloopArchitecture(Architecture Architecture, ImmutableDictionary<string, string> SpatialTargets, string Dialect);

/// <summary>
/// Reads Timeloop architecture YAML: the legacy v0.2/v0.3 `subtree`/`local` tree and the v0.4 flat `nodes` list.
/// Energies come from an Accelergy ERT when one is given, priced as the Timeloop of that dialect prices them:
/// <list type="bullet">
/// <item>v0.2/v0.3 (legacy Timeloop, which wrote the tutorial's legacy outputs): one vector-access energy per
/// buffer, the most expensive ERT action (ErtFile.MaxEnergy) divided by the cluster size, charged for
/// ceil((reads + fills + updates) / block size) vector accesses per tensor and instance
/// (src/model/buffer.cpp, BufferLevel::ComputeBufferEnergy at NVlabs/timeloop 5ea4ed4); the MAC is charged its most
/// expensive action. Address generation, temporal reduction and network energies are zero with an ERT that has
/// no adder or wire entries, as in every tutorial case, and are not modelled.</item>
/// <item>v0.4 (Timeloop v2 and later): reads at the ERT's read, fills at its write, updates at its update (else write)
/// energy, each ceil(count / block size) vector accesses (buffer.cpp, BufferLevel::ComputeVectorAccesses and
/// ComputeBufferEnergy; include/model/topology.hpp, storageOperationMappings). Leakage is not modelled.</item>
/// </list>
/// Without an ERT (or for a component the ERT lacks) energy is unknown, never zero.
/// </summary>
public static partial class TimeloopArchitectureReader
{
    public static bool IsTimeloop(YNode root) =>
        root.IsMapping && root.Opt("architecture") is { IsMapping: true } a && (a.Has("subtree") || a.Has("nodes"));

    [GeneratedRegex(@"^(.*)\[(\d+)\.\.(\d+)\]$")]
    private static partial Regex RangeName();

    /// <summary>Substrings by which Timeloop tells storage from compute classes (include/model/topology.hpp, bufferClasses and computeClasses).</summary>
    private static readonly string[] StorageClasses = { "DRAM", "SRAM", "regfile", "smartbuffer", "storage" };
    private static readonly string[] ComputeClasses = { "mac", "intmac", "fpmac", "compute" };

    /// <summary>
    /// Attributes Timeloop reads (buffer.cpp, arithmetic.cpp, network-*.cpp ParseSpecs, both the hyphenated legacy
    /// and the underscore spellings) plus the Accelergy component attributes found in the tutorial's files.
    /// </summary>
    private static readonly string[] KnownAttributes =
    {
        "addr-gen-energy", "addr_gen_energy", "allow_overbooking", "area", "block-size", "block_size", "cluster-area", "cluster_area",
        "cluster-size", "cluster_size", "compression_supported", "concordant_compressed_tile_traversal", "data_storage_depth",
        "data_storage_width", "datawidth", "decompression_supported", "depth", "drain_latency", "entries", "fill_latency",
        "instances", "memory_depth", "memory_width", "meshX", "meshY", "metadata_block_size", "metadata_datawidth", "metadata_depth",
        "metadata_storage_depth", "metadata_storage_width", "metadata_width", "metadata_word_bits", "min-utilization", "min_utilization",
        "multiple-buffering", "multiple_buffering", "n_banks", "n_ports", "n_words", "network_drain", "network_drain_latency",
        "network_fill", "network_fill_latency", "network_operand", "network_read", "network_result", "network_type", "network_update",
        "network_word_bits", "num-banks", "num-ports", "num_banks", "num_ports", "per_dataspace_bandwidth_consumption_scale",
        "power_gated_at", "has_power_gating", "read_bandwidth", "reduction_supported", "shared_bandwidth", "sizeKB", "technology",
        "tile_partition_supported", "vector-access-energy", "vector_access_energy", "width", "word-bits", "word_bits", "word_width",
        "write_bandwidth", "global_cycle_seconds", "latency", "type", "update_fifo_depth", "adder_width", "multiplier_width",
        "INPUT_WEIGHT_DATAWIDTH", "PSUM_DATAWIDTH", "version",
    };

    private sealed record Raw(string Name, string Class, Dictionary<string, YNode> Attrs, int Instances, int? MeshX, YNode Node);

    public static TimeloopArchitecture Read(YNode root, ErtFile? ert)
    {
        var a = root.Req("architecture");
        var raws = new List<Raw>();
        var spatialTargets = ImmutableDictionary.CreateBuilder<string, string>();
        string dialect;
        double clock = 1e9;
        CheckVersion(a);
        if (a.Has("subtree"))
        {
            dialect = "timeloop-v0.2";
            a.ExpectOnlyKeys("version", "subtree");
            foreach (var st in a.Req("subtree").Items) Visit(st, 1, new Dictionary<string, YNode>(), raws, spatialTargets);
        }
        else
        {
            dialect = "timeloop-v0.4";
            a.ExpectOnlyKeys("version", "nodes");
            int mult = 1, meshX = 1;
            var attrs = new Dictionary<string, YNode>();
            string? lastStorage = null;
            foreach (var n in a.Req("nodes").Items)
            {
                if (n.Has("nodes"))
                    throw n.Req("nodes").Error("a !Parallel group of sibling components is not supported: the model needs a chain of storage levels (list them one below the other)");
                n.ExpectOnlyKeys("name", "class", "subclass", "attributes", "spatial", "constraints", "required_actions", "enabled");
                var name = n.Req("name").Text;
                CheckAttributes(n.Opt("attributes"));
                if (n.Opt("attributes") is { } at)
                    foreach (var (k, v) in at.Entries)
                        if (!n.Has("class")) attrs[k] = v;
                if (!n.Has("class"))
                {
                    if (n.Opt("attributes")?.Opt("global_cycle_seconds") is { } gcs) clock = 1.0 / PositiveFinite(gcs);
                    if (n.Opt("spatial") is { } sp)
                    {
                        sp.ExpectOnlyKeys("meshX", "meshY");
                        var mx = sp.Opt("meshX") is { } mxn ? PositiveInt(mxn) : 1;
                        var my = sp.Opt("meshY") is { } myn ? PositiveInt(myn) : 1;
                        mult = CheckedInstances(sp, (long)mult * mx * my);
                        meshX = CheckedInstances(sp, (long)meshX * mx);
                        if (lastStorage is not null) spatialTargets[name] = lastStorage;
                    }
                    continue;
                }
                var merged = new Dictionary<string, YNode>(attrs);
                if (n.Opt("attributes") is { } ca) foreach (var (k, v) in ca.Entries) merged[k] = v;
                var raw = new Raw(name, n.Req("class").Text, merged, mult, meshX, n);
                raws.Add(raw);
                if (!IsCompute(raw)) lastStorage = name;
            }
        }
        if (a.Opt("subtree")?.Items.FirstOrDefault()?.Opt("attributes")?.Opt("global_cycle_seconds") is { } g) clock = 1.0 / PositiveFinite(g);

        foreach (var r in raws) CheckNumericAttributes(r);
        bool legacy = dialect == "timeloop-v0.2";
        var storage = ImmutableArray.CreateBuilder<StorageLevel>();
        ComputeUnit? compute = null;
        string? parent = null;
        foreach (var r in raws)
        {
            if (IsCompute(r))
            {
                if (compute is not null) throw r.Node.Error("only one arithmetic component is supported");
                if (parent is null) throw r.Node.Error("the arithmetic unit needs a storage level above it");
                // Legacy: the most expensive action is the energy per op (topology.cpp, ParseAccelergyERT).
                var e = legacy ? ert?.MaxEnergy(r.Name) : ert?.ComputeEnergy(r.Name) ?? ert?.MaxEnergy(r.Name);
                var energies = e is { } pj
                    ? ImmutableDictionary<string, Sourced>.Empty.Add("mac", new Sourced(pj, $"{Path.GetFileName(ert!.File)}: {r.Name}"))
                    : ImmutableDictionary<string, Sourced>.Empty;
                compute = new ComputeUnit(r.Name, parent, r.Instances, MeshX(r), energies,
                    ImmutableArray.Create(new ComputeOperation("mac", 1, ImmutableArray.Create(new ActionCount("mac", 1)), "Timeloop: one MAC per cycle")),
                    Sourced.Zero, new Sourced(ert?.Areas.GetValueOrDefault(r.Name) ?? 0, null), r.Node.Location, EnergyKnown: e is not null);
                continue;
            }
            storage.Add(ToLevel(r, parent, ert, legacy));
            parent = r.Name;
        }
        if (compute is null) throw a.Error("no arithmetic unit (a component whose class is a MAC) was found");
        var arch = new Architecture(Path.GetFileNameWithoutExtension(root.File), clock,
            Tech(raws),
            storage.ToImmutable(), ImmutableArray.Create(compute), $"imported from Timeloop {dialect} {root.File}", root.File);
        ArchitectureLoader.ValidateMeshes(arch, a);
        return new TimeloopArchitecture(arch, spatialTargets.ToImmutable(), dialect);
    }

    /// <summary>The node of the first component that names one (Accelergy's `technology: 40nm`); 45 nm when none does.</summary>
    private static double Tech(IEnumerable<Raw> raws) =>
        raws.Select(r => r.Attrs.GetValueOrDefault("technology")).FirstOrDefault(t => t is { IsNull: false } && !IsNoTechnology(t)) is { } node
            ? TechnologyNm(node)
            : 45;

    [GeneratedRegex(@"^\s*(?<nm>[0-9]+(\.[0-9]+)?)\s*(nm)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex TechnologyPattern();

    /// <summary>Timeloop's front end writes `technology: -1` on components that have none (its dummy_storage).</summary>
    private static bool IsNoTechnology(YNode node) => node.Text.Trim() == "-1";

    /// <summary>`40nm`, `40 nm` or `40`: anything else (a typo, a negative node) is an error, never a silent 45 nm.</summary>
    private static double TechnologyNm(YNode node)
    {
        var m = TechnologyPattern().Match(node.Text);
        if (!m.Success || !Invariant.TryParseDouble(m.Groups["nm"].Value, out var nm) || !(nm > 0) || double.IsInfinity(nm))
            throw node.Error($"expected a technology node such as '40nm', found '{node.Text}'");
        return nm;
    }

    /// <summary>The architecture versions this reader knows (Timeloop v0.4 itself writes its flattened input as a
    /// version 0.4 `subtree`, so the version does not fix the layout).</summary>
    private static readonly string[] SupportedVersions = { "0.2", "0.3", "0.4" };

    private static void CheckVersion(YNode a)
    {
        if (a.Opt("version") is not { IsNull: false } v) return;
        if (!Invariant.TryParseDouble(v.Text, out var given) ||
            !SupportedVersions.Any(s => Invariant.TryParseDouble(s, out var known) && known == given))
            throw v.Error($"unsupported Timeloop architecture version '{v.Text}' (supported: {string.Join(", ", SupportedVersions)})");
    }

    /// <summary>Attributes that count bits, words or instances: each one given must be a positive integer, even where
    /// the model does not read it (a MAC's datawidth), so that a zero or a typo is never silently ignored.</summary>
    private static readonly string[] PositiveIntegerAttributes =
    {
        "word-bits", "word_bits", "datawidth", "width", "memory_width", "depth", "memory_depth", "block-size", "block_size", "n_words",
        "cluster-size", "cluster_size", "meshX", "meshY", "instances", "adder_width", "multiplier_width", "n_banks", "num-banks",
        "num_banks", "n_ports", "num-ports", "num_ports",
    };

    private static void CheckNumericAttributes(Raw r)
    {
        foreach (var key in PositiveIntegerAttributes)
            if (r.Attrs.TryGetValue(key, out var v) && !v.IsNull) PositiveInt(v);
        if (r.Attrs.TryGetValue("technology", out var t) && !t.IsNull && !IsNoTechnology(t)) TechnologyNm(t);
    }

    /// <summary>Timeloop's own test: a class naming a compute class is arithmetic, one naming a storage class is a buffer, anything else is an error.</summary>
    private static bool IsCompute(Raw r)
    {
        if (ComputeClasses.Any(c => r.Class.Contains(c, StringComparison.Ordinal))) return true;
        if (StorageClasses.Any(c => r.Class.Contains(c, StringComparison.Ordinal))) return false;
        var known = StorageClasses.Concat(ComputeClasses).Concat(new[] { "smartbuffer_RF", "smartbuffer_SRAM", "dummy_storage" });
        throw r.Node.Req("class").Error($"unknown component class '{r.Class}'{Suggest.DidYouMean(r.Class, known)} " +
                                        $"(a storage class contains one of {string.Join(", ", StorageClasses)}; a compute class one of {string.Join(", ", ComputeClasses)})");
    }

    private static int MeshX(Raw r) => r.MeshX is { } m && m > 0 ? Math.Min(m, r.Instances) : r.Instances;

    private static void CheckAttributes(YNode? attrs)
    {
        if (attrs is null || attrs.IsNull) return;
        attrs.ExpectOnlyKeys(KnownAttributes);
    }

    private static void Visit(YNode node, int mult, Dictionary<string, YNode> inherited, List<Raw> raws,
        ImmutableDictionary<string, string>.Builder spatial)
    {
        node.ExpectOnlyKeys("name", "attributes", "local", "subtree");
        var (_, rep) = SplitName(node.Req("name"));
        CheckAttributes(node.Opt("attributes"));
        var attrs = new Dictionary<string, YNode>(inherited);
        if (node.Opt("attributes") is { } at) foreach (var (k, v) in at.Entries) attrs[k] = v;
        var m = CheckedInstances(node.Req("name"), (long)mult * rep);
        if (node.Opt("local") is { } local)
            foreach (var c in local.Items)
            {
                c.ExpectOnlyKeys("name", "class", "subclass", "attributes", "enabled", "required_actions");
                CheckAttributes(c.Opt("attributes"));
                var (cname, crep) = SplitName(c.Req("name"));
                var merged = new Dictionary<string, YNode>(attrs);
                if (c.Opt("attributes") is { } ca) foreach (var (k, v) in ca.Entries) merged[k] = v;
                int? meshX = merged.TryGetValue("meshX", out var mx) ? PositiveInt(mx) : null;
                raws.Add(new Raw(cname, c.Req("class").Text, merged, CheckedInstances(c.Req("name"), (long)m * crep), meshX, c));
            }
        if (node.Opt("subtree") is { } sub)
            foreach (var st in sub.Items) Visit(st, m, attrs, raws, spatial);
    }

    private static (string Name, int Replication) SplitName(YNode n)
    {
        var match = RangeName().Match(n.Text);
        if (!match.Success) return (n.Text, 1);
        if (!long.TryParse(match.Groups[2].Value, System.Globalization.NumberStyles.None, Invariant.Culture, out var lo) ||
            !long.TryParse(match.Groups[3].Value, System.Globalization.NumberStyles.None, Invariant.Culture, out var hi))
            throw n.Error("instance range bounds are too large");
        if (hi < lo) throw n.Error("empty instance range");
        return (match.Groups[1].Value, CheckedInstances(n, hi - lo + 1));
    }

    private static int CheckedInstances(YNode at, long instances)
    {
        if (instances is < 1 or > int.MaxValue) throw at.Error($"{Invariant.Grouped(instances)} instances is out of range (1 to {Invariant.Grouped(int.MaxValue)})");
        return (int)instances;
    }

    private static int PositiveInt(YNode v)
    {
        var n = v.AsLong();
        if (n <= 0) throw v.Error($"must be > 0, found {Invariant.Num(n)}");
        if (n > int.MaxValue) throw v.Error($"{Invariant.Grouped(n)} is out of range");
        return (int)n;
    }

    private static double PositiveFinite(YNode v)
    {
        var d = v.AsDouble();
        if (!(d > 0) || double.IsInfinity(d)) throw v.Error($"must be a finite number > 0, found {Invariant.Num(d)}");
        return d;
    }

    private static StorageLevel ToLevel(Raw r, string? parent, ErtFile? ert, bool legacy)
    {
        YNode? Attr(params string[] keys)
        {
            foreach (var k in keys)
                if (r.Attrs.TryGetValue(k, out var v) && !v.IsNull) return v;
            return null;
        }
        int? Int(params string[] keys) => Attr(keys) is { } v ? PositiveInt(v) : null;
        double? Dbl(params string[] keys) => Attr(keys) is { } v ? PositiveFinite(v) : null;

        var wordBits = Int("word-bits", "word_bits", "datawidth") ?? 16;
        var width = Int("width", "memory_width");
        var blockNode = Attr("block-size", "block_size", "n_words");
        var block = blockNode is not null ? PositiveInt(blockNode) : width is { } w ? Math.Max(1, w / wordBits) : 1;
        // Timeloop: width = word bits x block size x cluster size (buffer.cpp, BufferLevel::ParseSpecs).
        int cluster = 1;
        if (width is { } wd && blockNode is not null)
        {
            var widthNode = Attr("width", "memory_width")!;
            if (wd % ((long)wordBits * block) != 0)
                throw widthNode.Error($"width {wd} is not a multiple of word bits x block size ({wordBits} x {block})");
            cluster = (int)(wd / ((long)wordBits * block));
        }
        if (cluster > 1)
            throw Attr("width", "memory_width")!.Error(
                $"width {width} is {cluster} blocks of {block} x {wordBits}-bit words: Timeloop's clusters (width > word bits x block size) are not modelled; give block-size = width / word-bits");
        var depthNode = Attr("depth", "memory_depth");
        long? depth = depthNode is not null ? PositiveInt(depthNode) : null;
        bool isDram = r.Class.Contains("DRAM", StringComparison.OrdinalIgnoreCase);
        long? capacity = isDram || depth is null ? null : depth.Value * block;
        var multipleBuffering = Dbl("multiple_buffering", "multiple-buffering") ?? 1;
        if (multipleBuffering < 1) throw Attr("multiple_buffering", "multiple-buffering")!.Error("must be >= 1");

        var max = ert?.MaxEnergy(r.Name);
        Sourced read, fill, update;
        string? src = ert is null ? null : Path.GetFileName(ert.File) + ": " + r.Name;
        if (max is not { } vectorEnergy)
            read = fill = update = Sourced.Zero;
        else if (legacy)
        {
            var e = new Sourced(vectorEnergy / cluster, src + " (legacy Timeloop: its most expensive action per vector access)");
            read = fill = update = e;
        }
        else
        {
            // Timeloop v2+: actions the ERT lacks fall back to the vector access energy (buffer.cpp, ParseSpecs).
            double Action(params string[] names) => ert!.ActionEnergy(r.Name, names) ?? vectorEnergy / cluster;
            read = new Sourced(Action("random_read", "read"), src + " read");
            fill = new Sourced(Action("random_fill", "random_write", "fill", "write"), src + " write");
            update = new Sourced(Action("random_update", "random_write", "update", "write"), src + " update");
        }
        var ourClass = isDram ? "dram" : r.Class.Contains("regfile", StringComparison.OrdinalIgnoreCase) || r.Class.EndsWith("_RF", StringComparison.OrdinalIgnoreCase) ? "regfile" : "sram";
        return new StorageLevel(r.Name, ourClass, parent, capacity, wordBits, block,
            Dbl("read_bandwidth"), Dbl("write_bandwidth"), Dbl("shared_bandwidth"), r.Instances, MeshX(r),
            multipleBuffering, null, read, fill, update, Sourced.Zero,
            new Sourced(ert?.Areas.GetValueOrDefault(r.Name) ?? 0, null), r.Node.Location,
            EnergyKnown: max is not null, Pricing: legacy ? BlockPricing.SharedVector : BlockPricing.PerAction);
    }
}
