using AccelSim.Experiments.Sweeps;
using AccelSim.Gpu;
using AccelSim.Gpu.Generic;
using AccelSim.Model;

namespace AccelSim.Experiments.Engines;

/// <summary>A GPU spec (arch/gpu/*.yaml): the workload run by a kernel family (<see cref="GpuEvaluation"/>).</summary>
public sealed class GpuEvalEngine : IEvalEngine
{
    public string Name => "gpu";
    public string Reads => "GPU specs (arch/gpu/*.yaml, with --kernel)";
    public IReadOnlyList<string> Options { get; } = ["--kernel", "--direction", "--dtype"];

    public bool Accepts(string archFile) => GpuEvaluation.Accepts(archFile);

    public EngineReport Evaluate(EvalInput input)
    {
        var request = input.Request;
        // A GPU spec's fields are YAML paths (arch.sm_count.value=100), edited in the file's text exactly as a sweep's
        // arch.<path> is, so errors point into the spec; every other --set is a workload parameter.
        var archSets = request.Sets.Where(SpatialEvaluation.IsArchitectureSetting).Select(ArchOverride).ToList();
        var workloadSets = request.Sets.Where(s => !SpatialEvaluation.IsArchitectureSetting(s)).ToList();
        var archDocument = archSets.Count == 0 ? null : SpecOverrideSet.Split(archSets).LoadArch(request.ArchFile);
        var (kernel, direction, dtype) = (input.Option("--kernel"), input.Option("--direction"), input.Option("--dtype"));
        if (GenericKernel.Matches(kernel))
        {
            var generic = GenericEvaluation.Run(request.ArchFile, request.WorkloadFile, workloadSets, request.ModelFile, direction, dtype, archDocument);
            return new EngineReport(Name, GenericReportFormatter.ToText(generic), GenericReportFormatter.ToJson(generic) + "\n", []);
        }
        var report = GpuEvaluation.Run(request.ArchFile, request.WorkloadFile, workloadSets, request.ModelFile,
            kernel, direction, dtype, archDocument);
        return new EngineReport(Name, GpuReportFormatter.ToText(report), GpuReportFormatter.ToJson(report) + "\n", []);
    }

    /// <summary>`arch.sm_count.value=100`, or the same path without `arch.` (a dotted name, as on spatial architectures).</summary>
    private static SpecOverride ArchOverride(string assignment)
    {
        var adds = assignment.StartsWith('+');
        var text = adds ? assignment[1..] : assignment;
        return SpecOverride.Parse((adds ? "+" : "") + (text.StartsWith("arch.", StringComparison.Ordinal) ? text : "arch." + text));
    }
}
