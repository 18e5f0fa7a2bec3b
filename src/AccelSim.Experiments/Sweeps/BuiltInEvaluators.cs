using AccelSim.Experiments.Engines;

namespace AccelSim.Experiments.Sweeps;

/// <summary>The engines `accelsim sweep` knows. Add each real engine here once (one line per engine).</summary>
public static class BuiltInEvaluators
{
    public static EvaluatorRegistry CreateRegistry()
    {
        var registry = new EvaluatorRegistry();
        registry.Register(new AnalyticRooflineEvaluator());
        registry.Register(new GpuPointEvaluator());
        registry.Register(new CascadeAnalysisEvaluator());
        registry.Register(new FuseMax.FuseMaxPointEvaluator());
        return registry;
    }
}
