using System.Collections.Immutable;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>Why a pass exists: <see cref="Tensor"/> is complete only after the previous pass, and <see cref="NeededBy"/> needs it
/// while traversing the rank again.</summary>
public sealed record PassCause(int Pass, string Tensor, string ProducedBy, string NeededBy);

/// <summary>The number of passes a cascade must make over one rank, and the tensors that force the extra ones.</summary>
public sealed record RankPasses(string Rank, int Passes, ImmutableArray<PassCause> Causes, ImmutableArray<string> TraversingEinsums);

/// <summary>
/// Pass analysis after FuseMax (Nayak et al., MICRO 2024, section III): a pass over rank R is one traversal of R's
/// elements (for a split rank R = R1 x R0, a traversal of all its partitions in order of the outer one, R1). An Einsum
/// that traverses R needs every tensor it reads that is *complete* only after a pass (a full reduction over R, or the
/// last element of a running recurrence) to come from an earlier pass. Einsums that iterate only the outer partition
/// R1 (per-tile values such as running maxima) run between or alongside passes and do not add a traversal.
/// Time is counted in half-steps: 2k = during pass k, 2k+1 = just after it.
/// </summary>
public static class PassAnalysis
{
    private enum Kind { Static, Source, Streamed, Complete }

    private readonly record struct State(Kind Kind, int Time);

    public static ImmutableArray<RankPasses> Analyze(Cascade cascade)
    {
        var result = ImmutableArray.CreateBuilder<RankPasses>();
        foreach (var rank in cascade.Ranks.Where(r => !r.IsPartition))
        {
            var r = ForRank(cascade, rank);
            if (r is not null) result.Add(r);
        }
        return result.ToImmutable();
    }

    public static RankPasses? ForRank(Cascade cascade, Rank rank)
    {
        var partitionVars = rank.IsSplit ? rank.Partitions.Select(p => cascade.Rank(p).Variable).ToArray() : [];
        var outerVar = rank.IsSplit ? partitionVars[0] : rank.Variable;
        var rankNames = rank.IsSplit ? rank.Partitions.Append(rank.Name).ToHashSet() : [rank.Name];

        bool Iterates(ExtendedEinsum e) => e.Iterates(outerVar) || e.Iterates(rank.Variable);
        bool Traverses(ExtendedEinsum e) => e.Iterates(rank.Variable) || (partitionVars.Length > 0 && partitionVars.All(e.Iterates));
        int StepVariable(ExtendedEinsum e) => e.Iterates(outerVar) ? e.VariableIndex(outerVar) : e.VariableIndex(rank.Variable);

        var traversing = cascade.Einsums.Where(Traverses).ToList();
        if (traversing.Count == 0 && !cascade.Einsums.Any(Iterates)) return null;

        var states = new Dictionary<string, State>(StringComparer.Ordinal);
        foreach (var t in cascade.Tensors.Where(t => t.Role == TensorRole.Input))
            states[t.Name] = t.Ranks.Any(rankNames.Contains) ? new State(Kind.Source, 2) : new State(Kind.Static, 0);

        var times = new Dictionary<string, int>();
        var causes = new Dictionary<string, PassCause>();
        bool changed;
        var rounds = 0;
        do
        {
            changed = false;
            foreach (var e in cascade.Einsums)
            {
                var trav = Traverses(e);
                var iter = Iterates(e);
                var step = iter ? StepVariable(e) : -1;
                var time = trav ? 2 : 0;
                PassCause? cause = null;
                foreach (var read in e.Inputs)
                {
                    // A running recurrence reading its own earlier steps imposes nothing new.
                    if (read.Tensor == e.Output.Tensor) continue;
                    if (!states.TryGetValue(read.Tensor, out var s)) continue; // produced later in a recurrence
                    var inOrder = iter && read.Indices.Any(i => i.Uses(step));
                    int need = s.Kind switch
                    {
                        Kind.Static => 0,
                        Kind.Source => 2,
                        Kind.Streamed when inOrder => s.Time,
                        Kind.Streamed => s.Time | 1, // read as a whole (e.g. its last element): after that pass
                        _ => s.Time,                 // complete after pass (s.Time odd)
                    };
                    // A traversal that needs something available only after pass k starts pass k+1: that tensor forces it.
                    var forced = trav && need % 2 == 1;
                    if (forced) need++;
                    if (need > time)
                    {
                        time = need;
                        cause = forced
                            ? new PassCause(need / 2, read.Tensor, cascade.Producer(read.Tensor)?.Name ?? read.Tensor, e.Name)
                            : null;
                    }
                }
                var writesAlong = iter && e.Output.Indices.Any(i => i.Uses(step));
                var outState = !iter ? new State(time == 0 ? Kind.Static : Kind.Complete, time)
                    : writesAlong ? new State(Kind.Streamed, time)
                    : new State(Kind.Complete, time | 1);
                if (!states.TryGetValue(e.Output.Tensor, out var old) || old != outState)
                {
                    states[e.Output.Tensor] = outState;
                    changed = true;
                }
                times[e.Name] = time;
                if (cause is not null) causes[e.Name] = cause; else causes.Remove(e.Name);
            }
        } while (changed && ++rounds < 4 * cascade.Einsums.Length + 4);

        var passes = traversing.Count == 0 ? 1 : traversing.Max(e => times[e.Name]) / 2;
        var list = causes.Values.Where(c => c.Pass >= 2)
            .GroupBy(c => (c.Pass, c.Tensor)).Select(g => g.First())
            .OrderBy(c => c.Pass).ThenBy(c => c.Tensor, StringComparer.Ordinal).ToImmutableArray();
        return new RankPasses(rank.Name, passes, list, [.. traversing.Select(e => e.Name)]);
    }
}
