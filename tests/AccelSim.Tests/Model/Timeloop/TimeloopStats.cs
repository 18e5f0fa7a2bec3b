using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using AccelSim.Mapping;

namespace AccelSim.Tests.Model.Timeloop;

/// <summary>Numbers read from a Timeloop legacy `timeloop-*.stats.txt` (never hand-copied into tests).</summary>
public sealed record TimeloopLevelStats(string Name, bool IsArithmetic, Dictionary<string, TimeloopTensorStats> Tensors, double ArithmeticEnergy, long Cycles);

public sealed record TimeloopTensorStats(long UtilizedCapacity, long UtilizedInstances, long Reads, long Updates, long Fills, double EnergyTotal);

public sealed record TimeloopStats(List<TimeloopLevelStats> Levels, long Cycles, long Maccs)
{
    public double TotalEnergy => Levels.Sum(l => l.ArithmeticEnergy + l.Tensors.Values.Sum(t => t.EnergyTotal));

    public static TimeloopStats Parse(string path)
    {
        var lines = File.ReadAllLines(path);
        var levels = new List<TimeloopLevelStats>();
        TimeloopLevelStats? cur = null;
        string? tensor = null;
        var values = new Dictionary<string, string>();
        long cycles = 0, maccs = 0;
        bool inNetworks = false;
        void FlushTensor()
        {
            if (cur is null || tensor is null) return;
            long L(string key) => long.Parse(values[key], CultureInfo.InvariantCulture);
            cur.Tensors[tensor] = new TimeloopTensorStats(L("Utilized capacity"), L("Utilized instances (max)"),
                L("Scalar reads (per-instance)"), L("Scalar updates (per-instance)"), L("Scalar fills (per-instance)"),
                double.Parse(values["Energy (total)"].Split(' ')[0], CultureInfo.InvariantCulture));
            tensor = null;
            values.Clear();
        }
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("Networks", StringComparison.Ordinal)) { FlushTensor(); inNetworks = true; }
            var m = Regex.Match(line, @"^=== (.+) ===$");
            if (m.Success && !inNetworks)
            {
                FlushTensor();
                cur = new TimeloopLevelStats(m.Groups[1].Value, levels.Count == 0, new Dictionary<string, TimeloopTensorStats>(), 0, 0);
                levels.Add(cur);
                continue;
            }
            if (line.StartsWith("Cycles: ", StringComparison.Ordinal)) cycles = long.Parse(line[8..], CultureInfo.InvariantCulture);
            if (line.StartsWith("MACCs = ", StringComparison.Ordinal)) maccs = long.Parse(line[8..], CultureInfo.InvariantCulture);
            if (cur is null || inNetworks) continue;
            var tm = Regex.Match(line, @"^    (\w+):$");
            if (tm.Success) { FlushTensor(); tensor = tm.Groups[1].Value; continue; }
            var kv = Regex.Match(line, @"^\s+([^:]+?)\s+: (.+)$");
            if (!kv.Success) continue;
            var key = kv.Groups[1].Value;
            var val = kv.Groups[2].Value;
            if (tensor is not null) values[key] = val;
            else if (cur.IsArithmetic && key == "Energy (total)")
                levels[^1] = cur = cur with { ArithmeticEnergy = double.Parse(val.Split(' ')[0], CultureInfo.InvariantCulture) };
            else if (key == "Cycles") levels[^1] = cur = cur with { Cycles = long.Parse(val, CultureInfo.InvariantCulture) };
        }
        FlushTensor();
        return new TimeloopStats(levels, cycles, maccs);
    }
}

/// <summary>Builds a mapping from Timeloop's printed loop nest (`timeloop-*.map.txt`): used for the mapper cases.</summary>
public static class TimeloopMapTxt
{
    public static AccelSim.Mapping.Mapping Parse(string path)
    {
        var levels = new List<LevelMapping>();
        string? name = null;
        List<string> keep = new();
        var t = new List<LoopFactor>();
        var sx = new List<LoopFactor>();
        var sy = new List<LoopFactor>();
        void Flush()
        {
            if (name is null) return;
            levels.Add(new LevelMapping(name, t.ToImmutableArray(), sx.ToImmutableArray(), sy.ToImmutableArray(), keep.ToImmutableArray()));
            t = new(); sx = new(); sy = new(); keep = new();
        }
        foreach (var line in File.ReadAllLines(path))
        {
            var h = Regex.Match(line, @"^(\w+) \[(.*)\]\s*$");
            if (h.Success)
            {
                Flush();
                name = h.Groups[1].Value;
                keep = h.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => x.Split(':')[0]).ToList();
                continue;
            }
            var loop = Regex.Match(line, @"for (\w+) in \[0:(\d+)\)( \(Spatial-(X|Y)\))?");
            if (!loop.Success) continue;
            var f = new LoopFactor(loop.Groups[1].Value, long.Parse(loop.Groups[2].Value, CultureInfo.InvariantCulture));
            if (f.Factor == 1) continue;
            (loop.Groups[4].Value switch { "X" => sx, "Y" => sy, _ => t }).Add(f);
        }
        Flush();
        return new AccelSim.Mapping.Mapping(levels.ToImmutableArray(), null, path);
    }
}
