using System.Globalization;

namespace AccelSim.Core;

/// <summary>Culture-independent number formatting and parsing used for everything AccelSim prints or reads.</summary>
public static class Invariant
{
    public static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>Round-trippable shortest representation ("R" semantics).</summary>
    public static string Num(double value) => value.ToString("R", Culture);

    public static string Num(long value) => value.ToString(Culture);

    /// <summary>Fixed significant digits for human-facing tables, e.g. 3.142e+09 or 0.8896.</summary>
    public static string Sig(double value, int digits = 4)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) return value.ToString(Culture);
        if (value == 0) return "0";
        var mag = Math.Abs(value);
        return mag >= 1e6 || mag < 1e-3
            ? value.ToString("0." + new string('#', digits - 1) + "e+00", Culture)
            // "G" switches to exponent notation once the exponent reaches the precision (30270 -> 3.027E+04):
            // print that in the same lower-case style as the branch above.
            : value.ToString("G" + digits, Culture).Replace("E+", "e+", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);
    }

    /// <summary>A whole number exactly (4194304, not 4.194e+06); any other value as <see cref="Sig"/> does.</summary>
    public static string WholeOrSig(double value, int digits = 4) =>
        double.IsFinite(value) && value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? ((long)value).ToString(Culture)
            : Sig(value, digits);

    /// <summary>Integer with thousands separators (1,234,567), culture-independent.</summary>
    public static string Grouped(long value) => value.ToString("#,0", Culture);

    public static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, Culture, out value);

    public static bool TryParseLong(string text, out long value) =>
        long.TryParse(text, NumberStyles.Integer, Culture, out value);
}
