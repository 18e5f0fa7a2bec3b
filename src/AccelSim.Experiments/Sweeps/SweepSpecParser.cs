using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using AccelSim.Core;
using AccelSim.Experiments.Plots;
using AccelSim.Experiments.Results;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// Reads a sweep YAML (see workloads/sweeps/*.yaml and docs/sweeps.md). Every problem is a one-line
/// <see cref="InputException"/> naming `FILE:LINE:COL: field`.
/// </summary>
public static class SweepSpecParser
{
    private static readonly string[] TopLevelKeys =
        ["name", "description", "engine", "arch", "workload", "options", "set", "parameters", "metrics", "baseline", "plots"];

    /// <summary>Largest number of values one range may produce.</summary>
    public const int MaxRangeValues = 1_000_000;

    public static SweepSpec Load(string path, EvaluatorRegistry registry, IReadOnlyList<SpecOverride>? extraSets = null)
    {
        if (!System.IO.File.Exists(path))
            throw new InputException(SourceLocation.FileOnly(path), null, "sweep file not found");
        return Parse(System.IO.File.ReadAllText(path), path, registry, extraSets);
    }

    /// <summary>Parses sweep text; relative spec paths are resolved against the folder of <paramref name="file"/>.</summary>
    public static SweepSpec Parse(string text, string file, EvaluatorRegistry registry, IReadOnlyList<SpecOverride>? extraSets = null)
    {
        var root = YNode.LoadText(text, file);
        if (!root.IsMapping) throw root.Error($"a sweep must be a mapping, found a {root.KindName}");
        root.ExpectOnlyKeys(TopLevelKeys);
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";

        var engineNode = root.Req("engine");
        var evaluator = registry.Get(engineNode.Text, engineNode.Location, engineNode.Path);

        var archs = ReadFiles(root.Opt("arch"), baseDir);
        var workloads = ReadFiles(root.Opt("workload"), baseDir);

        var optionsNode = root.Opt("options");
        var options = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        if (optionsNode is { IsNull: false })
            foreach (var (key, value) in optionsNode.Entries)
            {
                CheckOption(evaluator, key, optionsNode.KeyLocation(key), value.Path);
                options.Add(new(key, ScalarText(value)));
            }

        var fixedParameters = ReadFixed(root.Opt("set"), extraSets ?? []);
        foreach (var f in fixedParameters.Where(f => f.Name.Target == ParameterTarget.Option))
            CheckOption(evaluator, f.Name.Path, f.Location, f.Location is null ? "--set " + f.Name.Name : "set." + f.Name.Name);

        var axes = ReadAxes(root.Opt("parameters"), archs, workloads, root);
        foreach (var axis in axes)
            foreach (var n in axis.Names.Where(n => n.Target == ParameterTarget.Option))
                CheckOption(evaluator, n.Path, axis.Location, "parameters." + n.Name);
        foreach (var f in fixedParameters)
            if (axes.Any(a => a.IndexOf(f.Name.Name) >= 0))
                throw new InputException(f.Location, f.Location is null ? "--set" : "set." + f.Name.Name,
                    $"'{f.Name.Name}' is swept under parameters; it cannot also be fixed");

        long count = 1;
        foreach (var axis in axes) count *= axis.Count;
        if (count > SweepSpec.MaxPoints)
            throw new InputException(root.Opt("parameters")?.Location ?? root.Location, "parameters",
                $"the sweep has {Invariant.Grouped(count)} points; split it into several sweeps of at most {Invariant.Grouped(SweepSpec.MaxPoints)}");

        var metrics = ReadMetrics(root.Opt("metrics"), evaluator);
        var columnNames = axes.SelectMany(a => a.Names.Select(n => n.Name)).ToList();
        var baseline = ReadBaseline(root.Opt("baseline"), axes);
        var plots = ReadPlots(root.Opt("plots"), columnNames.Concat(metrics.Select(m => m.Name)).ToList());

        var name = root.OptString("name") ?? Path.GetFileNameWithoutExtension(file);
        var description = root.OptString("description") ?? "";
        var hash = Hash(text, archs, workloads, extraSets ?? []);

        var spec = new SweepSpec(file, name, description, evaluator.Engine, engineNode.Location, archs, workloads,
            options.ToImmutable(), optionsNode?.Location, fixedParameters, axes, metrics, baseline, plots, hash);
        CheckOverridesApply(spec);
        evaluator.Validate(spec);
        return spec;
    }

    // ---- spec files ----

    private static ImmutableArray<SpecFileChoice> ReadFiles(YNode? node, string baseDir)
    {
        if (node is null || node.IsNull) return [];
        if (node.IsScalar)
        {
            var f = ReadFile(node, baseDir);
            return [f with { Name = Path.GetFileNameWithoutExtension(f.WrittenPath) }];
        }
        if (!node.IsMapping)
            throw node.Error($"expected a file path or a mapping of name: path, found a {node.KindName}");
        var entries = node.Entries;
        if (entries.Count == 0) throw node.Error("empty mapping: name at least one file");
        return [.. entries.Select(e => ReadFile(e.Value, baseDir) with { Name = e.Key })];
    }

    private static SpecFileChoice ReadFile(YNode node, string baseDir)
    {
        var written = node.Text;
        if (string.IsNullOrWhiteSpace(written)) throw node.Error("empty file path");
        var full = Path.GetFullPath(Path.Combine(baseDir, written));
        if (!System.IO.File.Exists(full)) throw node.Error($"file not found: {written} (looked for {full})");
        var text = System.IO.File.ReadAllText(full);
        var choice = new SpecFileChoice(written, written, full, text, node.Location);
        // Surface syntax errors now, with the spec file's own location.
        YNode.LoadText(text, choice.DisplayPath);
        return choice;
    }

    // ---- fixed parameters and options ----

    private static ImmutableArray<FixedParameter> ReadFixed(YNode? node, IReadOnlyList<SpecOverride> extraSets)
    {
        var list = ImmutableArray.CreateBuilder<FixedParameter>();
        if (node is { IsNull: false })
            foreach (var (key, value) in node.Entries)
            {
                var name = ParameterName.Parse(key, node.KeyLocation(key), value.Path);
                if (name.Target is ParameterTarget.ArchChoice or ParameterTarget.WorkloadChoice)
                    throw new InputException(node.KeyLocation(key), value.Path,
                        $"'{key}' picks a file; write `{key}: path` at the top level instead");
                list.Add(new FixedParameter(name, ScalarText(value), node.KeyLocation(key)));
            }
        foreach (var o in extraSets)
        {
            var name = ParameterName.Parse((o.AddsField ? "+" : "") + o.Path, null, "--set");
            if (name.Target is ParameterTarget.ArchChoice or ParameterTarget.WorkloadChoice)
                throw new InputException(null, "--set", $"'{o.Path}' picks a file and cannot be set; edit the sweep file");
            list.Add(new FixedParameter(name, o.Value, null));
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in list)
            if (!seen.Add(f.Name.Name))
                throw new InputException(f.Location, f.Location is null ? "--set" : "set." + f.Name.Name,
                    $"'{f.Name.Name}' is set twice");
        return list.ToImmutable();
    }

    /// <summary>An option the engine does not read would be silently ignored: refuse it, suggesting the closest.</summary>
    private static void CheckOption(IPointEvaluator evaluator, string name, SourceLocation? location, string field)
    {
        if (evaluator.OptionNames is not { } known || known.Contains(name)) return;
        var expected = known.Count == 0 ? "it takes no options" : "it takes " + string.Join(", ", known);
        throw new InputException(location, field,
            $"unknown option '{name}' for engine {evaluator.Engine}{Suggest.DidYouMean(name, known)} ({expected})");
    }

    private static string ScalarText(YNode value)
    {
        var text = value.Text;
        if (text.Contains('\n') || text.Contains('\r')) throw value.Error("value must be on one line");
        return text;
    }

    // ---- axes ----

    private static ImmutableArray<ParameterAxis> ReadAxes(YNode? node, ImmutableArray<SpecFileChoice> archs,
        ImmutableArray<SpecFileChoice> workloads, YNode root)
    {
        var axes = new List<ParameterAxis>();
        if (node is { IsNull: false })
        {
            if (!node.IsMapping) throw node.Error($"expected a mapping with grid: and/or zip:, found a {node.KindName}");
            node.ExpectOnlyKeys("grid", "zip");
            foreach (var (key, block) in node.Entries)
            {
                if (key == "grid") axes.AddRange(ReadGrid(block));
                else axes.AddRange(ReadZips(block));
            }
        }

        // A `name: path` mapping under arch/workload sweeps every named file unless the parameters pick them.
        var implicitAxes = new List<ParameterAxis>();
        foreach (var (files, name, fileNode) in new[] { (archs, "arch", root.Opt("arch")), (workloads, "workload", root.Opt("workload")) })
        {
            var named = files.Length > 1 || (fileNode is { IsMapping: true });
            var explicitAxis = axes.FirstOrDefault(a => a.IndexOf(name) >= 0);
            if (explicitAxis is not null && !named)
                throw new InputException(explicitAxis.Location, "parameters." + name,
                    $"'{name}' is swept but the sweep's top-level `{name}:` is not a mapping of name: file");
            if (named && explicitAxis is null)
                implicitAxes.Add(new ParameterAxis([new ParameterName(name, name == "arch" ? ParameterTarget.ArchChoice : ParameterTarget.WorkloadChoice, "", false)],
                    [.. files.Select(f => ImmutableArray.Create(f.Name))], fileNode!.Location));
            if (explicitAxis is not null)
            {
                var j = explicitAxis.IndexOf(name);
                foreach (var entry in explicitAxis.Entries)
                    if (!files.Any(f => f.Name == entry[j]))
                        throw new InputException(explicitAxis.Location, "parameters." + name,
                            $"'{entry[j]}' is not one of the {name} files ({string.Join(", ", files.Select(f => f.Name))})");
            }
        }
        axes.InsertRange(0, implicitAxes);

        if (axes.Count == 0)
            throw new InputException(node?.Location ?? root.Location, "parameters",
                "the sweep varies nothing: add parameters.grid or parameters.zip (or name several arch/workload files)");

        var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var axis in axes)
            foreach (var n in axis.Names)
                if (!seen.TryAdd(n.Name, axis.Location))
                    throw new InputException(axis.Location, "parameters." + n.Name, $"'{n.Name}' is swept twice");
        return [.. axes];
    }

    private static IEnumerable<ParameterAxis> ReadGrid(YNode grid)
    {
        if (grid.IsNull || (grid.IsMapping && grid.Entries.Count == 0))
            throw grid.Error("empty grid: list at least one parameter with its values");
        if (!grid.IsMapping) throw grid.Error($"expected a mapping of parameter: values, found a {grid.KindName}");
        var axes = new List<ParameterAxis>();
        foreach (var (key, valuesNode) in grid.Entries)
        {
            var location = grid.KeyLocation(key);
            var name = ParameterName.Parse(key, location, valuesNode.Path);
            var values = ReadValues(valuesNode);
            axes.Add(new ParameterAxis([name], [.. values.Select(v => ImmutableArray.Create(v))], location));
        }
        return axes;
    }

    private static IEnumerable<ParameterAxis> ReadZips(YNode zip)
    {
        if (zip.IsNull) throw zip.Error("empty zip: give a mapping of parameter: [values] (or a list of such mappings)");
        var groups = zip.IsSequence ? zip.Items : [zip];
        if (groups.Count == 0) throw zip.Error("empty zip: give at least one group of parameters");
        foreach (var group in groups)
        {
            if (!group.IsMapping) throw group.Error($"expected a mapping of parameter: [values], found a {group.KindName}");
            var entries = group.Entries;
            if (entries.Count == 0) throw group.Error("empty zip group: list at least one parameter");
            var names = new List<ParameterName>();
            var columns = new List<IReadOnlyList<string>>();
            foreach (var (key, valuesNode) in entries)
            {
                var location = group.KeyLocation(key);
                names.Add(ParameterName.Parse(key, location, valuesNode.Path));
                var values = ReadValues(valuesNode);
                if (columns.Count > 0 && values.Count != columns[0].Count)
                    throw new InputException(location, valuesNode.Path,
                        $"zip lists differ in length: {entries[0].Key} has {columns[0].Count} values, {key} has {values.Count}");
                columns.Add(values);
            }
            var rows = Enumerable.Range(0, columns[0].Count)
                .Select(i => columns.Select(c => c[i]).ToImmutableArray()).ToImmutableArray();
            var dup = rows.GroupBy(r => string.Join("\u0001", r)).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null)
                throw group.Error($"duplicate zip entry ({string.Join(", ", dup.Key.Split('\u0001'))})");
            yield return new ParameterAxis([.. names], rows, group.Location);
        }
    }

    /// <summary>A list of values, a `{from, to, step}` or `{from, to, factor}` range, or a single value.</summary>
    private static IReadOnlyList<string> ReadValues(YNode node)
    {
        List<string> values;
        if (node.IsMapping) values = ReadRange(node);
        else if (node.IsSequence)
        {
            var items = node.Items;
            if (items.Count == 0) throw node.Error("empty list of values");
            values = [.. items.Select(ScalarText)];
        }
        else if (node.IsNull) throw node.Error("missing values: give a list, a range or a single value");
        else values = [ScalarText(node)];

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in values)
            if (!seen.Add(v)) throw node.Error($"duplicate value '{v}'");
        return values;
    }

    private static List<string> ReadRange(YNode node)
    {
        node.ExpectOnlyKeys("from", "to", "step", "factor");
        var from = node.Req("from").AsDouble();
        var to = node.Req("to").AsDouble();
        var stepNode = node.Opt("step");
        var factorNode = node.Opt("factor");
        if ((stepNode is null) == (factorNode is null))
            throw node.Error("bad range: give exactly one of step (arithmetic) or factor (geometric)");
        if (!double.IsFinite(from) || !double.IsFinite(to)) throw node.Error("bad range: from and to must be finite");

        var values = new List<string>();
        if (stepNode is not null)
        {
            var step = stepNode.AsDouble();
            if (step == 0 || !double.IsFinite(step)) throw stepNode.Error("bad range: step must be a non-zero number");
            var span = (to - from) / step;
            if (span < -1e-9)
                throw node.Error($"bad range: from {Invariant.Num(from)} never reaches {Invariant.Num(to)} with step {Invariant.Num(step)}");
            var count = (long)Math.Floor(span + 1e-9) + 1;
            if (count > MaxRangeValues) throw node.Error($"bad range: {Invariant.Grouped(count)} values (at most {Invariant.Grouped(MaxRangeValues)})");
            var exact = IsIntegral(from) && IsIntegral(step);
            for (var i = 0; i < count; i++) values.Add(Format(from + i * step, exact));
        }
        else
        {
            var factor = factorNode!.AsDouble();
            if (!(factor > 0) || factor == 1 || !double.IsFinite(factor))
                throw factorNode.Error("bad range: factor must be a positive number other than 1");
            if (!(from > 0) || !(to > 0)) throw node.Error("bad range: a geometric range needs from > 0 and to > 0");
            if ((factor > 1 && to < from) || (factor < 1 && to > from))
                throw node.Error($"bad range: from {Invariant.Num(from)} never reaches {Invariant.Num(to)} with factor {Invariant.Num(factor)}");
            var exact = IsIntegral(from) && IsIntegral(factor);
            var v = from;
            var tolerance = 1e-9 * Math.Abs(to);
            while (factor > 1 ? v <= to + tolerance : v >= to - tolerance)
            {
                values.Add(Format(v, exact));
                if (values.Count > MaxRangeValues) throw node.Error($"bad range: more than {Invariant.Grouped(MaxRangeValues)} values");
                v *= factor;
            }
        }
        return values;
    }

    private static bool IsIntegral(double v) => Math.Abs(v) < 9e15 && v == Math.Floor(v);

    /// <summary>Integral arithmetic stays exact; otherwise 15 significant digits remove binary noise (0.1*3).</summary>
    private static string Format(double v, bool exact) =>
        exact && Math.Abs(v) < 9e15 ? Invariant.Num(v) : Invariant.Num(double.Parse(v.ToString("G15", Invariant.Culture), Invariant.Culture));

    // ---- metrics, baseline, plots ----

    private static ImmutableArray<MetricInfo> ReadMetrics(YNode? node, IPointEvaluator evaluator)
    {
        if (node is null || node.IsNull) return [.. evaluator.Metrics];
        var items = node.ItemsOrSingle;
        if (items.Count == 0) throw node.Error("empty list of metrics (omit `metrics:` to keep them all)");
        var result = ImmutableArray.CreateBuilder<MetricInfo>();
        foreach (var item in items)
        {
            var name = item.Text;
            var info = evaluator.Metrics.FirstOrDefault(m => m.Name == name)
                       ?? throw item.Error($"unknown metric '{name}' for engine {evaluator.Engine}{Suggest.DidYouMean(name, evaluator.Metrics.Select(m => m.Name))} (known: {string.Join(", ", evaluator.Metrics.Select(m => m.Name))})");
            if (result.Contains(info)) throw item.Error($"metric '{name}' is listed twice");
            result.Add(info);
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<KeyValuePair<string, string>> ReadBaseline(YNode? node, IReadOnlyList<ParameterAxis> axes)
    {
        if (node is null || node.IsNull) return [];
        if (!node.IsMapping) throw node.Error($"expected a mapping of parameter: value such as `arch: flat`, found a {node.KindName}");
        var entries = node.Entries;
        if (entries.Count == 0) throw node.Error("empty baseline");
        var result = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (key, valueNode) in entries)
        {
            var value = ScalarText(valueNode);
            var axis = axes.FirstOrDefault(a => a.IndexOf(key) >= 0)
                       ?? throw new InputException(node.KeyLocation(key), valueNode.Path,
                           $"'{key}' is not a swept parameter{Suggest.DidYouMean(key, axes.SelectMany(a => a.Names.Select(n => n.Name)))}");
            var j = axis.IndexOf(key);
            if (!axis.Entries.Any(e => e[j] == value))
                throw valueNode.Error($"'{value}' is not among the swept values of {key} ({string.Join(", ", axis.Entries.Select(e => e[j]).Take(12))})");
            result.Add(new(key, value));
        }
        // With zip groups, replacing only some members must still give an existing entry.
        foreach (var axis in axes)
        {
            var touched = result.Where(b => axis.IndexOf(b.Key) >= 0).ToList();
            if (touched.Count == 0) continue;
            foreach (var entry in axis.Entries)
            {
                var wanted = entry.ToArray();
                foreach (var (k, v) in touched) wanted[axis.IndexOf(k)] = v;
                if (!axis.Entries.Any(e => e.SequenceEqual(wanted)))
                    throw node.Error($"no baseline point for {string.Join(", ", axis.Names.Select((n, i) => n.Name + "=" + entry[i]))}: " +
                                     $"the zip group has no entry ({string.Join(", ", axis.Names.Select((n, i) => n.Name + "=" + wanted[i]))})");
            }
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<PlotRequest> ReadPlots(YNode? node, IReadOnlyList<string> columns)
    {
        if (node is null || node.IsNull) return [];
        var result = ImmutableArray.CreateBuilder<PlotRequest>();
        foreach (var item in node.Items)
        {
            var request = PlotRequest.FromYaml(item);
            foreach (var column in request.ReferencedColumns())
                if (ResultTable.Resolve(columns, column) is null)
                    throw item.Error($"plot refers to unknown column '{column}'{Suggest.DidYouMean(column, columns.Concat(columns.Select(ResultTable.ShortName)))} (columns: {string.Join(", ", columns)})");
            result.Add(request);
        }
        var files = result.Select(p => p.DefaultFileName()).GroupBy(f => f).FirstOrDefault(g => g.Count() > 1);
        if (files is not null) throw node.Error($"two plots would both be written to {files.Key}; give one of them a `file:`");
        return result.ToImmutable();
    }

    // ---- checks and hash ----

    /// <summary>Applies the first value of every swept field to every spec file, so that a wrong field path is
    /// reported now, at the sweep file's line, rather than once per point.</summary>
    private static void CheckOverridesApply(SweepSpec spec)
    {
        var first = spec.PointAt(0);
        foreach (var (files, target, prefix) in new[]
                 {
                     (spec.Archs, ParameterTarget.ArchField, "arch."),
                     (spec.Workloads, ParameterTarget.WorkloadField, "workload."),
                 })
        {
            var overrides = first.Overrides(target);
            if (overrides.Count == 0) continue;
            if (files.IsEmpty) YamlOverrides.Apply("", "<" + prefix.TrimEnd('.') + " overrides>", overrides, prefix);
            foreach (var f in files) YamlOverrides.Apply(f.Text, f.DisplayPath, overrides, prefix);
        }
    }

    private static string Hash(string sweepText, ImmutableArray<SpecFileChoice> archs, ImmutableArray<SpecFileChoice> workloads,
        IReadOnlyList<SpecOverride> extraSets)
    {
        var sb = new StringBuilder("accelsim-sweep/1\n");
        sb.Append(Normalize(sweepText));
        foreach (var o in extraSets) sb.Append("\n--set ").Append(o);
        foreach (var f in archs.Concat(workloads))
            sb.Append("\n--file ").Append(f.Name).Append(' ').Append(f.WrittenPath).Append('\n').Append(Normalize(f.Text));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");
}
