using System.Collections.Immutable;
using AccelSim.Core;
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

    /// <summary>
    /// The variable of a running recurrence outside the analysed rank (an Einsum writes t + c and some Einsum reads
    /// t + c' with c' &lt; c), or null.
    /// </summary>
    private static IterationVariable? Unrolled(Cascade cascade, HashSet<string> rankVariables)
    {
        var producer = cascade.Einsums.ToDictionary(e => e.Output.Tensor, StringComparer.Ordinal);
        foreach (var e in cascade.Einsums)
            foreach (var read in e.Inputs)
            {
                if (!producer.TryGetValue(read.Tensor, out var p)) continue;
                for (var d = 0; d < read.Indices.Length; d++)
                {
                    var w = p.Output.Indices[d];
                    var r = read.Indices[d];
                    if (w.SoleVariable is not { } wv || r.SoleVariable is not { } rv) continue;
                    var variable = p.Iteration[wv];
                    if (variable.Name != e.Iteration[rv].Name || rankVariables.Contains(variable.Name)) continue;
                    if (r.Constant < w.Constant) return variable;
                }
            }
        return null;
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

        var inputStates = new Dictionary<string, State>(StringComparer.Ordinal);
        foreach (var t in cascade.Tensors.Where(t => t.Role == TensorRole.Input))
            inputStates[t.Name] = t.Ranks.Any(rankNames.Contains) ? new State(Kind.Source, 2) : new State(Kind.Static, 0);

        // A recurrence over a variable outside this rank (a time or chunk loop around traversals of it) is unrolled:
        // each of its steps is its own node, so a step that needs a reduction over the rank completed by the previous
        // step starts a new pass, exactly as many times as there are steps.
        var outer = Unrolled(cascade, rankNames.Select(n => cascade.Rank(n).Variable).ToHashSet());
        var steps = outer?.Size ?? 1;
        bool InLoop(ExtendedEinsum e) => outer is not null && e.Iterates(outer.Name);
        int StepsOf(ExtendedEinsum e) => InLoop(e) ? (int)steps : 1;
        var producer = cascade.Einsums.ToDictionary(e => e.Output.Tensor, StringComparer.Ordinal);
        var nodes = cascade.Einsums.ToDictionary(e => e.Name, e => new State?[StepsOf(e)], StringComparer.Ordinal);
        var times = cascade.Einsums.ToDictionary(e => e.Name, _ => 0);
        var causes = new Dictionary<string, PassCause>();

        // The producer steps a read at step s of e reaches: one step for an index t + c on the producer's t + c'
        // dimension, else all of them (read as a whole).
        (int From, int To) Reached(ExtendedEinsum e, int s, TensorAccess read, ExtendedEinsum p)
        {
            var n = nodes[p.Name].Length;
            if (!InLoop(p) || outer is not { } o) return (0, n - 1);
            var pv = p.VariableIndex(o.Name);
            var ev = e.VariableIndex(o.Name);
            for (var d = 0; d < p.Output.Indices.Length; d++)
            {
                var w = p.Output.Indices[d];
                if (w.SoleVariable != pv) continue;
                var r = read.Indices[d];
                if (ev < 0 || r.SoleVariable != ev) return (0, n - 1);
                var ps = s + r.Constant - w.Constant;
                return ps < 0 || ps >= n ? (1, 0) : ((int)ps, (int)ps);
            }
            return (0, n - 1);
        }

        var maxRounds = cascade.Einsums.Length + 2;
        for (var round = 0; ; round++)
        {
            var changed = false;
            var sweeps = outer is null ? 1 : (int)steps;
            for (var s = 0; s < sweeps; s++)
                foreach (var e in cascade.Einsums)
                {
                    var mine = nodes[e.Name];
                    // An Einsum outside the unrolled loop is evaluated once, after the last step.
                    if (!InLoop(e) && s != sweeps - 1) continue;
                    var es = InLoop(e) ? s : 0;
                    var trav = Traverses(e);
                    var iter = Iterates(e);
                    var step = iter ? StepVariable(e) : -1;
                    var time = trav ? 2 : 0;
                    PassCause? cause = null;
                    foreach (var read in e.Inputs)
                    {
                        var inOrder = iter && read.Indices.Any(i => i.Uses(step));
                        var reached = new List<State>();
                        if (inputStates.TryGetValue(read.Tensor, out var input)) reached.Add(input);
                        else if (producer.TryGetValue(read.Tensor, out var p))
                        {
                            // A running recurrence reading its own earlier steps of this rank imposes nothing new.
                            if (ReferenceEquals(p, e) && !InLoop(e)) continue;
                            var (from, to) = Reached(e, es, read, p);
                            for (var k = from; k <= to; k++)
                                if (!(ReferenceEquals(p, e) && k == es) && nodes[p.Name][k] is { } st) reached.Add(st);
                        }
                        foreach (var st in reached)
                        {
                            int need = st.Kind switch
                            {
                                Kind.Static => 0,
                                Kind.Source => 2,
                                Kind.Streamed when inOrder => st.Time,
                                Kind.Streamed => st.Time | 1, // read as a whole (e.g. its last element): after that pass
                                _ => st.Time,                  // complete after pass (st.Time odd)
                            };
                            // A traversal that needs something available only after pass k starts pass k+1: that tensor forces it.
                            var forced = trav && need % 2 == 1;
                            if (forced) need++;
                            if (need > time)
                            {
                                time = need;
                                cause = forced
                                    ? new PassCause(need / 2, read.Tensor, producer.GetValueOrDefault(read.Tensor)?.Name ?? read.Tensor, e.Name)
                                    : null;
                            }
                        }
                    }
                    var writesAlong = iter && e.Output.Indices.Any(i => i.Uses(step));
                    var outState = !iter ? new State(time == 0 ? Kind.Static : Kind.Complete, time)
                        : writesAlong ? new State(Kind.Streamed, time)
                        : new State(Kind.Complete, time | 1);
                    if (mine[es] != outState)
                    {
                        mine[es] = outState;
                        changed = true;
                    }
                    if (time >= times[e.Name])
                    {
                        times[e.Name] = time;
                        if (cause is not null) causes[e.Name] = cause; else if (es == 0) causes.Remove(e.Name);
                    }
                }
            if (!changed) break;
            if (round >= maxRounds)
            {
                var culprit = cascade.Einsums.Where(Traverses).DefaultIfEmpty(cascade.Einsums[0]).First();
                throw new InputException(culprit.Location, null,
                    $"{culprit.Name}: over rank {rank.Name}, a value is needed before the traversal that completes it (a recurrence that reads a full reduction over {rank.Name} depending on itself); no number of passes computes it");
            }
        }

        var passes = traversing.Count == 0 ? 1 : traversing.Max(e => times[e.Name]) / 2;
        var list = causes.Values.Where(c => c.Pass >= 2)
            .GroupBy(c => (c.Pass, c.Tensor)).Select(g => g.First())
            .OrderBy(c => c.Pass).ThenBy(c => c.Tensor, StringComparer.Ordinal).ToImmutableArray();
        return new RankPasses(rank.Name, passes, list, [.. traversing.Select(e => e.Name)]);
    }
}
