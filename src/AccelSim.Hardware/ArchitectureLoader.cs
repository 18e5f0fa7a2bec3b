using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Hardware;

/// <summary>
/// Reads AccelSim's own architecture YAML (see arch/README.md): `architecture:` with `storage:` (outermost first,
/// each level's parent defaults to the previous one) and `compute:`. Energies come from tables named in
/// `energy_tables:` (paths relative to the spec) as `table/entry` references, or inline numbers.
/// </summary>
public static class ArchitectureLoader
{
    public static bool IsOurFormat(YNode root) =>
        root.IsMapping && root.Opt("architecture") is { IsMapping: true } a && (a.Has("storage") || a.Has("compute"));

    public static Architecture Load(string path) => Parse(YNode.LoadFile(path));

    /// <summary>Storage classes the model knows (DRAM is off-chip; the others are on-chip buffers).</summary>
    public static readonly string[] StorageClasses = { "dram", "sram", "regfile" };

    public static Architecture Parse(YNode root)
    {
        root.ExpectOnlyKeys("architecture");
        var a = root.Req("architecture");
        a.ExpectOnlyKeys("name", "source", "notes", "clock_hz", "clock_mhz", "technology_nm", "technology_scaling",
            "word_bits", "energy_tables", "storage", "compute");
        var name = a.Req("name").Text;
        double clock = a.OptDouble("clock_hz") ?? (a.OptDouble("clock_mhz") is { } mhz ? mhz * 1e6 : 1e9);
        if (!(clock > 0) || double.IsInfinity(clock)) throw (a.Opt("clock_hz") ?? a.Req("clock_mhz")).Error($"must be a finite number > 0, found {Invariant.Num(clock)}");
        var tech = a.OptDouble("technology_nm");
        if (tech is { } tn && (!(tn > 0) || double.IsInfinity(tn))) throw a.Req("technology_nm").Error($"must be a finite number > 0, found {Invariant.Num(tn)}");
        var scaling = a.OptBool("technology_scaling") ?? true;
        var defaultWordBits = a.Opt("word_bits") is { } wbn ? Positive(wbn) : 16;

        var dir = Path.GetDirectoryName(Path.GetFullPath(root.File)) ?? ".";
        var tables = new Dictionary<string, EnergyTable>();
        if (a.Opt("energy_tables") is { } tnode)
            foreach (var item in tnode.ItemsOrSingle)
            {
                var p = Path.IsPathRooted(item.Text) ? item.Text : Path.Combine(dir, item.Text);
                if (!System.IO.File.Exists(p)) throw item.Error($"energy table file not found: {p}");
                var table = EnergyTable.Load(p);
                tables[table.Name] = table;
            }
        var ctx = new Resolver(tables, tech, scaling);

        var storage = ImmutableArray.CreateBuilder<StorageLevel>();
        string? previous = null;
        var seen = new HashSet<string>();
        foreach (var s in a.Req("storage").Items)
        {
            var level = ParseLevel(s, previous, defaultWordBits, clock, ctx);
            if (!seen.Add(level.Name)) throw s.Req("name").Error($"duplicate level name '{level.Name}'");
            if (level.Parent is not null && !seen.Contains(level.Parent))
                throw s.Req("parent").Error($"unknown parent level '{level.Parent}' (a parent must be listed before its children)");
            storage.Add(level);
            previous = level.Name;
        }
        if (storage.Count == 0) throw a.Req("storage").Error("at least one storage level is required");
        if (storage.Count(l => l.Parent is null) != 1)
            throw a.Req("storage").Error("exactly one storage level (the backing store) may have no parent");

        var compute = ImmutableArray.CreateBuilder<ComputeUnit>();
        if (a.Opt("compute") is { } cnode)
            foreach (var c in cnode.Items)
            {
                var unit = ParseCompute(c, previous!, ctx);
                if (!seen.Contains(unit.Parent)) throw (c.Opt("parent") ?? c).Error($"unknown parent level '{unit.Parent}'");
                if (!seen.Add(unit.Name)) throw c.Req("name").Error($"duplicate name '{unit.Name}'");
                compute.Add(unit);
            }
        var arch = new Architecture(name, clock, tech ?? 45, storage.ToImmutable(), compute.ToImmutable(), a.OptString("source"), root.File);
        ValidateMeshes(arch, a);
        return arch;
    }

    /// <summary>Each child's instances and mesh must be whole multiples of its parent's (fan-out = ratio).</summary>
    internal static void ValidateMeshes(Architecture arch, YNode? at)
    {
        void Check(string child, int inst, int meshX, string parentName, SourceLocation? loc)
        {
            var p = arch.FindLevel(parentName)!;
            var field = child + ".instances";
            if (inst % p.Instances != 0)
                throw new InputException(loc, field, $"{inst} instances is not a multiple of parent '{p.Name}' ({p.Instances})");
            if (meshX % p.MeshX != 0)
                throw new InputException(loc, child + ".mesh_x", $"mesh_x {meshX} is not a multiple of parent '{p.Name}' mesh_x {p.MeshX}");
            var my = inst / meshX;
            if (my % Math.Max(1, p.MeshY) != 0)
                throw new InputException(loc, child + ".mesh_y", $"mesh_y {my} is not a multiple of parent '{p.Name}' mesh_y {p.MeshY}");
        }
        foreach (var l in arch.Storage)
        {
            if (l.Instances % l.MeshX != 0)
                throw new InputException(l.Location, l.Name + ".mesh_x", $"mesh_x {l.MeshX} does not divide instances {l.Instances}");
            if (l.Parent is not null) Check(l.Name, l.Instances, l.MeshX, l.Parent, l.Location);
        }
        foreach (var c in arch.Compute)
        {
            if (c.Instances % c.MeshX != 0)
                throw new InputException(c.Location, c.Name + ".mesh_x", $"mesh_x {c.MeshX} does not divide instances {c.Instances}");
            Check(c.Name, c.Instances, c.MeshX, c.Parent, c.Location);
        }
    }

    private static StorageLevel ParseLevel(YNode s, string? previous, int defaultWordBits, double clock, Resolver ctx)
    {
        s.ExpectOnlyKeys("name", "class", "parent", "capacity_words", "word_bits", "block_size", "read_bandwidth",
            "write_bandwidth", "shared_bandwidth", "bandwidth_bytes_per_s", "instances", "mesh_x", "multiple_buffering",
            "may_hold", "energy", "block_pricing", "area_um2", "source", "notes");
        var name = s.Req("name").Text;
        if (string.IsNullOrWhiteSpace(name)) throw s.Req("name").Error("must not be empty");
        var cls = s.OptString("class") ?? "sram";
        if (!StorageClasses.Contains(cls.ToLowerInvariant()))
            throw s.Req("class").Error($"unknown storage class '{cls}'{Suggest.DidYouMean(cls, StorageClasses)} (expected one of: {string.Join(", ", StorageClasses)})");
        var pricing = s.OptString("block_pricing") switch
        {
            null or "per_action" => BlockPricing.PerAction,
            "shared_vector" => BlockPricing.SharedVector,
            var other => throw s.Req("block_pricing").Error($"unknown block pricing '{other}'{Suggest.DidYouMean(other, new[] { "per_action", "shared_vector" })} (expected per_action or shared_vector)"),
        };
        string? parent = s.Opt("parent") is { } pn ? (pn.IsNull ? null : pn.Text) : previous;
        long? capacity = s.Opt("capacity_words") is { IsNull: false } cn ? PositiveLong(cn) : null;
        var wordBits = s.Opt("word_bits") is { } wb ? Positive(wb) : defaultWordBits;
        var block = s.Opt("block_size") is { } bs ? Positive(bs) : 1;
        var instances = s.Opt("instances") is { } ins ? Positive(ins) : 1;
        var meshX = s.Opt("mesh_x") is { } mx ? Positive(mx) : instances;
        double? rd = OptPositive(s, "read_bandwidth"), wr = OptPositive(s, "write_bandwidth"), sh = OptPositive(s, "shared_bandwidth");
        if (s.Opt("bandwidth_bytes_per_s") is { } bps)
        {
            var v = bps.AsDouble();
            if (!(v > 0) || double.IsInfinity(v)) throw bps.Error($"must be a finite number > 0, found {Invariant.Num(v)}");
            sh = v / clock / (wordBits / 8.0);
        }
        var mb = s.OptDouble("multiple_buffering") ?? 1;
        if (!(mb >= 1) || double.IsInfinity(mb)) throw s.Req("multiple_buffering").Error($"must be a finite number >= 1, found {Invariant.Num(mb)}");
        ImmutableArray<string>? mayHold = s.Opt("may_hold") is { } mh ? mh.ItemsOrSingle.Select(i => i.Text).ToImmutableArray() : null;
        var (read, write, update, leak, entryArea) = ctx.StorageEnergy(s.Opt("energy"), s);
        var area = s.Opt("area_um2") is { } an ? ctx.Area(an) : entryArea;
        return new StorageLevel(name, cls.ToLowerInvariant(), parent, capacity, wordBits, block, rd, wr, sh, instances, meshX, mb,
            mayHold, read, write, update, leak, area, s.Location, EnergyKnown: s.Opt("energy") is { IsNull: false }, Pricing: pricing);
    }

    private static ComputeUnit ParseCompute(YNode c, string lastStorage, Resolver ctx)
    {
        c.ExpectOnlyKeys("name", "parent", "instances", "mesh_x", "actions", "operations", "area_um2", "leak", "source", "notes");
        var name = c.Req("name").Text;
        var parent = c.OptString("parent") ?? lastStorage;
        var instances = c.Opt("instances") is { } ins ? Positive(ins) : 1;
        var meshX = c.Opt("mesh_x") is { } mx ? Positive(mx) : instances;
        var actions = ImmutableDictionary.CreateBuilder<string, Sourced>();
        Sourced area = c.Opt("area_um2") is { } an ? ctx.Area(an) : Sourced.Zero;
        if (c.Opt("actions") is { } an2)
            foreach (var (action, node) in an2.Entries)
            {
                var (e, entryArea) = ctx.ActionEnergy(action, node);
                actions[action] = e;
                if (c.Opt("area_um2") is null && entryArea is { } ea && area.Value == 0) area = ea;
            }
        var ops = ImmutableArray.CreateBuilder<ComputeOperation>();
        foreach (var (kind, node) in c.Req("operations").Entries)
        {
            if (node.IsScalar)
            {
                var cyc = node.AsDouble();
                if (!(cyc > 0) || double.IsInfinity(cyc)) throw node.Error($"cycles must be a finite number > 0, found {Invariant.Num(cyc)}");
                ops.Add(new ComputeOperation(kind, cyc, ImmutableArray.Create(new ActionCount(kind, 1)), null));
                continue;
            }
            node.ExpectOnlyKeys("cycles", "actions", "source");
            var cycles = node.OptDouble("cycles") ?? 1;
            if (!(cycles > 0) || double.IsInfinity(cycles)) throw node.Req("cycles").Error($"must be a finite number > 0, found {Invariant.Num(cycles)}");
            var list = ImmutableArray.CreateBuilder<ActionCount>();
            if (node.Opt("actions") is { } acts)
                foreach (var (act, n) in acts.Entries)
                {
                    var count = FiniteNonNegative(n);
                    list.Add(new ActionCount(act, count));
                }
            else list.Add(new ActionCount(kind, 1));
            foreach (var ac in list)
                if (!actions.ContainsKey(ac.Action))
                    throw node.Error($"action '{ac.Action}' has no energy in {name}.actions");
            ops.Add(new ComputeOperation(kind, cycles, list.ToImmutable(), node.OptString("source")));
        }
        var leak = c.Opt("leak") is { } ln ? new Sourced(FiniteNonNegative(ln), null) : Sourced.Zero;
        return new ComputeUnit(name, parent, instances, meshX, actions.ToImmutable(), ops.ToImmutable(), leak, area, c.Location);
    }

    private static int Positive(YNode n)
    {
        var v = n.AsInt();
        if (v <= 0) throw n.Error($"must be > 0, found {v}");
        return v;
    }

    private static double FiniteNonNegative(YNode n)
    {
        var v = n.AsDouble();
        if (!(v >= 0) || double.IsInfinity(v)) throw n.Error($"must be a finite number >= 0, found {Invariant.Num(v)}");
        return v;
    }

    private static long PositiveLong(YNode n)
    {
        var v = n.AsLong();
        if (v <= 0) throw n.Error($"must be > 0, found {v}");
        return v;
    }

    private static double? OptPositive(YNode s, string key)
    {
        if (s.Opt(key) is not { IsNull: false } n) return null;
        var v = n.AsDouble();
        if (!(v > 0) || double.IsInfinity(v)) throw n.Error($"must be a finite number > 0, found {Invariant.Num(v)}");
        return v;
    }

    /// <summary>Resolves `table/entry` references and applies technology scaling.</summary>
    private sealed class Resolver(Dictionary<string, EnergyTable> tables, double? archTech, bool scaling)
    {
        public (EnergyEntry Entry, double EnergyScale, double AreaScale, string Source) Lookup(YNode refNode)
        {
            var text = refNode.Text;
            var slash = text.IndexOf('/');
            if (slash <= 0) throw refNode.Error($"expected 'table/entry', found '{text}'");
            var tname = text[..slash];
            var ename = text[(slash + 1)..];
            if (!tables.TryGetValue(tname, out var table))
                throw refNode.Error($"unknown energy table '{tname}' (loaded: {(tables.Count == 0 ? "none; list files in energy_tables" : string.Join(", ", tables.Keys))})");
            if (!table.Entries.TryGetValue(ename, out var entry))
                throw refNode.Error($"energy table '{tname}' has no entry '{ename}'");
            double es = 1, ars = 1;
            if (scaling && archTech is { } to && to != table.TechnologyNm)
            {
                try
                {
                    es = TechnologyScaling.EnergyFactor(table.TechnologyNm, to);
                    ars = TechnologyScaling.AreaFactor(table.TechnologyNm, to);
                }
                catch (InputException e) { throw refNode.Error(e.Problem); }
            }
            var src = $"{tname}/{ename}" + (entry.Source is { } s ? $" ({s})" : "") +
                      (es != 1 ? $", scaled {Invariant.Num(table.TechnologyNm)}->{Invariant.Num(archTech!.Value)} nm" : "");
            return (entry, es, ars, src);
        }

        public (Sourced Read, Sourced Write, Sourced Update, Sourced Leak, Sourced Area) StorageEnergy(YNode? e, YNode level)
        {
            if (e is null || e.IsNull) return (Sourced.Zero, Sourced.Zero, Sourced.Zero, Sourced.Zero, Sourced.Zero);
            double? read = null, write = null, update = null, leak = null;
            Sourced area = Sourced.Zero;
            string? source = null;
            YNode? refNode = e.IsScalar ? e : e.Opt("ref");
            if (refNode is not null)
            {
                var (entry, es, ars, src) = Lookup(refNode);
                read = entry.Action("read") * es;
                write = (entry.Action("write") ?? entry.Action("read")) * es;
                update = (entry.Action("update") ?? entry.Action("write") ?? entry.Action("read")) * es;
                leak = (entry.Action("leak") ?? 0) * es;
                if (read is null) throw refNode.Error("the entry has no 'read' energy");
                if (entry.AreaUm2 is { } ar) area = new Sourced(ar * ars, src);
                source = src;
            }
            if (e.IsMapping)
            {
                e.ExpectOnlyKeys("ref", "read", "write", "update", "leak", "source");
                double? Energy(string key) => e.Opt(key) is { IsNull: false } n ? FiniteNonNegative(n) : null;
                if (Energy("read") is { } r) read = r;
                if (Energy("write") is { } w) { write = w; update ??= w; }
                if (Energy("update") is { } u) update = u;
                if (Energy("leak") is { } l) leak = l;
                source = e.OptString("source") ?? source;
                if (refNode is null && e.Has("write") && !e.Has("update")) update = write;
            }
            if (read is null) throw e.Error("no read energy (give 'ref' or 'read')");
            write ??= read;
            update ??= write;
            foreach (var (k, v) in new[] { ("read", read), ("write", write), ("update", update), ("leak", leak) })
                if (v < 0) throw e.Error($"{k} energy must be >= 0");
            return (new Sourced(read.Value, source), new Sourced(write.Value, source), new Sourced(update.Value, source),
                new Sourced(leak ?? 0, source), area);
        }

        public (Sourced Energy, Sourced? Area) ActionEnergy(string action, YNode node)
        {
            if (node.IsScalar && Invariant.TryParseDouble(node.Text, out _))
                return (new Sourced(ActionPicojoules(node), null), null);
            if (node.IsMapping)
            {
                node.ExpectOnlyKeys("ref", "energy", "source");
                if (!node.Has("ref"))
                    return (new Sourced(ActionPicojoules(node.Req("energy")), node.OptString("source")), null);
            }
            YNode refNode = node.IsScalar ? node : node.Req("ref");
            var (entry, es, ars, src) = Lookup(refNode);
            var e = entry.Action(action) ?? entry.Action("energy") ??
                    (entry.Actions.Count == 1 ? entry.Actions.Values.First() : throw refNode.Error($"the entry has no '{action}' or 'energy' value"));
            if (node.IsMapping && node.Opt("energy") is { IsNull: false } over) return (new Sourced(ActionPicojoules(over), node.OptString("source") ?? src), null);
            Sourced? area = entry.AreaUm2 is { } a ? new Sourced(a * ars, src) : null;
            return (new Sourced(e * es, src), area);
        }

        /// <summary>An inline action energy: every compute action costs something, so 0 (like a negative or infinite value) is refused.</summary>
        private static double ActionPicojoules(YNode n)
        {
            var v = n.AsDouble();
            if (!(v > 0) || double.IsInfinity(v))
                throw n.Error($"action energy must be a finite number of pJ > 0, found {Invariant.Num(v)} (name a table entry, e.g. table/entry, or give the measured energy)");
            return v;
        }

        public Sourced Area(YNode n)
        {
            if (Invariant.TryParseDouble(n.Text, out var v))
            {
                if (v < 0) throw n.Error("must be >= 0");
                return new Sourced(v, null);
            }
            var (entry, _, ars, src) = Lookup(n);
            return new Sourced((entry.AreaUm2 ?? throw n.Error("the entry has no area_um2")) * ars, src);
        }
    }
}
