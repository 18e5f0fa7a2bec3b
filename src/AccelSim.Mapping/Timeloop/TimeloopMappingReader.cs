using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Hardware;
using AccelSim.Hardware.Timeloop;

namespace AccelSim.Mapping.Timeloop;

/// <summary>
/// Reads a Timeloop mapping (a list of `target`/`type` directives). Permutations list loops innermost first;
/// a spatial directive's `split: N` puts the first N permuted dimensions on mesh X and the rest on Y (default: all X).
/// v0.4 spatial directives may target a container; they apply to the storage level just above it.
/// </summary>
public static class TimeloopMappingReader
{
    public static bool IsTimeloop(YNode root) =>
        root.IsMapping && root.Opt("mapping") is { IsSequence: true } m && m.Items.All(i => i.IsMapping && i.Has("target"));

    public static Mapping Read(YNode root, TimeloopArchitecture tarch, ProblemShape problem)
    {
        var arch = tarch.Architecture;
        var dims = problem.Dims.Select(d => d.Name).ToList();
        var temporal = new Dictionary<string, List<LoopFactor>>();
        var sx = new Dictionary<string, List<LoopFactor>>();
        var sy = new Dictionary<string, List<LoopFactor>>();
        var keep = new Dictionary<string, ImmutableArray<string>>();
        var bypass = new Dictionary<string, ImmutableArray<string>>();
        var locations = new Dictionary<string, SourceLocation>();
        foreach (var d in root.Req("mapping").Items)
        {
            var targetNode = d.Req("target");
            var target = targetNode.Text;
            var type = d.Req("type").Text;
            if (type == "spatial" && tarch.SpatialTargets.TryGetValue(target, out var alias)) target = alias;
            if (arch.FindLevel(target) is null)
            {
                // v0.4 processed inputs add dummy levels (e.g. inter_PE_spatial); ignore directives for them if trivial.
                if (IsTrivial(d, dims)) continue;
                throw targetNode.Error($"unknown level '{target}' (levels: {string.Join(", ", arch.Storage.Select(s => s.Name))})");
            }
            locations.TryAdd(target, d.Location);
            switch (type)
            {
                case "temporal":
                case "spatial":
                {
                    var factors = ParseFactors(d.Opt("factors"), dims);
                    var perm = ParsePermutation(d.Opt("permutation"), dims, d);
                    var ordered = perm.Select(dim => new LoopFactor(dim, factors.GetValueOrDefault(dim, 1))).ToList(); // innermost first
                    if (type == "temporal")
                    {
                        ordered.Reverse();
                        temporal[target] = ordered;
                    }
                    else
                    {
                        var split = d.OptLong("split") is { } s ? (int)s : perm.Count;
                        sx[target] = ordered.Take(split).Reverse().ToList();
                        sy[target] = ordered.Skip(split).Reverse().ToList();
                    }
                    break;
                }
                case "bypass":
                case "dataspace":
                case "datatype":
                    if (d.Opt("keep") is { } k) keep[target] = k.ItemsOrSingle.Where(x => !x.IsNull).Select(x => x.Text).ToImmutableArray();
                    if (d.Opt("bypass") is { } b) bypass[target] = b.ItemsOrSingle.Where(x => !x.IsNull).Select(x => x.Text).ToImmutableArray();
                    foreach (var t in keep.GetValueOrDefault(target, ImmutableArray<string>.Empty).Concat(bypass.GetValueOrDefault(target, ImmutableArray<string>.Empty)))
                        if (problem.TensorIndex(t) < 0) throw d.Error($"unknown data space '{t}'");
                    if (d.Opt("bypass") is { } bn && bn.ItemsOrSingle.FirstOrDefault(x => !x.IsNull && keep.GetValueOrDefault(target, ImmutableArray<string>.Empty).Contains(x.Text)) is { } both)
                        throw both.Error($"data space '{both.Text}' is both kept and bypassed at {target}");
                    break;
                default:
                    throw d.Req("type").Error($"unknown directive type '{type}' (expected temporal, spatial or bypass)");
            }
        }
        var levels = ImmutableArray.CreateBuilder<LevelMapping>();
        foreach (var lvl in arch.Storage)
        {
            var n = lvl.Name;
            levels.Add(new LevelMapping(n,
                (temporal.GetValueOrDefault(n) ?? new List<LoopFactor>()).ToImmutableArray(),
                (sx.GetValueOrDefault(n) ?? new List<LoopFactor>()).ToImmutableArray(),
                (sy.GetValueOrDefault(n) ?? new List<LoopFactor>()).ToImmutableArray(),
                keep.TryGetValue(n, out var k) ? k : null,
                bypass.TryGetValue(n, out var b) ? b : null,
                locations.TryGetValue(n, out var loc) ? loc : null));
        }
        return new Mapping(levels.ToImmutable(), null, root.File);
    }

    private static bool IsTrivial(YNode d, List<string> dims)
    {
        var type = d.Req("type").Text;
        if (type is "bypass" or "dataspace" or "datatype") return true;
        return ParseFactors(d.Opt("factors"), dims).Values.All(v => v == 1);
    }

    private static Dictionary<string, long> ParseFactors(YNode? n, List<string> dims)
    {
        var result = new Dictionary<string, long>();
        if (n is null || n.IsNull) return result;
        var tokens = n.IsSequence ? n.Items.Select(i => i.Text) : n.Text.Split(new[] { ' ', ',', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        foreach (var tok in tokens)
        {
            var eq = tok.IndexOf('=');
            string name;
            string value;
            if (eq > 0) { name = tok[..eq]; value = tok[(eq + 1)..]; }
            else
            {
                // Legacy also accepts `R3` (name immediately followed by the number).
                var i = tok.IndexOfAny("0123456789".ToCharArray());
                if (i <= 0) throw n.Error($"expected DIM=FACTOR, found '{tok}'");
                name = tok[..i];
                value = tok[i..];
            }
            if (!dims.Contains(name)) throw n.Error($"unknown dimension '{name}' (dims: {string.Join(", ", dims)})");
            if (!Invariant.TryParseLong(value, out var v) || v <= 0) throw n.Error($"factor for {name} must be a positive integer, found '{value}'");
            result[name] = v;
        }
        return result;
    }

    /// <summary>Dimension names innermost first; dimensions the permutation leaves out go outermost.</summary>
    private static List<string> ParsePermutation(YNode? n, List<string> dims, YNode at)
    {
        var perm = new List<string>();
        if (n is not null && !n.IsNull)
        {
            var items = n.IsSequence ? n.Items.Select(i => i.Text).ToList() : Tokenize(n.Text, dims, n);
            foreach (var name in items)
            {
                if (!dims.Contains(name)) throw n.Error($"unknown dimension '{name}' in permutation");
                if (!perm.Contains(name)) perm.Add(name);
            }
        }
        foreach (var d in dims) if (!perm.Contains(d)) perm.Add(d);
        return perm;
    }

    private static List<string> Tokenize(string text, List<string> dims, YNode at)
    {
        var result = new List<string>();
        var s = text.Replace(" ", "").Replace(",", "");
        int i = 0;
        while (i < s.Length)
        {
            // Longest dimension name that matches here (names may be longer than one letter).
            var match = dims.Where(d => string.CompareOrdinal(s, i, d, 0, d.Length) == 0).OrderByDescending(d => d.Length).FirstOrDefault();
            if (match is null) throw at.Error($"cannot read permutation '{text}' at '{s[i..]}'");
            result.Add(match);
            i += match.Length;
        }
        return result;
    }
}
