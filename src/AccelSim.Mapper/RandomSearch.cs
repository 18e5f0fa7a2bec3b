using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>
/// Uniform random sampling: each dimension's factorisation, each level's keep choice and each level's order class
/// drawn uniformly; samples outside the space or over capacity are rejected before pricing. Batches of samples use
/// their own seeded stream, and the budget keeps the first N evaluations of the batch sequence.
/// </summary>
public sealed class RandomSearch : ISearchStrategy
{
    public const long DefaultBudget = 10_000;
    private const int BatchEvaluations = 256;
    private const int TriesPerEvaluation = 200;

    public string Name => "random";
    public string Description => "uniform random samples of the map-space (capacity-invalid ones rejected before pricing)";

    public SearchOutcome Search(SearchEngine engine, SearchSettings settings)
    {
        engine.ExpectedEvaluations = settings.Budget ?? DefaultBudget;
        return engine.Run(Plan(engine.Space, settings));
    }

    public SearchPlan Plan(MapSpace space, SearchSettings settings)
    {
        long budget = settings.Budget ?? DefaultBudget;
        long batches = (budget + BatchEvaluations - 1) / BatchEvaluations + 16;
        return new SearchPlan(batches, i => new Batch(settings.Seed, i), SharedBudget: true, Budget: budget);
    }

    private sealed class Batch(long seed, long index) : ISearchUnit
    {
        public void Run(SearchWorker w)
        {
            var rng = new DeterministicRandom(seed, index + 1);
            var m = w.Model.CreateMapping();
            for (long tries = 0; tries < (long)BatchEvaluations * TriesPerEvaluation; tries++)
            {
                if (w.Evaluations >= BatchEvaluations || w.ShouldStop) return;
                if (!Sampling.SampleMapping(w, m, rng)) continue;
                w.Evaluate(m, out _);
            }
        }
    }
}
