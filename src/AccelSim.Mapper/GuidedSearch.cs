using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>
/// Guided search: independent simulated-annealing chains over the map-space. A chain moves one prime factor between
/// loop slots, switches a level to another loop-order class, or flips one keep/bypass choice. Before any pricing,
/// a candidate outside the constraints or over capacity is rejected, and a candidate equivalent to one already priced
/// (same factors and keep choices, same order class at every level) reuses that price. Each chain has its own seeded
/// stream and an equal share of the budget, so the result does not depend on the number of threads.
/// </summary>
public sealed class GuidedSearch : ISearchStrategy
{
    public const long DefaultBudget = 20_000;
    public const int Chains = 8;

    public string Name => "guided";
    public string Description => "simulated annealing over tilings, order classes and bypass choices, pruning equivalent and over-capacity mappings before pricing";

    public SearchPlan Plan(MapSpace space, SearchSettings settings)
    {
        long budget = settings.Budget ?? DefaultBudget;
        long chains = Math.Max(1, Math.Min(Chains, budget));
        long Share(long i) => budget / chains + (i < budget % chains ? 1 : 0);
        return new SearchPlan(chains, i => new Chain(settings.Seed, i, Share(i)), SharedBudget: false, Budget: budget,
            UnitBudget: Share, ExpectedEvaluations: budget);
    }

    private sealed class Chain(long seed, long index, long budget) : ISearchUnit
    {
        public void Run(SearchWorker w)
        {
            var space = w.Space;
            var rng = new DeterministicRandom(seed, 1_000_003 + index);
            var moves = new MappingMoves(w);
            var cur = w.Model.CreateMapping();
            var cand = w.Model.CreateMapping();
            var seen = new Dictionary<UInt128, double>();
            if (!Start(w, moves, cur, rng, index)) return;
            if (!w.Evaluate(cur, out var curScore)) return;
            double curCost = Cost(curScore);
            seen[moves.Key(cur)] = curCost;

            const double t0 = 0.08, t1 = 0.002;
            long attempts = 0, maxAttempts = Math.Max(1000, budget * 50);
            while (!w.ShouldStop && attempts++ < maxAttempts)
            {
                cand.CopyFrom(cur);
                double r = rng.NextDouble();
                bool moved = r < 0.6 ? moves.MoveFactor(cand, rng) : r < 0.85 ? moves.ChangeOrder(cand, rng) : moves.ChangeKeep(cand, rng);
                if (!moved || !moves.FixOrders(cand)) continue;
                var key = moves.Key(cand);
                if (!seen.TryGetValue(key, out var cost))
                {
                    if (!w.Fits(cand)) { seen[key] = double.PositiveInfinity; continue; }
                    if (!w.Evaluate(cand, out var sc)) continue;
                    cost = Cost(sc);
                    seen[key] = cost;
                }
                if (double.IsPositiveInfinity(cost)) continue;
                double progress = Math.Min(1.0, (double)w.Evaluations / budget);
                double temp = t0 * Math.Pow(t1 / t0, progress);
                double delta = cost - curCost;
                if (delta <= 0 || rng.NextDouble() < Math.Exp(-delta / temp))
                {
                    (cur, cand) = (cand, cur);
                    curCost = cost;
                }
            }
        }

        /// <summary>Annealing works on the logarithm of the primary metric, so temperatures are relative changes.</summary>
        private static double Cost(in Score s) => Math.Log(Math.Max(s.Primary, 1e-300));

        private static bool Start(SearchWorker w, MappingMoves moves, CompactMapping m, DeterministicRandom rng, long index)
        {
            if (index == 0 && GreedyStart(w.Space, m) && moves.FixOrders(m) && w.Fits(m)) return true;
            for (int i = 0; i < 2000; i++)
                if (Sampling.SampleMapping(w, m, rng) && w.Fits(m)) return true;
            return GreedyStart(w.Space, m) && moves.FixOrders(m) && w.Fits(m);
        }

        /// <summary>Every factor at the outermost free temporal slot, then fan-outs filled greedily, every tensor kept.</summary>
        private static bool GreedyStart(MapSpace s, CompactMapping m)
        {
            int D = s.Dims;
            m.Reset();
            for (int d = 0; d < D; d++)
            {
                long q = s.Problem.Dims[d].Size;
                for (int slot = 0; slot < s.Slots; slot++)
                {
                    long f = s.FixedFactor(d, slot);
                    if (f != 0) { MappingMoves.Set(s, m, d, slot, (int)f); q /= f; }
                }
                // Remainder: outermost free slots first (temporal before spatial), as large as each allows.
                for (int slot = 0; slot < s.Slots && q > 1; slot++)
                {
                    if (!s.IsFreeSlot(d, slot) || slot % 3 != 0) continue;
                    long take = LargestDivisorAtMost(q, s.MaxFactor(d, slot));
                    MappingMoves.Set(s, m, d, slot, (int)take);
                    q /= take;
                }
                if (q > 1) return false;
            }
            // Fill fan-outs: move factors from temporal slots above into spatial slots while the mesh has room.
            for (int l = 0; l < s.Levels; l++)
                for (int axis = 1; axis <= 2; axis++)
                {
                    long room = axis == 1 ? s.FanoutX(l) : s.FanoutY(l);
                    for (int d = 0; d < D && room > 1; d++)
                    {
                        int slot = l * 3 + axis;
                        if (!s.IsFreeSlot(d, slot)) continue;
                        for (int src = 0; src <= l * 3; src += 3)
                        {
                            if (!s.IsFreeSlot(d, src)) continue;
                            int have = MappingMoves.Get(s, m, d, src);
                            long limit = Math.Min(room, s.MaxFactor(d, slot) / MappingMoves.Get(s, m, d, slot));
                            long g = LargestDivisorAtMost(have, limit);
                            if (g <= 1) continue;
                            MappingMoves.Set(s, m, d, src, (int)(have / g));
                            MappingMoves.Set(s, m, d, slot, (int)(MappingMoves.Get(s, m, d, slot) * g));
                            if (!s.DimensionOk(m, d))
                            {
                                MappingMoves.Set(s, m, d, slot, (int)(MappingMoves.Get(s, m, d, slot) / g));
                                MappingMoves.Set(s, m, d, src, have);
                                continue;
                            }
                            room /= g;
                        }
                    }
                }
            for (int l = 0; l < s.Levels; l++) m.KeepMask[l] = s.KeepOptions(l)[^1];
            for (int d = 0; d < D; d++) if (!s.DimensionOk(m, d)) return false;
            return s.SpatialOk(m);
        }

        private static long LargestDivisorAtMost(long n, long limit)
        {
            long best = 1;
            foreach (var x in Factoring.Divisors(n))
                if (x <= limit) best = x;
            return best;
        }
    }
}
