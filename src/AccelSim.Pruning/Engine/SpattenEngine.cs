using AccelSim.Pruning.Spec;
using AccelSim.Pruning.Traces;
using AccelSim.Pruning.Workload;

namespace AccelSim.Pruning.Engine;

/// <summary>Where the cycles went: each pass's pipeline time is attributed to its slowest stage.</summary>
public sealed record CycleBreakdown(
    double Fetch, double QueryKey, double Softmax, double ProbValue, double LocalValueTopK, double SerialTopK, double PipelineFill)
{
    public double Total => Fetch + QueryKey + Softmax + ProbValue + LocalValueTopK + SerialTopK + PipelineFill;
}

/// <summary>Energy by component, in picojoules.</summary>
public sealed record EnergyBreakdown(double Dram, double Mac, double Sram, double Softmax, double TopK, double Selection)
{
    public double Total => Dram + Mac + Sram + Softmax + TopK + Selection;
}

/// <summary>The SpAtten engine's cost of one pruned workload.</summary>
public sealed record SpattenResult(
    string Benchmark,
    string ModelName,
    string Technique,
    SelectionMode Mode,
    double DramBytes,
    double Cycles,
    double LatencySeconds,
    CycleBreakdown CycleBreakdown,
    EnergyBreakdown Energy,
    double TopKCalls)
{
    public double EnergyPj => Energy.Total;
}

/// <summary>How top-k latencies are obtained: a seeded simulation of the quick-select recurrence, or its expectation.</summary>
public enum TopKTiming
{
    Simulated,
    Expected,
}

/// <summary>
/// Cycle and energy model of the SpAtten pipeline. Per layer pass the stages run concurrently on a stream of
/// (head, query) requests: matrix fetcher (HBM), Q·K multipliers (+ progressive-quant recompute), softmax, local-V
/// top-k, prob·V. The pass takes the slowest stage plus the pipeline fill, plus the token/head top-k selections that
/// sit between layers (the next layer's fetch depends on them). When a head's alive keys exceed the K buffer and
/// several queries share them, K and V are streamed again for every query.
/// </summary>
public sealed class SpattenEngine(SpattenArch arch, TopKTiming timing = TopKTiming.Simulated, ulong seed = 1)
{
    public SpattenArch Arch { get; } = arch;

    public QuickSelectModel TopKModel { get; } =
        new(arch.TopKComparators, arch.TopKRoundOverhead, arch.TopKZeroEliminatorLatency);

    public SpattenResult Evaluate(PrunedWorkload workload)
    {
        var d = workload.HeadDim;
        double dramBytes = 0, cycles = 0;
        double fetchC = 0, qkC = 0, smC = 0, pvC = 0, lvC = 0, serialC = 0, fillC = 0;
        double dramPj = 0, macPj = 0, sramPj = 0, smPj = 0, topkPj = 0, selPj = 0, topkCalls = 0;
        var baseSeed = SplitMix64.Derive(seed, StableHash(workload.Benchmark), StableHash(workload.Techniques.Label));
        var datapathBytesPerRow = d * Arch.DatapathBits / 8.0;

        for (var pi = 0; pi < workload.Passes.Length; pi++)
        {
            var p = workload.Passes[pi];
            var rows = (double)p.AliveHeads * p.Queries;
            if (rows == 0) continue;
            var restream = p.Queries > 1 && p.MaxKeyRowsPerHead > Arch.KeyRowCapacity(d) ? p.Queries : 1;
            var bytes = p.FetchedBits(d) / 8.0 * restream;
            var fetch = bytes / Arch.DramBytesPerCycle;

            var avgKeys = p.QkPairs / rows;
            var qk = rows * Math.Ceiling(avgKeys / Arch.QkKeysPerCycle(d, p.KeyBits));
            if (p.RecomputedQkPairs > 0 && avgKeys > 0)
                qk += p.RecomputedQkPairs / avgKeys * Math.Ceiling(avgKeys / Arch.QkKeysPerCycle(d, p.KeyBits + p.KeyLsbBits));
            var softmax = p.SoftmaxElements / Arch.SoftmaxElementsPerCycle;
            var avgValues = p.PvPairs / rows;
            var pv = rows * Math.Ceiling(avgValues / Arch.PvRowsPerCycle(d));

            var rng = new SeededPivots(SplitMix64.Derive(baseSeed, pi));
            double localV = 0, serial = 0, scanned = 0;
            // Local-V selections stream back to back: the filter/compaction pass of one query overlaps the
            // quick-select of the next, so the stage's throughput is set by the selection rounds.
            foreach (var call in p.LocalValueTopK)
            {
                var (c, s) = TopKCost(call, rng, includeFilterPass: false);
                localV += c;
                scanned += s;
                topkCalls += call.Count;
            }
            localV /= Arch.LocalValueTopKEngines;
            foreach (var call in p.SerialTopK)
            {
                var (c, s) = TopKCost(call, rng, includeFilterPass: true);
                serial += c;
                scanned += s;
                topkCalls += call.Count;
            }

            var stages = new[] { fetch, qk, softmax, pv, localV };
            var bottleneck = stages.Max();
            var fill = Arch.QkLatency + Arch.SoftmaxLatency + Arch.PvLatency;
            switch (Array.IndexOf(stages, bottleneck))
            {
                case 0: fetchC += bottleneck; break;
                case 1: qkC += bottleneck; break;
                case 2: smC += bottleneck; break;
                case 3: pvC += bottleneck; break;
                default: lvC += bottleneck; break;
            }
            fillC += fill;
            serialC += serial;
            cycles += bottleneck + fill + serial;
            dramBytes += bytes;

            dramPj += bytes * 8 * Arch.DramPjPerBit;
            macPj += (p.QkMacs(d) + p.PvMacs(d)) * Arch.MacPj;
            var sramWrites = (p.KeyRows + p.KeyLsbRows + p.ValueRows + p.ValueLsbRows) * datapathBytesPerRow * restream;
            var sramReads = (p.QkPairs + p.RecomputedQkPairs + p.PvPairs) * datapathBytesPerRow;
            sramPj += (sramWrites + sramReads) * Arch.SramPjPerByte;
            smPj += p.SoftmaxElements * Arch.SoftmaxPjPerElement;
            topkPj += scanned * Arch.ComparePj;
            selPj += (p.TokenImportanceAdds + p.HeadImportanceAdds + p.RefetchCompares) * Arch.AddPj;
        }

        return new SpattenResult(
            workload.Benchmark, workload.Model.Name, workload.Techniques.Label, workload.Mode,
            dramBytes, cycles, cycles / (Arch.ClockGhz * 1e9),
            new CycleBreakdown(fetchC, qkC, smC, pvC, lvC, serialC, fillC),
            new EnergyBreakdown(dramPj, macPj, sramPj, smPj, topkPj, selPj),
            topkCalls);
    }

    /// <summary>Cycles and comparator operations of <see cref="TopKCall.Count"/> selections (the filter pass always compares n).</summary>
    private (double Cycles, double Scanned) TopKCost(TopKCall call, IPivotRankSource rng, bool includeFilterPass)
    {
        if (call.K >= call.N) return (0, 0);
        var filter = includeFilterPass ? TopKModel.FilterPassCycles(call.N) : 0;
        if (timing == TopKTiming.Expected)
        {
            var j = call.N - call.K + 1;
            return ((TopKModel.ExpectedSelectCycles(call.N, call.K) + filter) * call.Count,
                (QuickSelectModel.ExpectedScanned(call.N, j) + call.N) * call.Count);
        }
        double cycles = 0, scanned = 0;
        for (long i = 0; i < call.Count; i++)
        {
            var s = TopKModel.Select(call.N, call.K, rng);
            cycles += s.Cycles + filter;
            scanned += s.ElementsScanned + call.N;
        }
        return (cycles, scanned);
    }

    /// <summary>FNV-1a of a string: stable across processes (string.GetHashCode is randomised).</summary>
    public static int StableHash(string s)
    {
        var h = 2166136261u;
        foreach (var ch in s)
        {
            h ^= ch;
            h *= 16777619u;
        }
        return unchecked((int)h);
    }
}
