using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;

namespace AccelSim.Model.Cascade;

/// <summary>
/// Reads a study architecture (`cascade_architecture:`), e.g. arch/fusemax/fusemax.yaml. The format is described in
/// arch/fusemax/README.md. Every problem is a one-line <see cref="InputException"/> naming file, line and field.
/// </summary>
public static class CascadeArchitectureLoader
{
    public static bool IsOurFormat(YNode root) => root.IsMapping && root.Has("cascade_architecture");

    /// <summary>Loads a file; <paramref name="overrides"/> are extra hardware `--set` assignments (LEVEL.FIELD=VALUE).</summary>
    public static CascadeArchitecture Load(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new InputException(SourceLocation.FileOnly(path), null, "architecture file not found");
        return Parse(YNode.LoadFile(path), overrides);
    }

    public static CascadeArchitecture Parse(YNode root, IEnumerable<string>? overrides = null)
    {
        root.ExpectOnlyKeys("cascade_architecture");
        var a = root.Req("cascade_architecture");
        a.ExpectOnlyKeys("name", "label", "description", "source", "notes", "hardware", "set", "settings", "attention", "end_to_end");
        var dir = Path.GetDirectoryName(Path.GetFullPath(root.File)) ?? ".";
        var name = a.Req("name").Text;
        var hwNode = a.Req("hardware");
        var hwPath = Resolve(dir, hwNode.Text);
        if (!File.Exists(hwPath)) throw hwNode.Error($"hardware file not found: {hwPath}");
        var hardware = SpecFiles.LoadArchitecture(hwPath).Architecture;
        var sets = ImmutableArray.CreateBuilder<string>();
        if (a.Opt("set") is { IsNull: false } setNode)
            foreach (var s in setNode.ItemsOrSingle)
            {
                try { hardware = ArchitectureOverrides.Apply(hardware, [s.Text]); }
                catch (InputException e) { throw s.Error(e.Problem); }
                sets.Add(s.Text);
            }
        foreach (var s in overrides ?? [])
        {
            hardware = ApplyOverride(hardware, s);
            sets.Add(s);
        }

        SettingsTable? settings = null;
        if (a.Opt("settings") is { IsNull: false } st)
        {
            st.ExpectOnlyKeys("file", "key", "source");
            var key = st.Req("key").ItemsOrSingle.Select(k => k.Text).ToList();
            settings = SettingsTable.Load(Resolve(dir, st.Req("file").Text), key, st.Req("file"));
        }

        var attention = Section(a.Req("attention"), "attention", dir, hardware);
        var e2e = a.Opt("end_to_end") is { IsNull: false } en ? Section(en, "end_to_end", dir, hardware) : null;
        return new CascadeArchitecture(name, a.OptString("label") ?? name, a.OptString("description"), a.OptString("source"),
            root.File, hardware, hwPath, sets.ToImmutable(), settings, attention, e2e);
    }

    /// <summary>
    /// Hardware overrides: everything <see cref="ArchitectureOverrides"/> accepts, plus the array size of a compute
    /// unit (`PE2D.mesh=128` sets a 128 x 128 array and scales the storage levels that fan out to it).
    /// </summary>
    public static Architecture ApplyOverride(Architecture arch, string assignment)
    {
        var eq = assignment.IndexOf('=');
        var key = eq > 0 ? assignment[..eq].Trim() : assignment;
        if (eq > 0 && key.EndsWith(".mesh", StringComparison.Ordinal))
        {
            var unit = key[..^".mesh".Length];
            if (!Invariant.TryParseLong(assignment[(eq + 1)..].Trim(), out var dim) || dim < 1)
                throw new InputException(null, "--set " + key, "expected a positive integer array dimension");
            return ResizeArray(arch, unit, (int)dim);
        }
        return ArchitectureOverrides.Apply(arch, [assignment]);
    }

    /// <summary>
    /// Resizes the array of compute unit <paramref name="unit"/> (and every unit and level sharing its mesh) so that
    /// its X dimension is <paramref name="dim"/> and its Y dimension, if it has one, is also <paramref name="dim"/>.
    /// </summary>
    public static Architecture ResizeArray(Architecture arch, string unit, int dim)
    {
        var cu = arch.Compute.FirstOrDefault(c => c.Name == unit)
                 ?? throw new InputException(null, "--set " + unit + ".mesh",
                     $"unknown compute unit '{unit}'{Suggest.DidYouMean(unit, arch.Compute.Select(c => c.Name))} (have: {string.Join(", ", arch.Compute.Select(c => c.Name))})");
        int oldX = cu.MeshX;
        (int, int) Scale(int instances, int meshX)
        {
            if (meshX != oldX) return (instances, meshX);
            int meshY = instances / meshX;
            int newY = meshY == 1 ? 1 : (meshY == oldX ? dim : meshY);
            return (dim * newY, dim);
        }
        var storage = arch.Storage.Select(l =>
        {
            var (i, x) = Scale(l.Instances, l.MeshX);
            return l with { Instances = i, MeshX = x };
        }).ToImmutableArray();
        var compute = arch.Compute.Select(c =>
        {
            var (i, x) = Scale(c.Instances, c.MeshX);
            return c with { Instances = i, MeshX = x };
        }).ToImmutableArray();
        return arch with { Storage = storage, Compute = compute };
    }

    private static string Resolve(string dir, string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(dir, path));

    /// <summary>A section written inline, or the path of a file whose root is `section:` (shared by several architectures).</summary>
    private static SectionSpec Section(YNode node, string key, string dir, Architecture hardware)
    {
        if (!node.IsScalar) return ParseSection(node, key, dir, hardware);
        var path = Resolve(dir, node.Text);
        if (!File.Exists(path)) throw node.Error($"section file not found: {path}");
        var root = YNode.LoadFile(path);
        root.ExpectOnlyKeys("section");
        return ParseSection(root.Req("section"), key, Path.GetDirectoryName(path) ?? dir, hardware);
    }

    private static SectionSpec ParseSection(YNode s, string key, string dir, Architecture hardware)
    {
        var refs = ImmutableArray.CreateBuilder<NameReference>();
        void Ref(NameKind kind, YNode n) => refs.Add(new NameReference(kind, n.Text, n.Location, n.Path));
        s.ExpectOnlyKeys("workload", "einsums", "arrays", "binding", "buffer", "buffer_budget_words", "offchip", "locations", "spill", "symbols",
            "mappings", "use", "schedule", "notes");
        var wl = s.Req("workload");
        var workload = Resolve(dir, wl.Text);
        if (!File.Exists(workload)) throw wl.Error($"workload file not found: {workload}");
        ImmutableArray<string>? einsums = null;
        if (s.Opt("einsums") is { IsNull: false } en)
        {
            foreach (var i in en.ItemsOrSingle) Ref(NameKind.Einsum, i);
            einsums = en.ItemsOrSingle.Select(i => i.Text).ToImmutableArray();
        }

        var arrays = ImmutableArray.CreateBuilder<ArraySpec>();
        foreach (var (name, node) in s.Req("arrays").Entries)
        {
            string compute;
            var issue = IssuePolicy.Serial;
            if (node.IsScalar) compute = node.Text;
            else
            {
                node.ExpectOnlyKeys("compute", "issue", "notes");
                compute = node.Req("compute").Text;
                if (node.Opt("issue") is { } iss)
                    issue = iss.Text switch
                    {
                        "serial" => IssuePolicy.Serial,
                        "chained" => IssuePolicy.Chained,
                        _ => throw iss.Error($"expected serial or chained, found '{iss.Text}'"),
                    };
            }
            if (hardware.Compute.All(c => c.Name != compute))
                throw (node.IsScalar ? node : node.Req("compute")).Error(
                    $"unknown compute unit '{compute}'{Suggest.DidYouMean(compute, hardware.Compute.Select(c => c.Name))} (hardware has: {string.Join(", ", hardware.Compute.Select(c => c.Name))})");
            arrays.Add(new ArraySpec(name, compute, issue, node.Location));
        }
        if (arrays.Count == 0) throw s.Req("arrays").Error("at least one array is required");

        var binding = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var bnode = s.Req("binding");
        foreach (var (array, list) in bnode.Entries)
        {
            if (arrays.All(x => x.Name != array))
                throw new InputException(bnode.KeyLocation(array), list.Path,
                    $"unknown array '{array}'{Suggest.DidYouMean(array, arrays.Select(x => x.Name))} (arrays: {string.Join(", ", arrays.Select(x => x.Name))})");
            foreach (var e in list.ItemsOrSingle)
            {
                if (!binding.TryAdd(e.Text, array)) throw e.Error($"Einsum '{e.Text}' is bound twice");
                Ref(NameKind.Einsum, e);
            }
        }

        var bufferNode = s.Req("buffer");
        var buffer = bufferNode.Text;
        if (hardware.FindLevel(buffer) is null)
            throw bufferNode.Error($"unknown storage level '{buffer}'{Suggest.DidYouMean(buffer, hardware.Storage.Select(l => l.Name))} (have: {string.Join(", ", hardware.Storage.Select(l => l.Name))})");

        long? budget = null;
        if (s.Opt("buffer_budget_words") is { IsNull: false } bb)
        {
            budget = bb.AsLong();
            if (budget <= 0) throw bb.Error("must be > 0");
        }
        ImmutableArray<string> offchip = [];
        if (s.Opt("offchip") is { IsNull: false } off)
        {
            foreach (var i in off.ItemsOrSingle) Ref(NameKind.Tensor, i);
            offchip = off.ItemsOrSingle.Select(i => i.Text).ToImmutableArray();
        }
        var locations = s.OptString("locations");
        if (locations is not null && !locations.Contains("{tensor}", StringComparison.Ordinal))
            throw s.Req("locations").Error("expected a settings column pattern containing {tensor}, e.g. \"{tensor}_loc\"");

        var spill = SpillSpec.None;
        if (s.Opt("spill") is { IsNull: false } sp)
        {
            if (sp.Text == "fit") spill = new SpillSpec(null, null, true, sp.Location);
            else if (Invariant.TryParseDouble(sp.Text, out var v))
            {
                if (v is < 0 or > 1) throw sp.Error("a spill fraction must be in [0, 1]");
                spill = new SpillSpec(v, null, false, sp.Location);
            }
            else spill = new SpillSpec(null, sp.Text, false, sp.Location);
        }

        var symbols = ImmutableArray.CreateBuilder<SymbolSpec>();
        if (s.Opt("symbols") is { IsNull: false } sy)
            foreach (var (name, node) in sy.Entries)
            {
                if (node.IsScalar) symbols.Add(new ExpressionSymbol(name, SymbolExpression.Parse(node.Text, node), node.Location));
                else if (node.Has("fit"))
                {
                    node.ExpectOnlyKeys("fit", "notes");
                    foreach (var r in node.Req("fit").ItemsOrSingle) Ref(NameKind.Rank, r);
                    symbols.Add(new FitSymbol(name, node.Req("fit").ItemsOrSingle.Select(i => i.Text).ToImmutableArray(), node.Location));
                }
                else
                {
                    node.ExpectOnlyKeys("by", "cases", "notes");
                    var cases = node.Req("cases").Entries.ToImmutableDictionary(kv => kv.Key, kv => SymbolExpression.Parse(kv.Value.Text, kv.Value));
                    symbols.Add(new CaseSymbol(name, node.Req("by").Text, cases, node.Location));
                }
            }

        var templates = ImmutableDictionary.CreateBuilder<string, MappingTemplate>(StringComparer.Ordinal);
        if (s.Opt("mappings") is { IsNull: false } mp)
            foreach (var (name, node) in mp.Entries)
                templates[name] = ParseTemplate(name, node, hardware, refs);

        var use = ImmutableDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
        if (s.Opt("use") is { IsNull: false } us)
            foreach (var (name, node) in us.Entries)
            {
                refs.Add(new NameReference(NameKind.EinsumOrArray, name, us.KeyLocation(name), node.Path));
                foreach (var t in node.ItemsOrSingle)
                    // `${column}` picks a template per settings row; the evaluator checks the name it expands to.
                    if (!t.Text.Contains("${", StringComparison.Ordinal) && !templates.ContainsKey(t.Text))
                        throw t.Error($"unknown mapping template '{t.Text}'{Suggest.DidYouMean(t.Text, templates.Keys)} " +
                                      $"(mappings: {string.Join(", ", templates.Keys.Order(StringComparer.Ordinal))})");
                use[name] = node.ItemsOrSingle.Select(i => i.Text).ToImmutableArray();
            }

        var schedule = ParseSchedule(s.Req("schedule"), arrays.Select(x => x.Name).ToHashSet(), refs);
        return new SectionSpec(key, workload, einsums, arrays.ToImmutable(), binding.ToImmutable(), buffer, budget, offchip, locations, spill,
            symbols.ToImmutable(), templates.ToImmutable(), use.ToImmutable(), schedule, s.Location)
        {
            References = refs.ToImmutable(),
            BindingLocation = s.KeyLocation("binding"),
            BindingField = bnode.Path,
        };
    }

    private static MappingTemplate ParseTemplate(string name, YNode node, Architecture hardware, ImmutableArray<NameReference>.Builder refs)
    {
        var levels = ImmutableArray.CreateBuilder<TemplateLevel>();
        foreach (var l in node.Items)
        {
            l.ExpectOnlyKeys("level", "temporal", "spatial_x", "spatial_y", "keep", "bypass", "notes");
            var level = l.Req("level").Text;
            if (hardware.FindLevel(level) is null)
                throw l.Req("level").Error($"unknown storage level '{level}'{Suggest.DidYouMean(level, hardware.Storage.Select(x => x.Name))} (have: {string.Join(", ", hardware.Storage.Select(x => x.Name))})");
            if (levels.Any(x => x.Level == level)) throw l.Req("level").Error($"level '{level}' appears twice in mapping '{name}'");
            foreach (var key in new[] { "keep", "bypass" })
                if (l.Opt(key) is { } tokens)
                    foreach (var t in tokens.ItemsOrSingle.Where(i => !i.IsNull))
                        refs.Add(new NameReference(NameKind.TensorOrSet, t.Text, t.Location, t.Path));
            foreach (var key in new[] { "temporal", "spatial_x", "spatial_y" })
                foreach (var (dim, at) in LoopDims(l.Opt(key)))
                    refs.Add(new NameReference(NameKind.Variable, dim, at.Location, at.Path));
            levels.Add(new TemplateLevel(level, Loops(l.Opt("temporal")), Loops(l.Opt("spatial_x")), Loops(l.Opt("spatial_y")),
                l.Opt("keep") is { } k ? k.ItemsOrSingle.Where(i => !i.IsNull).Select(i => i.Text).ToImmutableArray() : null,
                l.Opt("bypass") is { } b ? b.ItemsOrSingle.Where(i => !i.IsNull).Select(i => i.Text).ToImmutableArray() : null,
                l.Location));
        }
        return new MappingTemplate(name, levels.ToImmutable(), node.Location);
    }

    /// <summary>
    /// `[b, h, p: query_tile]`: bare dimension names, or one-entry maps `dim: expression`, or a quoted
    /// "dim: expression" (needed when the expression has a comma, e.g. "b: max(1, row_tile / P)").
    /// </summary>
    private static ImmutableArray<TemplateLoop> Loops(YNode? n)
    {
        if (n is null || n.IsNull) return [];
        var result = ImmutableArray.CreateBuilder<TemplateLoop>();
        foreach (var item in n.ItemsOrSingle)
        {
            if (item.IsScalar && item.Text.IndexOf(':') is var colon and > 0)
                result.Add(new TemplateLoop(item.Text[..colon].Trim(), SymbolExpression.Parse(item.Text[(colon + 1)..].Trim(), item)));
            else if (item.IsScalar) result.Add(new TemplateLoop(item.Text, null));
            else if (item.IsMapping)
                foreach (var (dim, v) in item.Entries) result.Add(new TemplateLoop(dim, SymbolExpression.Parse(v.Text, v)));
            else throw item.Error("expected a dimension name or `dim: expression`");
        }
        return result.ToImmutable();
    }

    /// <summary>The dimension names of a loop list (see <see cref="Loops"/>) with the node each is written at.</summary>
    private static IEnumerable<(string Dim, YNode At)> LoopDims(YNode? n)
    {
        if (n is null || n.IsNull) yield break;
        foreach (var item in n.ItemsOrSingle)
        {
            if (item.IsScalar) yield return (item.Text.IndexOf(':') is var colon and > 0 ? item.Text[..colon].Trim() : item.Text, item);
            else if (item.IsMapping)
                foreach (var (dim, _) in item.Entries) yield return (dim, item);
        }
    }

    private static ScheduleSpec ParseSchedule(YNode s, HashSet<string> arrays, ImmutableArray<NameReference>.Builder refs)
    {
        s.ExpectOnlyKeys("memory", "stages", "notes");
        var memory = MemoryOverlap.Overlapped;
        if (s.Opt("memory") is { } m)
            memory = m.Text switch
            {
                "overlapped" => MemoryOverlap.Overlapped,
                "per_stage" => MemoryOverlap.PerStage,
                _ => throw m.Error($"expected overlapped or per_stage, found '{m.Text}'"),
            };
        var stages = ImmutableArray.CreateBuilder<StageSpec>();
        foreach (var st in s.Req("stages").Items)
        {
            if (st.Has("stall"))
            {
                st.ExpectOnlyKeys("stall", "notes");
                refs.Add(new NameReference(NameKind.Einsum, st.Req("stall").Text, st.Req("stall").Location, st.Req("stall").Path));
                stages.Add(new StageSpec([], st.Req("stall").Text, st.Location));
                continue;
            }
            var work = ImmutableArray.CreateBuilder<(string, ImmutableArray<string>)>();
            foreach (var (array, list) in st.Entries)
            {
                if (array == "notes") continue;
                if (!arrays.Contains(array))
                    throw new InputException(st.KeyLocation(array), list.Path,
                        $"unknown array '{array}'{Suggest.DidYouMean(array, arrays)} (arrays: {string.Join(", ", arrays)})");
                foreach (var e in list.ItemsOrSingle) refs.Add(new NameReference(NameKind.Einsum, e.Text, e.Location, e.Path));
                work.Add((array, list.ItemsOrSingle.Select(i => i.Text).ToImmutableArray()));
            }
            if (work.Count == 0) throw st.Error("a stage needs at least one array with Einsums, or `stall: EINSUM`");
            stages.Add(new StageSpec(work.ToImmutable(), null, st.Location));
        }
        if (stages.Count == 0) throw s.Req("stages").Error("at least one stage is required");
        return new ScheduleSpec(memory, stages.ToImmutable(), s.Location);
    }
}

/// <summary>
/// Checks the names a section writes against the cascade it is bound to, so that a typo in `offchip:`, `keep:`,
/// the binding or the schedule is an error at its line with a suggestion instead of a name that matches nothing.
/// </summary>
public static class CascadeNames
{
    /// <summary>Tensor sets a keep/bypass list may name besides tensors (expanded by the evaluator).</summary>
    public static readonly IReadOnlyList<string> TensorSets = ["onchip", "offchip", "intermediates", "inputs", "outputs", "all"];

    public static void Check(SectionSpec section, AccelSim.Einsum.Ir.Cascade cascade)
    {
        var einsums = cascade.Einsums.Select(e => e.Name).ToList();
        var tensors = cascade.Einsums.SelectMany(e => e.Inputs.Select(i => i.Tensor).Prepend(e.Output.Tensor))
            .Concat(cascade.Tensors.Select(t => t.Name)).Distinct(StringComparer.Ordinal).ToList();
        var ranks = cascade.Ranks.Select(r => r.Name).ToList();
        var variables = cascade.Einsums.SelectMany(e => e.Iteration.Select(v => v.Name)).Distinct(StringComparer.Ordinal).ToList();
        var arrays = section.Arrays.Select(a => a.Name).ToList();
        foreach (var r in section.References)
        {
            (IReadOnlyList<string> candidates, string what) = r.Kind switch
            {
                NameKind.Einsum => (einsums, "Einsum"),
                NameKind.Tensor => (tensors, "tensor"),
                NameKind.TensorOrSet => (tensors.Concat(TensorSets).ToList(), "tensor or tensor set"),
                NameKind.Rank => (ranks, "rank"),
                NameKind.Variable => (variables, "iteration variable"),
                _ => (einsums.Concat(arrays).ToList(), "Einsum or array"),
            };
            if (candidates.Contains(r.Name, StringComparer.Ordinal)) continue;
            var listed = r.Kind == NameKind.TensorOrSet ? $"tensors: {string.Join(", ", tensors)}; sets: {string.Join(", ", TensorSets)}"
                : $"{what}s: {string.Join(", ", candidates)}";
            throw new InputException(r.Location, r.Field,
                $"workload {cascade.Name} has no {what} '{r.Name}'{Suggest.DidYouMean(r.Name, candidates)} ({listed})");
        }
    }

    /// <summary>
    /// The section as a mapping of <paramref name="cascade"/>: every name it writes is one of the cascade's
    /// (<see cref="Check"/>), and every Einsum it prices (its `einsums:` list, else all of the cascade's) is bound to
    /// an array. Either failure is one located line, so another cascade is never priced by a partial binding.
    /// </summary>
    public static void CheckMapping(SectionSpec section, AccelSim.Einsum.Ir.Cascade cascade)
    {
        Check(section, cascade);
        var priced = section.Einsums ?? [.. cascade.Einsums.Select(e => e.Name)];
        var unbound = priced.Where(n => !section.Binding.ContainsKey(n)).ToList();
        if (unbound.Count == 0) return;
        throw new InputException(section.BindingLocation ?? section.Location, section.BindingField ?? $"{section.Key}.binding",
            $"workload {cascade.Name} has {(unbound.Count == 1 ? "an Einsum" : "Einsums")} the mapping binds to no array: " +
            $"{string.Join(", ", unbound)} (bound: {string.Join(", ", section.Binding.Keys.Order(StringComparer.Ordinal))})");
    }
}
