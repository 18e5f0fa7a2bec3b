using AccelSim.Core;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>
/// Visits every mapping of the space once: every tiling, every keep/bypass choice whose tiles fit, and one loop order
/// per equivalence class at each level (orders in one class give identical counts, so the optimum is proven).
/// The tilings are split into contiguous slices; with a budget, the first N evaluations in enumeration order count.
/// </summary>
public sealed class ExhaustiveSearch : ISearchStrategy
{
    public string Name => "exhaustive";
    public string Description => "every mapping (one loop order per equivalence class); proves the optimum on small spaces";

    public SearchOutcome Search(SearchEngine engine, SearchSettings settings)
    {
        engine.ExpectedEvaluations = settings.Budget;
        return engine.Run(Plan(engine.Space, settings));
    }

    public SearchPlan Plan(MapSpace space, SearchSettings settings)
    {
        int D = space.Dims;
        var counts = new long[D];
        long total = 1;
        for (int d = 0; d < D; d++)
        {
            counts[d] = space.Factorizations(d).Length / space.Slots;
            try { total = checked(total * counts[d]); }
            catch (OverflowException)
            {
                throw new InputException(null, "--search", "the map-space has more than 2^63 tilings: too large for exhaustive search; use --search guided or add constraints");
            }
        }
        // About 512 slices for load balance (at most 100,000, however large the space).
        long slice = Math.Max(Math.Clamp(total / 512, 1, 4096), (total + 99_999) / 100_000);
        long units = (total + slice - 1) / slice;
        return new SearchPlan(units, i => new Slice(space, counts, i * slice, Math.Min(total, (i + 1) * slice)),
            SharedBudget: true, Budget: settings.Budget ?? long.MaxValue);
    }

    private sealed class Slice(MapSpace space, long[] counts, long start, long end) : ISearchUnit
    {
        public void Run(SearchWorker w)
        {
            int D = space.Dims, L = space.Levels;
            var m = w.Model.CreateMapping();
            var digits = new long[D];
            long rem = start;
            for (int d = D - 1; d >= 0; d--)
            {
                digits[d] = rem % counts[d];
                rem /= counts[d];
            }
            for (int d = 0; d < D; d++) space.ApplyFactorization(m, d, (int)digits[d]);
            var nonUnit = new int[L];
            var keepIdx = new int[L];
            var classes = new int[L][][];
            var orderIdx = new int[L];
            for (long idx = start; idx < end; idx++)
            {
                if (idx > start)
                {
                    // Odometer, last dimension fastest; only changed dimensions are rewritten.
                    for (int d = D - 1; d >= 0; d--)
                    {
                        digits[d]++;
                        if (digits[d] < counts[d]) { space.ApplyFactorization(m, d, (int)digits[d]); break; }
                        digits[d] = 0;
                        space.ApplyFactorization(m, d, 0);
                    }
                }
                if (!space.SpatialOk(m)) { w.Reject(); continue; }
                for (int l = 0; l < L; l++) nonUnit[l] = space.NonUnitMask(m, l);
                if (!Keeps(w, m, nonUnit, keepIdx, classes, orderIdx)) return;
            }
        }

        /// <summary>Every keep choice, then every order class combination. Returns false when the unit must stop.</summary>
        private bool Keeps(SearchWorker w, CompactMapping m, int[] nonUnit, int[] keepIdx, int[][][] classes, int[] orderIdx)
        {
            int L = space.Levels;
            Array.Clear(keepIdx);
            for (int l = 0; l < L; l++) m.KeepMask[l] = space.KeepOptions(l)[0];
            // Keeping more never shrinks a tile: when the fewest tensors the constraints allow do not fit, nothing does.
            if (!w.Fits(m)) return true;
            bool first = true;
            while (true)
            {
                if ((first || w.Fits(m)) && !Orders(w, m, nonUnit, classes, orderIdx)) return false;
                first = false;
                int k = L - 1;
                for (; k >= 1; k--)
                {
                    var opts = space.KeepOptions(k);
                    if (++keepIdx[k] < opts.Count) { m.KeepMask[k] = opts[keepIdx[k]]; break; }
                    keepIdx[k] = 0;
                    m.KeepMask[k] = opts[0];
                }
                if (k < 1) return true;
            }
        }

        private bool Orders(SearchWorker w, CompactMapping m, int[] nonUnit, int[][][] classes, int[] orderIdx)
        {
            int L = space.Levels;
            for (int l = 0; l < L; l++)
            {
                classes[l] = w.OrderClasses(l, nonUnit[l], space.ActiveMask(m, l, nonUnit));
                if (classes[l].Length == 0) { w.Reject(); return true; }
                orderIdx[l] = 0;
                space.WriteOrder(m, l, classes[l][0]);
            }
            while (true)
            {
                w.Evaluate(m, out _);
                if (w.ShouldStop) return false;
                int l = L - 1;
                for (; l >= 0; l--)
                {
                    if (++orderIdx[l] < classes[l].Length) { space.WriteOrder(m, l, classes[l][orderIdx[l]]); break; }
                    orderIdx[l] = 0;
                    space.WriteOrder(m, l, classes[l][0]);
                }
                if (l < 0) return true;
            }
        }
    }
}
