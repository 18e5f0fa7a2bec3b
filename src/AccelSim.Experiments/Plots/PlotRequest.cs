using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Experiments.Results;

namespace AccelSim.Experiments.Plots;

/// <summary>The plot kinds `accelsim plot` and reports draw.</summary>
public enum PlotKind
{
    /// <summary>Speedup of each group over a baseline, grouped bars per x category.</summary>
    Speedup,
    /// <summary>Energy breakdown: one stacked bar per x category, one layer per y column.</summary>
    Energy,
    /// <summary>Utilisation per array: grouped bars, one series per (group, y column).</summary>
    Utilization,
    /// <summary>Roofline: attainable vs operational intensity (log-log) with measured points.</summary>
    Roofline,
    /// <summary>Pareto front of two lower-is-better metrics (e.g. area or energy vs latency).</summary>
    Pareto,
    /// <summary>Predicted (y) vs measured (x), log-log, with y = x and a +-10% band.</summary>
    Parity,
    /// <summary>A metric against a parameter, one line per group.</summary>
    Line,
}

/// <summary>How an axis is scaled; <see cref="Auto"/> picks log when the data spans more than two decades.</summary>
public enum AxisScale
{
    Auto,
    Linear,
    Log,
}

/// <summary>
/// A plot of a results table. Column names may be written in full (`workload.seq_len`) or by their last
/// dotted part when that is unambiguous (`seq_len`).
/// </summary>
public sealed record PlotRequest
{
    public required PlotKind Kind { get; init; }

    /// <summary>Category or x column (speedup/energy/utilization/line: categories; roofline: operational intensity;
    /// pareto: latency; parity: measured).</summary>
    public string? X { get; init; }

    /// <summary>Value columns (speedup: the time metric; energy: the stacked components; utilization: one per array;
    /// roofline: achieved FLOP/s; pareto: area or energy; parity: predicted).</summary>
    public ImmutableArray<string> Y { get; init; } = [];

    /// <summary>Series column: one bar colour / line / marker set per distinct value.</summary>
    public string? Group { get; init; }

    /// <summary>Rows kept: every `column = value` must hold.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Where { get; init; } = [];

    /// <summary>Parameter columns a bar or line point may average over (geometric mean for speedups and lines,
    /// arithmetic for energy and utilisation). Rows of one bar or point that differ in any other parameter column
    /// not named by x, group or where are refused rather than blended.</summary>
    public ImmutableArray<string> MeanOver { get; init; } = [];

    /// <summary>Speedup baseline assignment (`arch=flat`); empty: the sweep's baseline.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Baseline { get; init; } = [];

    public string? Title { get; init; }

    /// <summary>Roofline peak compute: a number in FLOP/s or a column name.</summary>
    public string? Peak { get; init; }

    /// <summary>Roofline memory bandwidth: a number in B/s or a column name.</summary>
    public string? Bandwidth { get; init; }

    /// <summary>File name (without folder) a report writes this plot to; default `KIND-Y.png`.</summary>
    public string? File { get; init; }

    public AxisScale XScale { get; init; } = AxisScale.Auto;
    public AxisScale YScale { get; init; } = AxisScale.Auto;

    public int Width { get; init; } = 1200;
    public int Height { get; init; } = 800;

    public static PlotKind ParseKind(string text, SourceLocation? location, string field) =>
        text.Trim().ToLowerInvariant() switch
        {
            "speedup" => PlotKind.Speedup,
            "energy" or "energy-breakdown" => PlotKind.Energy,
            "utilization" or "utilisation" or "util" => PlotKind.Utilization,
            "roofline" => PlotKind.Roofline,
            "pareto" => PlotKind.Pareto,
            "parity" => PlotKind.Parity,
            "line" => PlotKind.Line,
            _ => throw new InputException(location, field,
                $"unknown plot kind '{text}'{Suggest.DidYouMean(text.Trim(), KindNames)} (expected one of: {string.Join(", ", KindNames)})"),
        };

    public static readonly IReadOnlyList<string> KindNames =
        ["speedup", "energy", "utilization", "roofline", "pareto", "parity", "line"];

    public static string KindName(PlotKind kind) => kind.ToString().ToLowerInvariant();

    public static AxisScale ParseScale(string text, SourceLocation? location, string field) =>
        text.Trim().ToLowerInvariant() switch
        {
            "auto" => AxisScale.Auto,
            "linear" or "lin" => AxisScale.Linear,
            "log" => AxisScale.Log,
            _ => throw new InputException(location, field, $"expected auto, linear or log, found '{text}'"),
        };

    /// <summary>The file name a report uses when <see cref="File"/> is not given.</summary>
    public string DefaultFileName(string extension = ".png")
    {
        if (File is { } f) return f;
        var y = Y.IsDefaultOrEmpty ? "" : "-" + string.Join("+", Y.Select(ResultTable.ShortName));
        var name = KindName(Kind) + y + (Group is null ? "" : "-by-" + ResultTable.ShortName(Group));
        var safe = new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '+' ? c : '_').ToArray());
        return safe + extension;
    }

    /// <summary>Every column name this request refers to (checked against a table before plotting).</summary>
    public IEnumerable<string> ReferencedColumns()
    {
        if (X is not null) yield return X;
        foreach (var y in Y) yield return y;
        if (Group is not null) yield return Group;
        foreach (var (k, _) in Where) yield return k;
        foreach (var (k, _) in Baseline) yield return k;
        foreach (var m in MeanOver) yield return m;
    }

    /// <summary>Reads a plot entry of a sweep file's `plots:` list.</summary>
    public static PlotRequest FromYaml(YNode node)
    {
        node.ExpectOnlyKeys("kind", "x", "y", "group", "where", "mean_over", "baseline", "title", "peak", "bandwidth", "file",
            "x_scale", "y_scale", "width", "height");
        var kindNode = node.Req("kind");
        var request = new PlotRequest
        {
            Kind = ParseKind(kindNode.Text, kindNode.Location, kindNode.Path),
            X = node.OptString("x"),
            Y = node.Opt("y") is { IsNull: false } y ? [.. y.ItemsOrSingle.Select(i => i.Text)] : [],
            Group = node.OptString("group"),
            Where = ReadAssignments(node.Opt("where")),
            MeanOver = node.Opt("mean_over") is { IsNull: false } m ? [.. m.ItemsOrSingle.Select(i => i.Text)] : [],
            Baseline = ReadAssignments(node.Opt("baseline")),
            Title = node.OptString("title"),
            Peak = node.OptString("peak"),
            Bandwidth = node.OptString("bandwidth"),
            File = node.OptString("file"),
            XScale = node.Opt("x_scale") is { } xs ? ParseScale(xs.Text, xs.Location, xs.Path) : AxisScale.Auto,
            YScale = node.Opt("y_scale") is { } ys ? ParseScale(ys.Text, ys.Location, ys.Path) : AxisScale.Auto,
            Width = Pixels(node, "width", 1200),
            Height = Pixels(node, "height", 800),
        };
        foreach (var (key, value) in new[] { ("peak", request.Peak), ("bandwidth", request.Bandwidth) })
            if (value is not null && Invariant.TryParseDouble(value, out var number) && !(number > 0 && double.IsFinite(number)))
                throw node.Req(key).Error($"must be a positive finite number or a column name, found '{value}'");
        if (request.File is { } file && (file.Contains('/') || file.Contains('\\') ||
                                        !(file.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ||
                                          file.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))))
            throw node.Req("file").Error("must be a file name ending in .png or .svg, without a folder");
        return request;
    }

    /// <summary>Checked before narrowing, so that a huge value is refused instead of wrapping into range.</summary>
    private static int Pixels(YNode node, string key, int fallback)
    {
        if (node.OptLong(key) is not { } v) return fallback;
        if (v is < 200 or > 10000) throw node.Req(key).Error("must be between 200 and 10000 pixels");
        return (int)v;
    }

    private static ImmutableArray<KeyValuePair<string, string>> ReadAssignments(YNode? node) =>
        node is null || node.IsNull ? [] : [.. node.Entries.Select(e => new KeyValuePair<string, string>(e.Key, e.Value.Text))];
}
