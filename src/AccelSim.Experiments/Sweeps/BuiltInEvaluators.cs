using AccelSim.Experiments.Engines;

namespace AccelSim.Experiments.Sweeps;

/// <summary>The engines `accelsim sweep` knows. Add each real engine here once (one line per engine).</summary>
public static class BuiltInEvaluators
{
    public static EvaluatorRegistry CreateRegistry()
    {
        var registry = new EvaluatorRegistry();
        registry.Register(new AnalyticRooflineEvaluator());
        // Engines from the other areas register here, e.g.:
        //   registry.Register("fusemax", () => new FuseMaxEvaluator());
        return registry;
    }
}
