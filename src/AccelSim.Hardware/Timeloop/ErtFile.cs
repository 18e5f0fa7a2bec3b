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
                var pj = e.AsDouble();
                if (!(pj >= 0) || double.IsInfinity(pj)) throw e.Error($"must be a finite energy >= 0 pJ, found {Invariant.Num(pj)}");
                actions.Add((a.Req("name").Text, pj));
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
    /// Legacy Timeloop's one "vector access energy" of a component: the most expensive action of its ERT entry,
    /// over every action and every argument combination (Timeloop v0.x/v1, src/model/topology.cpp,
    /// Topology::Specs::ParseAccelergyERT: "Find the most expensive action as the unit cost"; buffer.cpp
    /// BufferLevel::ComputeBufferEnergy then charges every read, fill and update at it). For the tutorial's
    /// GlobalBuffer that is the random read, 102.865 pJ, although its random write is 96.301 pJ.
    /// </summary>
    public double? MaxEnergy(string component)
    {
        if (!Tables.TryGetValue(component, out var acts) || acts.Length == 0) return null;
        return acts.Max(a => a.Energy);
    }

    /// <summary>
    /// The energy of the first of <paramref name="names"/> the component's entry has (largest over its argument
    /// combinations), as Timeloop v2+ looks actions up (include/model/topology.hpp, storageOperationMappings).
    /// </summary>
    public double? ActionEnergy(string component, params string[] names)
    {
        if (!Tables.TryGetValue(component, out var acts)) return null;
        foreach (var n in names)
        {
            double best = -1;
            foreach (var (a, e) in acts)
                if (a == n && e > best) best = e;
            if (best >= 0) return best;
        }
        return null;
    }

    /// <summary>
    /// Energy of one compute action in Timeloop v2+: the first of mac_random, mult_random, mac, mult, compute
    /// (include/model/topology.hpp, arithmeticOperationMappings["random_compute"]).
    /// </summary>
    public double? ComputeEnergy(string component) => ActionEnergy(component, "mac_random", "mult_random", "mac", "mult", "compute");
}
