using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Model;

namespace AccelSim.Mapper;

/// <summary>A quantity the mapper minimises, read from the model's result.</summary>
public enum Metric
{
    /// <summary>Latency in cycles.</summary>
    Cycles,
    /// <summary>Total energy (pJ).</summary>
    Energy,
    /// <summary>Energy-delay product (pJ x cycles).</summary>
    Edp,
    /// <summary>Off-chip (DRAM) traffic in bytes.</summary>
    DramBytes,
}

/// <summary>
/// What to minimise: one metric, or several compared lexicographically (`cycles,energy`: fewest cycles, then least
/// energy among equals). Values are compared exactly, as Timeloop's mapper does.
/// </summary>
public sealed record Objective(ImmutableArray<Metric> Metrics)
{
    public const int MaxMetrics = 4;

    public static Objective Edp { get; } = new(ImmutableArray.Create(Metric.Edp));

    /// <summary>The first metric that needs energies (energy or edp), or null: such an objective needs energy tables.</summary>
    public Metric? EnergyMetric => Metrics.Any(m => m is Metric.Energy or Metric.Edp) ? Metrics.First(m => m is Metric.Energy or Metric.Edp) : null;

    public static Objective Parse(string text)
    {
        var parts = text.Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new InputException(null, "--objective", "empty objective (expected e.g. edp, cycles, energy, dram or cycles,energy)");
        if (parts.Length > MaxMetrics) throw new InputException(null, "--objective", $"at most {MaxMetrics} metrics");
        var list = ImmutableArray.CreateBuilder<Metric>();
        foreach (var p in parts)
        {
            Metric m = p.Trim().ToLowerInvariant() switch
            {
                "cycles" or "latency" or "delay" => Metric.Cycles,
                "energy" => Metric.Energy,
                "edp" => Metric.Edp,
                "dram" or "dram_bytes" or "dram-traffic" or "dram_traffic" or "offchip" or "last-level-accesses" => Metric.DramBytes,
                _ => throw new InputException(null, "--objective", $"unknown metric '{p}' (expected cycles, energy, edp or dram)"),
            };
            if (list.Contains(m)) throw new InputException(null, "--objective", $"metric '{p}' appears twice");
            list.Add(m);
        }
        return new Objective(list.ToImmutable());
    }

    public static double Value(Metric metric, EvalResult r) => metric switch
    {
        Metric.Cycles => r.Cycles,
        Metric.Energy => r.EnergyPJ,
        Metric.Edp => r.Cycles * r.EnergyPJ,
        _ => r.OffChipBytes,
    };

    public Score ScoreOf(EvalResult r)
    {
        var s = default(Score);
        for (int i = 0; i < Metrics.Length; i++) s[i] = Value(Metrics[i], r);
        return s;
    }

    public static string Name(Metric m) => m switch
    {
        Metric.Cycles => "cycles",
        Metric.Energy => "energy",
        Metric.Edp => "edp",
        _ => "dram",
    };

    public override string ToString() => string.Join(",", Metrics.Select(Name));
}

/// <summary>Metric values of one mapping in objective order; unused entries are 0 and compare equal.</summary>
[System.Runtime.CompilerServices.InlineArray(Objective.MaxMetrics)]
public struct Score
{
    private double _element0;

    public static Score Worst
    {
        get
        {
            var s = default(Score);
            for (int i = 0; i < Objective.MaxMetrics; i++) s[i] = double.PositiveInfinity;
            return s;
        }
    }

    /// <summary>Lexicographic comparison (negative when <paramref name="a"/> is better).</summary>
    public static int Compare(in Score a, in Score b)
    {
        for (int i = 0; i < Objective.MaxMetrics; i++)
        {
            int c = a[i].CompareTo(b[i]);
            if (c != 0) return c;
        }
        return 0;
    }

    public readonly double Primary => this[0];
}
