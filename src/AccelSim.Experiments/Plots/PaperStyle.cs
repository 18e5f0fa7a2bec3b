using AccelSim.Core;
using AccelSim.Experiments.Results;
using AccelSim.Experiments.Sweeps;
using ScottPlot;

namespace AccelSim.Experiments.Plots;

/// <summary>
/// Paper-size styling shared by every plot: explicit font sizes for a 1200x800 px figure (readable when
/// scaled to one column), thick lines, large markers and a colour-blind-safe palette.
/// </summary>
public static class PaperStyle
{
    public const float TitleSize = 30;
    public const float AxisLabelSize = 26;
    public const float TickLabelSize = 21;
    public const float LegendSize = 21;
    public const float LineWidth = 3;
    public const float MarkerSize = 13;

    /// <summary>Okabe-Ito colours (colour-blind safe), then ScottPlot's Category10.</summary>
    private static readonly Color[] Colours =
    [
        Color.FromHex("#0072B2"), Color.FromHex("#E69F00"), Color.FromHex("#009E73"), Color.FromHex("#D55E00"),
        Color.FromHex("#CC79A7"), Color.FromHex("#56B4E9"), Color.FromHex("#F0E442"), Color.FromHex("#000000"),
    ];

    private static readonly IPalette Fallback = new ScottPlot.Palettes.Category10();

    public static Color Colour(int i) => i < Colours.Length ? Colours[i] : Fallback.GetColor(i - Colours.Length);

    public static readonly MarkerShape[] Markers =
        [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
         MarkerShape.FilledTriangleDown, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.Cross];

    public static MarkerShape Marker(int i) => Markers[i % Markers.Length];

    /// <summary>A sans-serif face: DejaVu Sans when installed (most Linux machines), else the system's sans.</summary>
    public static readonly string FontName =
        Fonts.GetTypeface("DejaVu Sans", false, false)?.FamilyName == "DejaVu Sans" ? "DejaVu Sans" : Fonts.Sans;

    public static void Apply(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Font.Set(FontName, FontWeight.Normal, FontSlant.Upright, FontSpacing.Normal);
        plot.Title(title, TitleSize);
        plot.XLabel(xLabel, AxisLabelSize);
        plot.YLabel(yLabel, AxisLabelSize);
        plot.Axes.Title.Label.Bold = true;
        plot.Axes.Bottom.Label.Bold = true;
        plot.Axes.Left.Label.Bold = true;
        // Linear ticks: plain numbers in the readable range, SI prefixes beyond it (1.5T, not 1,500,000,000,000).
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = LinearTick };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = LinearTick };
        plot.Axes.Bottom.TickLabelStyle.FontSize = TickLabelSize;
        plot.Axes.Left.TickLabelStyle.FontSize = TickLabelSize;
        plot.Axes.Bottom.MajorTickStyle.Length = 8;
        plot.Axes.Left.MajorTickStyle.Length = 8;
        plot.Legend.FontSize = LegendSize;
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.12);
    }

    public static string LinearTick(double value)
    {
        var mag = Math.Abs(value);
        if (mag < 1e-12) return "0";
        return mag >= 1e4 || mag < 1e-2 ? Si(value) : value.ToString("0.###", Invariant.Culture);
    }

    /// <summary>Puts the legend to the right of the data area (it never hides bars or points).</summary>
    public static void ShowLegendOutside(Plot plot)
    {
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = LegendSize;
    }

    /// <summary>Category tick labels under bar groups; rotated when there are many.</summary>
    public static void CategoryTicks(Plot plot, IReadOnlyList<string> labels)
    {
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, labels.Count).Select(i => (double)i)], [.. labels]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (labels.Count > 8 || labels.Sum(l => l.Length) > 90)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        }
    }

    /// <summary>
    /// Log axis: data are plotted as log10(value) and this puts ticks at 1-2-5 (or whole decades when the data
    /// span more than two decades) labelled with SI prefixes, plus minor ticks at 2..9 x 10^k.
    /// </summary>
    public static void LogTicks(IAxis axis, double log10Min, double log10Max)
    {
        if (!double.IsFinite(log10Min) || !double.IsFinite(log10Max)) return;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var lo = (int)Math.Floor(log10Min) - 1;
        var hi = (int)Math.Ceiling(log10Max) + 1;
        var span = log10Max - log10Min;
        double[] mantissas = span < 1.2 ? [1, 2, 5] : span < 2.5 ? [1, 3] : [1];
        var step = span > 12 ? 2 : 1;
        for (var d = lo; d <= hi; d++)
        {
            for (var m = 1; m <= 9; m++)
            {
                var value = m * Math.Pow(10, d);
                var position = Math.Log10(value);
                if (mantissas.Contains(m) && (m != 1 || (d - lo) % step == 0))
                    ticks.AddMajor(position, Si(value));
                else
                    ticks.AddMinor(position);
            }
        }
        axis.TickGenerator = ticks;
    }

    private static readonly (double Factor, string Prefix)[] SiPrefixes =
    [
        (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"),
    ];

    /// <summary>Compact SI label for a tick: 1500 -> "1.5k", 2e-6 -> "2µ".</summary>
    public static string Si(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return Invariant.Num(value);
        var mag = Math.Abs(value);
        foreach (var (factor, prefix) in SiPrefixes)
            if (mag >= factor * 0.999999)
                return (value / factor).ToString("0.##", Invariant.Culture) + prefix;
        return value.ToString("0.##e0", Invariant.Culture);
    }

    private static readonly string[] ScalableUnits = ["s", "J", "B", "FLOP", "FLOP/s", "B/s", "W", "Hz", "op", "ops", "op/s", "MAC"];

    private static readonly (string Prefix, double Factor)[] UnitPrefixes =
        [("p", 1e-12), ("n", 1e-9), ("u", 1e-6), ("µ", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15)];

    /// <summary>
    /// Rescales values of <paramref name="unit"/> so that <paramref name="maxAbs"/> reads between 1 and 1000:
    /// (1.9e12, "pJ") -> multiply by 1e-12 and label "J". Units without an SI base are left alone.
    /// </summary>
    public static (double Factor, string Unit) Rescale(double maxAbs, string unit)
    {
        if (!double.IsFinite(maxAbs) || maxAbs <= 0) return (1, unit);
        if (unit == "um^2" && maxAbs >= 1e5) return (1e-6, "mm^2");
        double toBase = 1;
        var baseUnit = unit;
        if (!ScalableUnits.Contains(unit))
        {
            var prefix = UnitPrefixes.FirstOrDefault(p => unit.StartsWith(p.Prefix, StringComparison.Ordinal) &&
                                                          ScalableUnits.Contains(unit[p.Prefix.Length..]));
            if (prefix.Prefix is null) return (1, unit);
            toBase = prefix.Factor;
            baseUnit = unit[prefix.Prefix.Length..];
        }
        var inBase = maxAbs * toBase;
        foreach (var (factor, p) in SiPrefixes)
            if (inBase >= factor * 0.999999)
                return (toBase / factor, p + baseUnit);
        return (toBase / 1e-12, "p" + baseUnit);
    }

    /// <summary>The value in SI base units: (1e-12, "J") for "pJ"; for log axes, whose ticks carry the SI prefix.</summary>
    public static (double Factor, string Unit) ToBase(string unit)
    {
        if (ScalableUnits.Contains(unit)) return (1, unit);
        var prefix = UnitPrefixes.FirstOrDefault(p => unit.StartsWith(p.Prefix, StringComparison.Ordinal) &&
                                                      ScalableUnits.Contains(unit[p.Prefix.Length..]));
        return prefix.Prefix is null ? (1, unit) : (prefix.Factor, unit[prefix.Prefix.Length..]);
    }

    private static readonly string[] UnitSuffixes =
        ["_s", "_ms", "_us", "_ns", "_cycles", "_pJ", "_nJ", "_uJ", "_mJ", "_J", "_bytes", "_B", "_um2", "_mm2",
         "_flops_per_s", "_flop_per_s", "_per_s", "_flops_per_byte"];

    /// <summary>"Latency" for `latency_s`, "Energy dram" for `energy_dram_pJ`, "seq_len" for `workload.seq_len`.</summary>
    public static string Humanize(string column, MetricInfo? info = null)
    {
        var name = ResultTable.ShortName(column);
        foreach (var suffix in UnitSuffixes.Prepend(info is { Unit.Length: > 0 } ? "_" + info.Unit : "_"))
            if (suffix.Length > 1 && name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length)
            {
                name = name[..^suffix.Length];
                break;
            }
        name = name.Replace('_', ' ');
        return name.Length == 0 ? column : char.ToUpperInvariant(name[0]) + name[1..];
    }

    public static string AxisLabel(string text, string unit) =>
        unit.Length == 0 || unit == "fraction" ? text : $"{text} ({unit.Replace("^2", "²").Replace("um", "µm")})";
}
