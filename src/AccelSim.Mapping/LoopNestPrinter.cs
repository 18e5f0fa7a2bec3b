using System.Text;
using AccelSim.Hardware;

namespace AccelSim.Mapping;

/// <summary>
/// Prints a mapping as a loop nest, outermost first. Each dimension's loops are numbered from the innermost (0) up,
/// so `p1` is P's second-innermost factor: `for p1 in [0,16)` ... `parallel-for m0 in [0,256)`.
/// </summary>
public static class LoopNestPrinter
{
    public static string Print(Mapping mapping, ProblemShape problem, long[]? tileWords = null, ArchPath? path = null)
    {
        var counts = new Dictionary<string, int>();
        foreach (var l in mapping.Levels)
            foreach (var f in l.Temporal.Concat(l.SpatialX).Concat(l.SpatialY))
                if (f.Factor > 1) counts[f.Dim] = counts.GetValueOrDefault(f.Dim) + 1;
        var sb = new StringBuilder();
        int indent = 0;
        int T = problem.Tensors.Length;
        for (int li = 0; li < mapping.Levels.Length; li++)
        {
            var l = mapping.Levels[li];
            var pad = new string(' ', indent * 2);
            var keep = l.Keep is { } k ? k.ToList() : problem.Tensors.Select(t => t.Name).Where(n => l.Bypass is not { } b || !b.Contains(n)).ToList();
            string Held(string name)
            {
                if (tileWords is null || path is null) return name;
                var lvl = path.IndexOf(l.Level);
                var ti = problem.TensorIndex(name);
                return lvl < 0 || ti < 0 ? name : $"{name}:{tileWords[lvl * T + ti]}";
            }
            sb.Append(pad).Append(l.Level).Append(" [ ").Append(string.Join(" ", keep.Select(Held))).AppendLine(" ]");
            void Emit(LoopFactor f, string kind, string suffix)
            {
                if (f.Factor <= 1) return;
                counts[f.Dim]--;
                var lower = f.Dim.ToLowerInvariant();
                var name = lower + (char.IsDigit(lower[^1]) ? "_" : "") + counts[f.Dim].ToString(Core.Invariant.Culture);
                sb.Append(new string(' ', indent * 2)).Append(kind).Append(' ').Append(name).Append(" in [0,")
                  .Append(f.Factor.ToString(Core.Invariant.Culture)).Append(')').AppendLine(suffix);
                indent++;
            }
            foreach (var f in l.Temporal) Emit(f, "for", "");
            foreach (var f in l.SpatialX) Emit(f, "parallel-for", "  (mesh X)");
            foreach (var f in l.SpatialY) Emit(f, "parallel-for", "  (mesh Y)");
        }
        return sb.ToString();
    }
}
