using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// One value an engine reports for a sweep point: a number (the common case) or a short text such as
/// a bound ("memory") or a chosen mapping name. Numbers are written round-trippable and culture-invariant.
/// </summary>
public readonly record struct MetricValue
{
    private MetricValue(double number, string? text)
    {
        Number = number;
        Text = text;
    }

    /// <summary>The numeric value, or NaN for a text value.</summary>
    public double Number { get; }

    /// <summary>The text value, or null for a number.</summary>
    public string? Text { get; }

    public bool IsNumber => Text is null;

    public static MetricValue Of(double number) => new(number, null);

    /// <summary>A text value; line breaks are folded so that every CSV row stays on one line.</summary>
    public static MetricValue Of(string text) => new(double.NaN, text.ReplaceLineEndings(" "));

    public static implicit operator MetricValue(double number) => Of(number);
    public static implicit operator MetricValue(long number) => Of(number);
    public static implicit operator MetricValue(string text) => Of(text);

    /// <summary>The CSV form: shortest round-trip number or the text.</summary>
    public string Format() => Text ?? Invariant.Num(Number);

    public override string ToString() => Format();
}
