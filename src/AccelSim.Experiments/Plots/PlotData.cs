using AccelSim.Core;
using AccelSim.Experiments.Results;

namespace AccelSim.Experiments.Plots;

/// <summary>Checks on the data a plot is drawn from: value columns must be numbers, and the rows folded into one
/// bar or line point must not differ in a parameter the request does not name.</summary>
internal static class PlotData
{
    /// <summary>Refuses a column with text in it, or with no number at all among the plotted rows: an empty
    /// figure is never drawn.</summary>
    public static void RequireNumeric(ResultTable t, string column, string field)
    {
        var c = t.Column(column, field);
        if (t.IsNumeric(c) && Enumerable.Range(0, t.Count).Any(r => double.IsFinite(t.Number(r, c)))) return;
        var text = Enumerable.Range(0, t.Count).FirstOrDefault(r => t.Text(r, c).Length > 0 && !Invariant.TryParseDouble(t.Text(r, c), out _), -1);
        var problem = text >= 0
            ? $"column '{t.Name(column)}' is not numeric (a plotted row has '{Clip(t.Text(text, c))}'); choose a numeric column"
            : $"column '{t.Name(column)}' has no numeric values in the plotted rows";
        throw new InputException(SourceLocation.FileOnly(t.Source), field, problem);
    }

    /// <summary>
    /// Refuses to fold rows that differ in an unnamed parameter column into one bar or point. <paramref name="cell"/>
    /// gives each plotted row its bar (or point) key and a label such as `seq_len=1024, arch=big`; rows with a null
    /// key are not plotted. Parameter columns named as x, group, a where filter or mean-over may vary.
    /// </summary>
    public static void RefuseBlending(ResultTable t, PlotRequest r, string kind, IEnumerable<int> rows,
        Func<int, (string Key, string Label)?> cell, params string?[] named)
    {
        var allowed = named.OfType<string>().Concat(r.MeanOver).Concat(r.Where.Select(w => w.Key))
            .Select(n => t.Column(n, "plot " + kind)).ToHashSet();
        var columns = t.ParameterColumns.Select(p => t.Column(p)).Where(c => !allowed.Contains(c)).Distinct().ToArray();
        if (columns.Length == 0) return;
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (cell(row) is not { } key) continue;
            if (!first.TryGetValue(key.Key, out var other))
            {
                first[key.Key] = row;
                continue;
            }
            foreach (var c in columns)
            {
                var a = t.Text(other, c);
                var b = t.Text(row, c);
                if (a == b) continue;
                var name = t.Columns[c];
                var shortName = ResultTable.Resolve(t.Columns, ResultTable.ShortName(name)) == name ? ResultTable.ShortName(name) : name;
                var unit = kind == "line" ? "point" : "bar";
                throw new InputException(SourceLocation.FileOnly(t.Source), "plot " + kind,
                    $"rows of one {unit} ({key.Label}) differ in {name} ({Clip(a)}, {Clip(b)}); name the column: " +
                    $"--where {shortName}={Clip(a)} keeps one value, --x or --group {shortName} splits them, " +
                    $"--mean-over {shortName} averages over it");
            }
        }
    }

    /// <summary>" (geometric mean over clock_hz)" for a default title when the request averages; else "".</summary>
    public static string MeanNote(ResultTable t, PlotRequest r, bool geometric) =>
        r.MeanOver.IsDefaultOrEmpty ? ""
            : $" ({(geometric ? "geometric " : "")}mean over {string.Join(", ", r.MeanOver.Select(m => ResultTable.ShortName(t.Name(m))))})";

    public static string Label(ResultTable t, params (int Column, string Value)[] parts) =>
        string.Join(", ", parts.Where(p => p.Column >= 0).Select(p => ResultTable.ShortName(t.Columns[p.Column]) + "=" + Clip(p.Value)));

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
