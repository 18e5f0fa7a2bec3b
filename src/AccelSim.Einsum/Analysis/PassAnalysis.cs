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
    /// The variables of running recurrences outside the analysed rank (an Einsum writes t + c and some Einsum reads
    /// t + c' with c' &lt; c), outer first.
    /// </summary>
    private static IterationVariable[] Unrolled(Cascade cascade, HashSet<string> rankVariables)
    {
        var producer = cascade.Einsums.ToDictionary(e => e.Output.Tensor, StringComparer.Ordinal);
        var found = new Dictionary<string, IterationVariable>(StringComparer.Ordinal);
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
                    if (r.Constant < w.Constant) found.TryAdd(variable.Name, variable);
                }
            }
        // Outer ranks first, as the cascade declares them (a split rank lists its partitions outer to inner).
        return [.. found.Values.OrderBy(v => cascade.Ranks.IndexOf(cascade.Ranks.First(r => r.Variable == v.Name)))];
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

        // Recurrences over variables outside this rank (a time or chunk loop around traversals of it) are unrolled:
        // each step is its own node, so a step that needs a reduction over the rank completed by the previous step
        // starts a new pass, exactly as many times as there are steps. Steps are swept in lexicographic order of the
        // loop variables (outer ranks first); a node that does not iterate a loop variable is evaluated at its last value.
        var loops = Unrolled(cascade, rankNames.Select(n => cascade.Rank(n).Variable).ToHashSet());
        var producer = cascade.Einsums.ToDictionary(e => e.Output.Tensor, StringComparer.Ordinal);
        var own = cascade.Einsums.ToDictionary(e => e.Name, e => loops.Select((l, i) => e.Iterates(l.Name) ? i : -1).Where(i => i >= 0).ToArray(), StringComparer.Ordinal);
        var nodes = cascade.Einsums.ToDictionary(e => e.Name,
            e => new State?[checked((int)own[e.Name].Aggregate(1L, (a, i) => a * loops[i].Size))], StringComparer.Ordinal);
        var owns = cascade.Einsums.ToDictionary(e => e.Name, e => loops.Select(l => e.Iterates(l.Name)).ToArray(), StringComparer.Ordinal);
        var times = cascade.Einsums.ToDictionary(e => e.Name, _ => 0);
        var causes = new Dictionary<string, PassCause>();
        var single = new List<int> { 0 };

        int NodeOf(ExtendedEinsum e, long[] at)
        {
            long n = 0;
            foreach (var i in own[e.Name]) n = n * loops[i].Size + at[i];
            return (int)n;
        }

        // The producer nodes a read at loop position `at` of e reaches: on each loop variable of the producer, the one
        // step an index t + c selects on the producer's t + c' dimension, else all of its steps (read as a whole).
        List<int> Reached(ExtendedEinsum e, long[] at, TensorAccess read, ExtendedEinsum p)
        {
            if (own[p.Name].Length == 0) return single;
            var choices = new List<long[]>();
            foreach (var i in own[p.Name])
            {
                var name = loops[i].Name;
                var pv = p.VariableIndex(name);
                var ev = e.VariableIndex(name);
                long[]? pick = null;
                for (var d = 0; d < p.Output.Indices.Length && pick is null; d++)
                {
                    var w = p.Output.Indices[d];
                    if (w.SoleVariable != pv) continue;
                    var r = read.Indices[d];
                    if (ev < 0 || !owns[e.Name][i] || r.SoleVariable != ev) break;
                    var ps = at[i] + r.Constant - w.Constant;
                    if (ps < 0 || ps >= loops[i].Size) return []; // before the first step: nothing written yet
                    pick = [ps];
                }
                choices.Add(pick ?? [.. Enumerable.Range(0, (int)loops[i].Size).Select(x => (long)x)]);
            }
            var result = new List<int> { 0 };
            for (var k = 0; k < choices.Count; k++)
            {
                var size = loops[own[p.Name][k]].Size;
                result = [.. result.SelectMany(n => choices[k].Select(c => (int)(n * size + c)))];
            }
            return result;
        }

        var maxRounds = 2 * cascade.Einsums.Length + 4;
        var total = loops.Aggregate(1L, (a, l) => checked(a * l.Size));
        var position = new long[loops.Length];
        for (var round = 0; ; round++)
        {
            var changed = false;
            for (long g = 0; g < total; g++)
            {
                var rem = g;
                for (var i = loops.Length - 1; i >= 0; i--) { position[i] = rem % loops[i].Size; rem /= loops[i].Size; }
                foreach (var e in cascade.Einsums)
                {
                    var mine = nodes[e.Name];
                    var mask = owns[e.Name];
                    var lacksAtLast = true;
                    for (var i = 0; i < loops.Length; i++)
                        if (!mask[i] && position[i] != loops[i].Size - 1) { lacksAtLast = false; break; }
                    if (!lacksAtLast) continue;
                    var es = NodeOf(e, position);
                    var inLoop = own[e.Name].Length > 0;
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
                            if (ReferenceEquals(p, e) && !inLoop) continue;
                            foreach (var k in Reached(e, position, read, p))
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
