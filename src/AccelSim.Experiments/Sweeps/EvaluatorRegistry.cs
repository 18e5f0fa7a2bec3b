using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>Engines by name. <see cref="BuiltInEvaluators.CreateRegistry"/> returns the one the CLI uses.</summary>
public sealed class EvaluatorRegistry
{
    private readonly Dictionary<string, Lazy<IPointEvaluator>> _engines = new(StringComparer.Ordinal);

    /// <summary>Registers a ready evaluator under its <see cref="IPointEvaluator.Engine"/> name.</summary>
    public EvaluatorRegistry Register(IPointEvaluator evaluator)
    {
        Add(evaluator.Engine, new Lazy<IPointEvaluator>(evaluator));
        return this;
    }

    /// <summary>Registers an evaluator built on first use (for engines with costly set-up).</summary>
    public EvaluatorRegistry Register(string engine, Func<IPointEvaluator> factory)
    {
        Add(engine, new Lazy<IPointEvaluator>(() =>
        {
            var evaluator = factory();
            if (evaluator.Engine != engine)
                throw new InvalidOperationException($"evaluator registered as '{engine}' reports engine '{evaluator.Engine}'");
            return evaluator;
        }, LazyThreadSafetyMode.ExecutionAndPublication));
        return this;
    }

    private void Add(string engine, Lazy<IPointEvaluator> evaluator)
    {
        if (string.IsNullOrWhiteSpace(engine)) throw new ArgumentException("engine name is empty", nameof(engine));
        if (!_engines.TryAdd(engine, evaluator))
            throw new InvalidOperationException($"engine '{engine}' is registered twice");
    }

    public IReadOnlyList<string> Engines => _engines.Keys.Order(StringComparer.Ordinal).ToList();

    public bool Contains(string engine) => _engines.ContainsKey(engine);

    public bool TryGet(string engine, out IPointEvaluator evaluator)
    {
        if (_engines.TryGetValue(engine, out var lazy))
        {
            evaluator = lazy.Value;
            return true;
        }
        evaluator = null!;
        return false;
    }

    /// <summary>The evaluator for <paramref name="engine"/>, or a one-line input error listing the known engines.</summary>
    public IPointEvaluator Get(string engine, SourceLocation? location = null, string? field = "engine") =>
        TryGet(engine, out var evaluator)
            ? evaluator
            : throw new InputException(location, field,
                $"unknown engine '{engine}' (known: {string.Join(", ", Engines)})");
}
