using System.Text;
using AccelSim.Core;

namespace AccelSim.Hardware;

/// <summary>Writes an <see cref="Architecture"/> as AccelSim architecture YAML with inline energies and their sources.</summary>
public static class ArchitectureWriter
{
    public static string ToYaml(Architecture arch, string? headerComment = null)
    {
        var sb = new StringBuilder();
        if (headerComment is not null)
            foreach (var line in headerComment.Split('\n')) sb.Append("# ").AppendLine(line.TrimEnd());
        sb.AppendLine("architecture:");
        sb.AppendLine($"  name: {Yaml.Str(arch.Name)}");
        if (arch.Source is { } src) sb.AppendLine($"  source: {Yaml.Str(src)}");
        sb.AppendLine($"  clock_hz: {Invariant.Num(arch.ClockHz)}");
        sb.AppendLine($"  technology_nm: {Invariant.Num(arch.TechnologyNm)}");
        sb.AppendLine("  storage:");
        foreach (var l in arch.Storage)
        {
            sb.AppendLine($"    - name: {Yaml.Str(l.Name)}");
            sb.AppendLine($"      class: {Yaml.Str(l.Class)}");
            sb.AppendLine($"      parent: {(l.Parent is null ? "null" : Yaml.Str(l.Parent))}");
            if (l.CapacityWords is { } cap) sb.AppendLine($"      capacity_words: {cap}");
            sb.AppendLine($"      word_bits: {l.WordBits}");
            sb.AppendLine($"      block_size: {l.BlockSize}");
            if (l.ReadBandwidth is { } rb) sb.AppendLine($"      read_bandwidth: {Invariant.Num(rb)}");
            if (l.WriteBandwidth is { } wb) sb.AppendLine($"      write_bandwidth: {Invariant.Num(wb)}");
            if (l.SharedBandwidth is { } sh) sb.AppendLine($"      shared_bandwidth: {Invariant.Num(sh)}");
            sb.AppendLine($"      instances: {l.Instances}");
            sb.AppendLine($"      mesh_x: {l.MeshX}");
            if (l.MultipleBuffering != 1) sb.AppendLine($"      multiple_buffering: {Invariant.Num(l.MultipleBuffering)}");
            if (l.MayHold is { } mh) sb.AppendLine($"      may_hold: [{string.Join(", ", mh.Select(Yaml.Str))}]");
            if (l.Pricing == BlockPricing.SharedVector) sb.AppendLine("      block_pricing: shared_vector");
            if (l.EnergyKnown)
            {
                sb.AppendLine("      energy:");
                sb.AppendLine($"        read: {Invariant.Num(l.ReadEnergy.Value)}");
                sb.AppendLine($"        write: {Invariant.Num(l.WriteEnergy.Value)}");
                sb.AppendLine($"        update: {Invariant.Num(l.UpdateEnergy.Value)}");
                if (l.LeakPerCycle.Value != 0) sb.AppendLine($"        leak: {Invariant.Num(l.LeakPerCycle.Value)}");
                if (l.ReadEnergy.Source is { } es) sb.AppendLine($"        source: {Yaml.Str(es)}");
            }
            else sb.AppendLine("      # no energy: none was given (energy results will be unavailable)");
            if (l.AreaUm2.Value != 0) sb.AppendLine($"      area_um2: {Invariant.Num(l.AreaUm2.Value)}");
        }
        sb.AppendLine("  compute:");
        foreach (var c in arch.Compute)
        {
            sb.AppendLine($"    - name: {Yaml.Str(c.Name)}");
            sb.AppendLine($"      parent: {Yaml.Str(c.Parent)}");
            sb.AppendLine($"      instances: {c.Instances}");
            sb.AppendLine($"      mesh_x: {c.MeshX}");
            if (c.AreaUm2.Value != 0) sb.AppendLine($"      area_um2: {Invariant.Num(c.AreaUm2.Value)}");
            if (c.EnergyKnown && c.ActionEnergy.Count > 0)
            {
                sb.AppendLine("      actions:");
                foreach (var (name, e) in c.ActionEnergy.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    sb.AppendLine(e.Source is { } s
                        ? $"        {Yaml.Key(name)}: {{energy: {Invariant.Num(e.Value)}, source: {Yaml.Str(s)}}}"
                        : $"        {Yaml.Key(name)}: {Invariant.Num(e.Value)}");
            }
            sb.AppendLine("      operations:");
            foreach (var op in c.Operations)
            {
                if (!c.HasEnergyFor(op.Kind))
                {
                    // Cycles only: an operation without action energies leaves energy unavailable when loaded back.
                    sb.AppendLine($"        {Yaml.Key(op.Kind)}: {Invariant.Num(op.Cycles)}");
                    continue;
                }
                var acts = string.Join(", ", op.Actions.Select(a => $"{Yaml.Key(a.Action)}: {Invariant.Num(a.Count)}"));
                sb.Append($"        {Yaml.Key(op.Kind)}: {{cycles: {Invariant.Num(op.Cycles)}, actions: {{{acts}}}");
                if (op.Source is { } s) sb.Append($", source: {Yaml.Str(s)}");
                sb.AppendLine("}");
            }
        }
        return sb.ToString();
    }
}

/// <summary>Minimal YAML scalar quoting shared by the writers.</summary>
public static class Yaml
{
    public static string Str(string s)
    {
        if (s.Length > 0 && s.All(ch => char.IsLetterOrDigit(ch) || ch is '_' or '-' or '.' or '/') &&
            !char.IsDigit(s[0]) && s[0] != '-' && s is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off"))
            return s;
        return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    public static string Key(string s) => Str(s);
}
