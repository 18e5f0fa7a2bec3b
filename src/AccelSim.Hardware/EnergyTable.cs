using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Hardware;

/// <summary>One component's per-action energies (pJ per action / per block access) and area, with its source.</summary>
public sealed record EnergyEntry(string Name, ImmutableDictionary<string, double> Actions, double? AreaUm2, string? Source)
{
    public double? Action(string name) => Actions.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A technology's reference table of per-action energies (an Accelergy ERT restated), e.g. arch/energy/fusemax-45nm.yaml.</summary>
public sealed record EnergyTable(string Name, double TechnologyNm, ImmutableDictionary<string, EnergyEntry> Entries, string? Source, string? File)
{
    public static EnergyTable Load(string path)
    {
        var root = YNode.LoadFile(path);
        root.ExpectOnlyKeys("energy_table");
        var t = root.Req("energy_table");
        t.ExpectOnlyKeys("name", "technology_nm", "source", "notes", "entries");
        var name = t.Req("name").Text;
        var tech = t.Req("technology_nm").AsDouble();
        if (tech <= 0) throw t.Req("technology_nm").Error("must be > 0");
        var entries = ImmutableDictionary.CreateBuilder<string, EnergyEntry>();
        foreach (var (key, node) in t.Req("entries").Entries)
        {
            var actions = ImmutableDictionary.CreateBuilder<string, double>();
            double? area = null;
            string? source = null;
            foreach (var (k, v) in node.Entries)
            {
                switch (k)
                {
                    case "source": source = v.Text; break;
                    case "notes": break;
                    case "area_um2": area = NonNegative(v); break;
                    default: actions[k] = NonNegative(v); break;
                }
            }
            entries[key] = new EnergyEntry(key, actions.ToImmutable(), area, source ?? t.OptString("source"));
        }
        return new EnergyTable(name, tech, entries.ToImmutable(), t.OptString("source"), path);
    }

    private static double NonNegative(YNode v)
    {
        var d = v.AsDouble();
        if (d < 0 || double.IsNaN(d)) throw v.Error($"must be >= 0, found {Invariant.Num(d)}");
        return d;
    }
}

/// <summary>
/// Technology-node scaling of per-action energy and area, for using a table at another node.
/// Energy of a switching event is C·V² (Rabaey, Chandrakasan &amp; Nikolić, Digital Integrated Circuits, 2nd ed., 2003);
/// gate and wire capacitance scale linearly with feature size under constant-field scaling
/// (Dennard et al., IEEE JSSC 9(5), 1974); supply voltages are the nominal Vdd of the Predictive Technology Model
/// (PTM, ptm.asu.edu: bulk 130-16 nm, multi-gate 10 and 7 nm). So E(to) = E(from) · (to/from) · (Vdd(to)/Vdd(from))²,
/// and area scales with (to/from)². This first-order rule can be off by 2x or more below 45 nm
/// (Stillmaker &amp; Baas, Integration 58, 2017); a spec can override any value with a measured one.
/// </summary>
public static class TechnologyScaling
{
    private static readonly (double Nm, double Vdd)[] NominalVdd =
    {
        (7, 0.70), (10, 0.75), (16, 0.70), (22, 0.80), (32, 0.90), (45, 1.00), (65, 1.10), (90, 1.20), (130, 1.30),
    };

    public static double Vdd(double nm)
    {
        if (nm < NominalVdd[0].Nm || nm > NominalVdd[^1].Nm)
            throw new InputException($"technology_nm: no scaling data for {Invariant.Num(nm)} nm (supported: 7 to 130 nm)");
        for (int i = 0; i + 1 < NominalVdd.Length; i++)
        {
            var (a, va) = NominalVdd[i];
            var (b, vb) = NominalVdd[i + 1];
            if (nm >= a && nm <= b)
            {
                // Interpolate in log(node), the natural axis of node generations.
                var f = (Math.Log(nm) - Math.Log(a)) / (Math.Log(b) - Math.Log(a));
                return va + f * (vb - va);
            }
        }
        return NominalVdd[^1].Vdd;
    }

    public static double EnergyFactor(double fromNm, double toNm)
    {
        if (fromNm == toNm) return 1;
        var v = Vdd(toNm) / Vdd(fromNm);
        return toNm / fromNm * v * v;
    }

    public static double AreaFactor(double fromNm, double toNm) => fromNm == toNm ? 1 : (toNm / fromNm) * (toNm / fromNm);
}
