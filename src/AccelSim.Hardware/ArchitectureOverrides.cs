using AccelSim.Core;

namespace AccelSim.Hardware;

/// <summary>
/// Applies `--set LEVEL.FIELD=VALUE` (or `clock_hz=VALUE`) overrides to a parsed architecture.
/// Fields: capacity_words, word_bits, block_size, read_bandwidth, write_bandwidth, shared_bandwidth,
/// multiple_buffering, read_pj, write_pj, update_pj, leak_pj; on a compute unit: the energy of an action by its name.
/// </summary>
public static class ArchitectureOverrides
{
    public static Architecture Apply(Architecture arch, IEnumerable<string> assignments)
    {
        foreach (var a in assignments) arch = ApplyOne(arch, a);
        return arch;
    }

    private static Architecture ApplyOne(Architecture arch, string assignment)
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0) throw new InputException(null, "--set", $"expected KEY=VALUE, found '{assignment}'");
        var key = assignment[..eq].Trim();
        if (key.StartsWith("arch.", StringComparison.Ordinal)) key = key["arch.".Length..]; // the sweep spelling
        var text = assignment[(eq + 1)..].Trim();
        if (!Invariant.TryParseDouble(text, out var value))
            throw new InputException(null, "--set " + key, $"expected a number, found '{text}'");
        if (!double.IsFinite(value))
            throw new InputException(null, "--set " + key, $"must be a finite number, found '{text}'");
        if (key is "clock_hz")
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new InputException(null, "--set " + key, "must be > 0");
            return arch with { ClockHz = value };
        }
        var dot = key.LastIndexOf('.');
        if (dot <= 0) throw new InputException(null, "--set", $"expected LEVEL.FIELD=VALUE or clock_hz=VALUE, found '{assignment}'");
        var owner = key[..dot];
        var field = key[(dot + 1)..];
        if (value < 0 || double.IsNaN(value)) throw new InputException(null, "--set " + key, "must be >= 0");
        if (arch.FindLevel(owner) is { } level)
        {
            StorageLevel updated = field switch
            {
                "capacity_words" => level with { CapacityWords = PositiveLong(key, value, MaxExactInteger) },
                "word_bits" => level with { WordBits = (int)PositiveLong(key, value, int.MaxValue) },
                "block_size" => level with { BlockSize = (int)PositiveLong(key, value, int.MaxValue) },
                "read_bandwidth" => level with { ReadBandwidth = PositiveFinite(key, value) },
                "write_bandwidth" => level with { WriteBandwidth = PositiveFinite(key, value) },
                "shared_bandwidth" => level with { SharedBandwidth = PositiveFinite(key, value) },
                "multiple_buffering" => level with { MultipleBuffering = value >= 1 ? value : throw new InputException(null, "--set " + key, $"must be >= 1, found {Invariant.Num(value)}") },
                "read_pj" => level with { ReadEnergy = new Sourced(value, "--set") },
                "write_pj" => level with { WriteEnergy = new Sourced(value, "--set") },
                "update_pj" => level with { UpdateEnergy = new Sourced(value, "--set") },
                "leak_pj" => level with { LeakPerCycle = new Sourced(value, "--set") },
                _ => throw new InputException(null, "--set " + key, $"unknown storage field '{field}'"),
            };
            return arch with { Storage = arch.Storage.Replace(level, updated) };
        }
        if (arch.Compute.FirstOrDefault(c => c.Name == owner) is { } unit)
        {
            if (!unit.ActionEnergy.ContainsKey(field))
                throw new InputException(null, "--set " + key, $"compute unit '{owner}' has no action '{field}'");
            return arch with { Compute = arch.Compute.Replace(unit, unit with { ActionEnergy = unit.ActionEnergy.SetItem(field, new Sourced(value, "--set")) }) };
        }
        throw new InputException(null, "--set " + key,
            $"unknown level or compute unit '{owner}' (have: {string.Join(", ", arch.Storage.Select(l => l.Name).Concat(arch.Compute.Select(c => c.Name)))})");
    }

    /// <summary>A zero or infinite bandwidth would give infinite (or zero) cycles: refuse it.</summary>
    private static double PositiveFinite(string key, double v)
    {
        if (!(v > 0) || double.IsInfinity(v)) throw new InputException(null, "--set " + key, $"must be a finite number > 0, found {Invariant.Num(v)}");
        return v;
    }

    /// <summary>2^53: above it a double no longer holds every integer, so the value given is not the value used.</summary>
    private const long MaxExactInteger = 1L << 53;

    /// <summary>A value past <paramref name="max"/> would wrap on conversion; refuse it rather than model a different machine.</summary>
    private static long PositiveLong(string key, double v, long max)
    {
        if (v < 1 || v != Math.Floor(v) || double.IsInfinity(v)) throw new InputException(null, "--set " + key, "must be a positive integer");
        if (v > max) throw new InputException(null, "--set " + key, $"must be at most {Invariant.Grouped(max)}, found {Invariant.Num(v)}");
        return (long)v;
    }
}
