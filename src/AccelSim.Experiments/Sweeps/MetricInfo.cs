namespace AccelSim.Experiments.Sweeps;

/// <summary>What a metric measures; drives default plots, units on axes and which direction is better.</summary>
public enum MetricKind
{
    Time,
    Energy,
    Area,
    Traffic,
    Utilization,
    Throughput,
    Intensity,
    Count,
    Ratio,
    Text,
    Other,
}

public enum Better
{
    None,
    Lower,
    Higher,
}

/// <summary>A metric an engine can report. <see cref="Unit"/> is printed on plot axes, e.g. "s", "pJ", "B", "FLOP/s".</summary>
public sealed record MetricInfo(string Name, string Unit, MetricKind Kind, string Description)
{
    public Better Better => Kind switch
    {
        MetricKind.Time or MetricKind.Energy or MetricKind.Area or MetricKind.Traffic => Better.Lower,
        MetricKind.Utilization or MetricKind.Throughput => Better.Higher,
        _ => Better.None,
    };

    public bool IsNumeric => Kind != MetricKind.Text;

    /// <summary>
    /// Best guess for a column that comes without metadata (e.g. a CSV written by `reproduce`), from naming
    /// conventions: `_s` seconds, `_pJ` picojoules, `_bytes`, `util*`, `*_flops`.
    /// </summary>
    public static MetricInfo Infer(string column)
    {
        var name = column.Contains('.') ? column[(column.LastIndexOf('.') + 1)..] : column;
        var lower = name.ToLowerInvariant();
        if (lower.StartsWith("util", StringComparison.Ordinal) || lower.EndsWith("_util", StringComparison.Ordinal) ||
            lower.Contains("utilization", StringComparison.Ordinal) || lower.Contains("utilisation", StringComparison.Ordinal))
            return new(column, "fraction", MetricKind.Utilization, "");
        foreach (var (suffix, unit, kind) in Suffixes)
            if (name.EndsWith(suffix, StringComparison.Ordinal))
                return new(column, unit, kind, "");
        if (lower is "latency" or "time" or "runtime") return new(column, "s", MetricKind.Time, "");
        if (lower is "energy") return new(column, "pJ", MetricKind.Energy, "");
        if (lower is "traffic" or "bytes") return new(column, "B", MetricKind.Traffic, "");
        if (lower is "area") return new(column, "um^2", MetricKind.Area, "");
        return new(column, "", MetricKind.Other, "");
    }

    private static readonly (string Suffix, string Unit, MetricKind Kind)[] Suffixes =
    [
        ("_ms", "ms", MetricKind.Time), ("_us", "us", MetricKind.Time), ("_ns", "ns", MetricKind.Time),
        ("_s", "s", MetricKind.Time), ("_cycles", "cycles", MetricKind.Time),
        ("_pJ", "pJ", MetricKind.Energy), ("_nJ", "nJ", MetricKind.Energy), ("_uJ", "uJ", MetricKind.Energy),
        ("_mJ", "mJ", MetricKind.Energy), ("_J", "J", MetricKind.Energy),
        ("_bytes", "B", MetricKind.Traffic), ("_B", "B", MetricKind.Traffic),
        ("_um2", "um^2", MetricKind.Area), ("_mm2", "mm^2", MetricKind.Area),
        ("_flops_per_s", "FLOP/s", MetricKind.Throughput), ("_flop_per_s", "FLOP/s", MetricKind.Throughput),
        ("_flops_per_byte", "FLOP/B", MetricKind.Intensity), ("_intensity", "FLOP/B", MetricKind.Intensity),
        ("_flops", "FLOP", MetricKind.Count),
    ];
}
