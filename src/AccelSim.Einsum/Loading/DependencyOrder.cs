using AccelSim.Core;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Loading;

/// <summary>
/// Orders Einsums so that producers come before consumers. A cycle is legal only when it is a running recurrence:
/// somewhere on it a tensor written at step v+c is read at an earlier step v+c' (c' &lt; c) of the same variable,
/// as in the 1-pass cascade's RD[m1+1] = SPD[m1] + SLD[m1] with SPD[m1] = PRM[m1] * RD[m1].
/// </summary>
internal static class DependencyOrder
{
    public static List<ExtendedEinsum> Sort(List<ExtendedEinsum> einsums, WorkloadSpec spec)
    {
        var producer = einsums.ToDictionary(e => e.Output.Tensor);
        // Same-step edges (consumer needs the producer's value of the same step) must form a DAG.
        var sameStep = einsums.ToDictionary(e => e, _ => new List<ExtendedEinsum>());
        foreach (var consumer in einsums)
            foreach (var read in consumer.Inputs)
            {
                if (!producer.TryGetValue(read.Tensor, out var p)) continue;
                if (IsPreviousStep(p, consumer, read)) continue;
                CheckOverlap(p, consumer, read);
                if (ReferenceEquals(p, consumer))
                    throw new InputException(consumer.Location, null,
                        $"{consumer.Name}: reads {read} at the step it writes {consumer.Output}; a running recurrence must read an earlier step (e.g. write X[m1+1], read X[m1])");
                sameStep[consumer].Add(p);
            }

        // Depth-first topological order with an explicit stack (a cascade may chain thousands of Einsums).
        var result = new List<ExtendedEinsum>();
        var state = einsums.ToDictionary(e => e, _ => 0); // 0 new, 1 on the path, 2 done
        var path = new List<(ExtendedEinsum Einsum, int Next)>();
        foreach (var start in einsums)
        {
            if (state[start] != 0) continue;
            state[start] = 1;
            path.Add((start, 0));
            while (path.Count > 0)
            {
                var (e, next) = path[^1];
                var producers = sameStep[e];
                if (next == producers.Count)
                {
                    path.RemoveAt(path.Count - 1);
                    state[e] = 2;
                    result.Add(e);
                    continue;
                }
                path[^1] = (e, next + 1);
                var p = producers[next];
                if (state[p] == 2) continue;
                if (state[p] == 1)
                {
                    var cycle = path.Select(x => x.Einsum).SkipWhile(x => !ReferenceEquals(x, p)).Append(p).Select(x => x.Name);
                    throw new InputException(p.Location, null, $"cyclic dependency: {string.Join(" -> ", cycle)} (no earlier-step read breaks the cycle)");
                }
                state[p] = 1;
                path.Add((p, 0));
            }
        }
        return result;
    }

    /// <summary>A same-step read must reach some element the producer writes; one that cannot is always empty.</summary>
    private static void CheckOverlap(ExtendedEinsum producer, ExtendedEinsum consumer, TensorAccess read)
    {
        for (var d = 0; d < read.Indices.Length; d++)
        {
            var (rmin, rmax) = read.Indices[d].Range(consumer.Iteration);
            var (wmin, wmax) = producer.Output.Indices[d].Range(producer.Iteration);
            if (rmax < wmin || rmin > wmax)
                throw new InputException(consumer.Location, null,
                    $"{consumer.Name}: reads {read} at [{rmin}, {rmax}] in rank {d + 1}, but {producer.Name} writes {producer.Output} only at [{wmin}, {wmax}]: every value read would be empty");
        }
    }

    /// <summary>
    /// True when <paramref name="consumer"/> reads, through <paramref name="read"/>, an element the producer wrote at an
    /// earlier step of a shared iteration variable: on some rank the write index is `v + cw` and the read is `v + cr`, cr &lt; cw.
    /// </summary>
    private static bool IsPreviousStep(ExtendedEinsum producer, ExtendedEinsum consumer, TensorAccess read)
    {
        for (var d = 0; d < read.Indices.Length; d++)
        {
            var w = producer.Output.Indices[d];
            var r = read.Indices[d];
            if (w.SoleVariable is not { } wv || r.SoleVariable is not { } rv) continue;
            if (producer.Iteration[wv].Name != consumer.Iteration[rv].Name) continue;
            if (r.Constant < w.Constant)
            {
                // Step v reads what step v - d wrote; over n steps that never happens when d >= n (d = 1 is the
                // ordinary running recurrence, whose only step over a rank of size 1 reads nothing, by design).
                var distance = w.Constant - r.Constant;
                var steps = producer.Iteration[wv].Size;
                if (distance > 1 && distance >= steps)
                    throw new InputException(consumer.Location, null,
                        $"{consumer.Name}: reads {read}, {distance} steps behind where {producer.Name} writes {producer.Output}, but {producer.Iteration[wv].Rank} has only {steps} step(s): no step would read a value written by an earlier one");
                return true;
            }
            if (r.Constant > w.Constant)
                throw new InputException(consumer.Location, null,
                    $"{consumer.Name}: reads {read} ahead of the step at which {producer.Name} writes {producer.Output}");
        }
        return false;
    }
}
