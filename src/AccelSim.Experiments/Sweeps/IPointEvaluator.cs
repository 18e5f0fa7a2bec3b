namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// An engine that prices one sweep point. Implementations must be deterministic and thread-safe:
/// the runner calls <see cref="Evaluate"/> from several threads at once, and resumed or sharded runs
/// must reproduce the rows of an uninterrupted run byte for byte.
/// </summary>
public interface IPointEvaluator
{
    /// <summary>The name a sweep file uses in `engine:`, e.g. `fusemax`, `gpu`, `analytic-roofline`.</summary>
    string Engine { get; }

    /// <summary>One line for `--help` and reports.</summary>
    string Description { get; }

    /// <summary>Every metric this engine can report; a sweep's `metrics:` list is checked against it.</summary>
    IReadOnlyList<MetricInfo> Metrics { get; }

    /// <summary>
    /// Prices one point. Read the point's architecture and workload through <see cref="SweepPoint.Arch"/> and
    /// <see cref="SweepPoint.Workload"/> (the swept overrides are already applied) and engine options through
    /// <see cref="SweepPoint.Option"/>. Throw <see cref="AccelSim.Core.InputException"/> for an infeasible or
    /// invalid point: the runner records the message in the row's `error` column and goes on.
    /// </summary>
    IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken);

    /// <summary>
    /// Called once after the sweep file is parsed, before any point runs. Throw an InputException (use the
    /// locations in <paramref name="sweep"/>) for options or files the engine cannot use. Default: accept.
    /// </summary>
    void Validate(SweepSpec sweep) { }

    /// <summary>
    /// The option names the engine reads. When given, the sweep parser refuses any other `options.NAME` (in
    /// `options:`, `set:`, `--set` or `parameters:`) with a did-you-mean suggestion. Null: the engine checks itself.
    /// </summary>
    IReadOnlyList<string>? OptionNames => null;
}
