using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Hardware.Timeloop;

/// <summary>
/// An Accelergy Energy Reference Table (timeloop-*.ERT.yaml) or Area Reference Table (ART.yaml), keyed by the
/// component's short name (the last path segment without any `[0..N]` range), e.g. `GlobalBuffer`.
/// </summary>
public sealed record ErtFile(string File, ImmutableDictionary<string, ImmutableArray<(string Action, double Energy)>> Tables,
    ImmutableDictionary<string, double> Areas)
{
    public static ErtFile Load(string path, string? artPath = null)
    {
        var root = YNode.LoadFile(path);
        var tables = ImmutableDictionary.CreateBuilder<string, ImmutableArray<(string, double)>>();
        var ert = root.Opt("ERT") ?? root.Opt("ERT_summary") ?? throw root.Error("expected an 'ERT' table");
        var list = ert.Opt("tables") ?? ert.Opt("table_summary") ?? throw ert.Error("expected 'tables'");
        foreach (var t in list.Items)
        {
            var name = ShortName(t.Req("name").Text);
            var actions = ImmutableArray.CreateBuilder<(string, double)>();
            foreach (var a in t.Req("actions").Items)
            {
                var e = a.Opt("energy") ?? a.Opt("max_energy");
                if (e is null) continue;
                actions.Add((a.Req("name").Text, e.AsDouble()));
            }
            tables[name] = actions.ToImmutable();
        }
        var areas = ImmutableDictionary.CreateBuilder<string, double>();
        if (artPath is not null && System.IO.File.Exists(artPath))
        {
            var art = YNode.LoadFile(artPath);
            var at = art.Opt("ART") ?? art.Opt("ART_summary");
            var al = at?.Opt("tables") ?? at?.Opt("table_summary");
            if (al is not null)
                foreach (var t in al.Items)
                    if (t.Opt("area") is { } ar) areas[ShortName(t.Req("name").Text)] = ar.AsDouble();
        }
        return new ErtFile(path, tables.ToImmutable(), areas.ToImmutable());
    }

    public static string ShortName(string full)
    {
        var noRanges = System.Text.RegularExpressions.Regex.Replace(full, @"\[[^\]]*\]", "");
        return noRanges.Split('.').Last();
    }

    /// <summary>
    /// Legacy Timeloop charges every scalar access of a buffer (read, fill, update) at one "vector access energy",
    /// the largest read/write energy in the component's ERT entry (e.g. 102.865 pJ for the tutorial's GlobalBuffer,
    /// whose random read is 102.865 and random write 96.301).
    /// </summary>
    public double? VectorAccessEnergy(string component)
    {
        if (!Tables.TryGetValue(component, out var acts)) return null;
        double best = -1;
        foreach (var (a, e) in acts)
            if (a is "read" or "write" or "update" && e > best) best = e;
        return best >= 0 ? best : null;
    }

    /// <summary>Energy of one compute action: mac_random (legacy intmac), compute (v0.4), else the largest action.</summary>
    public double? ComputeEnergy(string component)
    {
        if (!Tables.TryGetValue(component, out var acts)) return null;
        foreach (var pref in new[] { "mac_random", "compute", "mac" })
            foreach (var (a, e) in acts)
                if (a == pref) return e;
        return acts.Where(x => x.Action != "idle" && x.Action != "leak").Select(x => x.Energy).DefaultIfEmpty(0).Max();
    }
}
