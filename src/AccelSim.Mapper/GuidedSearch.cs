using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>
/// Guided search in two phases.
/// 1. Screen: uniform samples of the space (capacity-invalid ones rejected before pricing); every sampler keeps its
///    best distinct mappings.
/// 2. Descend: from each of the best screened mappings, first-improvement local search (iterated, with kicks from the
///    best point when stuck) over single changes: one prime factor or a slot's whole factor moved between loop slots,
///    parallelism exchanged between two dimensions on a fan-out, another loop-order class at a level, one keep/bypass
///    flip. A neighbour outside the constraints or over capacity is dropped before pricing, and one equivalent to a
///    mapping already priced (same factors and keeps, same order class at every level) is skipped.
/// Every sampler and every descent has its own seeded stream and a fixed share of the budget, so the result is the
/// same for any number of threads. A space no larger than the budget (counting every tiling, keep choice and loop
/// permutation) is simply enumerated, which proves its optimum.
/// </summary>
public sealed class GuidedSearch : ISearchStrategy
{
    public const long DefaultBudget = 20_000;
    private const double ScreenFraction = 0.3;
    private const int Samplers = 8;
    private const int MaxStarts = 16;
    private const long EvaluationsPerStart = 250;
    /// <summary>Keys remembered per unit to skip duplicates (about 40 MB).</summary>
    private const int MemoryLimit = 1 << 20;

    public string Name => "guided";
    public string Description => "random screen, then iterated local search from the best points (equivalent and over-capacity mappings pruned before pricing)";

    public SearchOutcome Search(SearchEngine engine, SearchSettings settings)
    {
        long budget = settings.Budget ?? DefaultBudget;
        if (UpperBound(engine.Space) <= budget) return new ExhaustiveSearch().Search(engine, settings with { Budget = budget });
        engine.ExpectedEvaluations = budget;
        long screen = Math.Max(1, (long)(budget * ScreenFraction));
        int starts = (int)Math.Clamp((budget - screen) / EvaluationsPerStart, 1, MaxStarts);
        long samplers = Math.Min(Samplers, screen);
        long ScreenShare(long i) => screen / samplers + (i < screen % samplers ? 1 : 0);
        var first = engine.Run(new SearchPlan(samplers, i => new Screen(settings.Seed, i, ScreenShare(i)), SharedBudget: false,
            Budget: screen, UnitBudget: ScreenShare, PoolSize: starts));
        var seeds = first.Pool.Take(starts).ToArray();
        long rest = budget - first.Evaluations;
        if (seeds.Length == 0 || rest <= 0 || engine.Stopped) return first;
        long DescentShare(long i) => rest / seeds.Length + (i < rest % seeds.Length ? 1 : 0);
        var second = engine.Run(new SearchPlan(seeds.Length, i => new Descent(seeds[i], settings.Seed, i), SharedBudget: false,
            Budget: rest, UnitBudget: DescentShare));
        return first.Then(second, engine.Space);
    }

    /// <summary>Mappings in the space counting every permutation of every level's possible loops (an upper bound).</summary>
    public static double UpperBound(MapSpace s)
    {
        double orders = 1;
        for (int l = 0; l < s.Levels; l++)
        {
            int loops = 0;
            for (int d = 0; d < s.Dims; d++)
                if (s.IsFreeSlot(d, l * 3) || s.FixedFactor(d, l * 3) > 1) loops++;
            for (int k = 2; k <= loops; k++) orders *= k;
        }
        return s.TilingCount * s.KeepCount * orders;
    }

    private sealed class Screen(long seed, long index, long budget) : ISearchUnit
    {
        public void Run(SearchWorker w)
        {
            var rng = new DeterministicRandom(seed, 3_000_017 + index);
            var m = w.Model.CreateMapping();
            var seen = new HashSet<UInt128>();
            long maxTries = Math.Max(10_000, budget * 200);
            for (long tries = 0; tries < maxTries && !w.ShouldStop; tries++)
            {
                if (!Sampling.SampleMapping(w, m, rng)) continue;
                if (seen.Count >= MemoryLimit) seen.Clear(); // bounded memory; forgetting only risks re-pricing a duplicate
                if (!seen.Add(w.Moves.Key(m))) continue;
                w.Evaluate(m, out _);
            }
        }
    }

    private sealed class Descent(PoolEntry start, long seed, long index) : ISearchUnit
    {
        public void Run(SearchWorker w)
        {
            var mv = w.Moves;
            var rng = new DeterministicRandom(seed, 7_000_003 + index);
            var cur = start.Mapping.Clone();
            var cand = start.Mapping.Clone();
            var curScore = start.Score; // priced by the screen
            var best = cur.Clone();
            var bestScore = curScore;
            var visited = new HashSet<UInt128> { mv.Key(cur) };
            var moves = new List<Move>();
            int failedKicks = 0;
            while (!w.ShouldStop && failedKicks < 200)
            {
                mv.Neighbours(cur, moves);
                Shuffle(moves, rng);
                bool improved = false;
                foreach (var move in moves)
                {
                    cand.CopyFrom(cur);
                    if (!mv.Apply(cand, move) || !mv.FixOrders(cand)) continue;
                    if (visited.Count >= MemoryLimit) visited.Clear();
                    if (!visited.Add(mv.Key(cand))) continue;
                    if (!w.Evaluate(cand, out var sc)) continue; // over capacity: rejected before pricing
                    if (Score.Compare(sc, curScore) < 0)
                    {
                        (cur, cand) = (cand, cur);
                        curScore = sc;
                        improved = true;
                        break;
                    }
                    if (w.ShouldStop) return;
                }
                if (improved)
                {
                    if (Score.Compare(curScore, bestScore) < 0)
                    {
                        best.CopyFrom(cur);
                        bestScore = curScore;
                    }
                    continue;
                }
                // A local optimum: kick from the best point found (a few random changes) and descend again.
                if (!Kick(w, mv, best, cur, moves, rng, visited, out curScore)) failedKicks++;
                else failedKicks = 0;
            }
        }

        private static bool Kick(SearchWorker w, MappingMoves mv, CompactMapping best, CompactMapping cur, List<Move> moves,
            DeterministicRandom rng, HashSet<UInt128> visited, out Score score)
        {
            score = Score.Worst;
            mv.Neighbours(best, moves);
            if (moves.Count == 0) return false;
            var scratch = best.Clone();
            for (int attempt = 0; attempt < 20; attempt++)
            {
                cur.CopyFrom(best);
                int changes = 2 + rng.Next(3), done = 0;
                for (int k = 0; k < 4 * changes && done < changes; k++)
                {
                    // Moves listed for the best point; one that no longer applies is simply refused.
                    scratch.CopyFrom(cur);
                    if (mv.Apply(scratch, moves[rng.Next(moves.Count)]) && mv.FixOrders(scratch) && w.Fits(scratch))
                    {
                        cur.CopyFrom(scratch);
                        done++;
                    }
                }
                if (done == 0 || !visited.Add(mv.Key(cur))) continue;
                if (w.Evaluate(cur, out score)) return true;
            }
            cur.CopyFrom(best);
            return false;
        }

        private static void Shuffle(List<Move> list, DeterministicRandom rng)
        {
            for (int i = list.Count - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }
        }
    }
}
