using System.CommandLine;
using AccelSim.Experiments.Sweeps;
using AccelSim.Gpu;
using AccelSim.Gpu.Generic;
using AccelSim.Model;

namespace AccelSim.Cli.Commands;

/// <summary>
/// `accelsim eval --arch A --workload W --mapping M [--einsum NAME] [--set k=v ...] [--json]`.
/// The architecture file decides the engine: each <see cref="Engine"/> says whether it reads the spec; the first
/// that does evaluates it. The spatial-array model is registered here; another engine (e.g. GPU specs) adds itself to
/// <see cref="Engines"/> with its own options.
/// </summary>
public static class EvalCommand
{
    public sealed record Engine(string Name, Func<string, bool> Accepts, Func<ParseResult, EvalRequest, TextWriter, TextWriter, bool, int> Run);

    public static readonly List<Engine> Engines = new()
    {
        new Engine("spatial", SpatialEvaluation.Accepts, RunSpatial),
        new Engine("gpu", GpuEvaluation.Accepts, RunGpu),
    };

    private static readonly Option<string?> Kernel = new("--kernel") { Description = "GPU kernel family for arch/gpu specs: standard, fa1, fa2, fa3, fa4, cudnn, triton, xformers, lean, or generic (any cascade, priced from its own Einsums)" };
    private static readonly Option<string?> Direction = new("--direction") { Description = "GPU: fwd (default), bwd or fwd+bwd" };
    private static readonly Option<string?> DType = new("--dtype") { Description = "GPU: data type (fp16, bf16, fp8); default from the workload's word_bits" };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var arch = new Option<string>("--arch") { Description = "Architecture YAML (AccelSim arch/*.yaml, or a Timeloop architecture)", Required = true };
        var workload = new Option<string>("--workload") { Description = "Problem YAML (AccelSim or Timeloop) or an Einsum workload cascade (workloads/**.yaml)", Required = true };
        var mapping = new Option<string?>("--mapping") { Description = "Mapping YAML (AccelSim or Timeloop)" };
        var einsum = new Option<string?>("--einsum") { Description = "Which Einsum of a cascade to evaluate (e.g. QK)" };
        var set = new Option<string[]>("--set")
        {
            Description = "LEVEL.FIELD=VALUE or clock_hz=VALUE changes a spatial architecture (capacity_words, read_bandwidth, read_pj, ...); " +
                          "arch.PATH=VALUE changes that field of a GPU spec's YAML (e.g. arch.sm_count.value=100); NAME=VALUE sets a workload parameter",
            AllowMultipleArgumentsPerToken = true,
        };
        var model = new Option<string?>("--model") { Description = "Model shape file for the workload's parameters (e.g. workloads/models/bert-base.yaml)" };
        var ert = new Option<string?>("--ert") { Description = "Accelergy ERT (timeloop-*.ERT.yaml) giving energies for a Timeloop architecture" };
        var json = new Option<bool>("--json") { Description = "Print JSON: cycles, energy_pJ, utilization, and per level and tensor reads, fills, updates, capacity_used" };
        var command = new Command("eval",
            "Evaluate one mapping of one Einsum on an architecture: cycles, utilisation, per-level occupancy and traffic, energy breakdown.\n" +
            "Example: accelsim eval --arch arch/fusemax/hardware/fusemax-hardware.yaml --workload workloads/attention/attention-1pass.yaml --einsum QK " +
            "--mapping arch/mappings/fusemax-qk.yaml --json   # the mapping is written for the default seq_len=1024\n" +
            "Example: accelsim eval --arch arch/gpu/h100.yaml --workload workloads/attention/attention-1pass.yaml --kernel fa3 --set seq_len=8192   # GPU model\n" +
            "Example: accelsim eval --arch arch/gpu/h100.yaml --workload workloads/attention/attention-1pass.yaml --kernel fa3 --set arch.hbm_tbps.value=4.8   # a GPU spec field\n" +
            "Example: accelsim eval --arch arch/gpu/h100.yaml --workload workloads/layers/transformer-layer.yaml --kernel generic   # any cascade: fused groups of its own Einsums");
        foreach (var o in new Option[] { arch, workload, mapping, einsum, set, model, ert, json, Kernel, Direction, DType }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var request = new EvalRequest(parse.GetValue(arch)!, parse.GetValue(workload)!, parse.GetValue(mapping), parse.GetValue(einsum),
                parse.GetValue(set) ?? Array.Empty<string>(), parse.GetValue(model), parse.GetValue(ert));
            foreach (var engine in Engines)
                if (engine.Accepts(request.ArchFile))
                    return engine.Run(parse, request, stdout, stderr, parse.GetValue(json));
            throw new Core.InputException(Core.SourceLocation.FileOnly(request.ArchFile), "architecture",
                $"no engine reads this architecture (engines: {string.Join(", ", Engines.Select(e => e.Name))})");
        });
        return command;
    }

    private static int RunSpatial(ParseResult parse, EvalRequest request, TextWriter stdout, TextWriter stderr, bool json)
    {
        var outcome = SpatialEvaluation.Run(request);
        foreach (var w in outcome.Warnings) stderr.WriteLine("warning: " + w);
        stdout.Write(json ? CostReportWriter.Json(outcome.Report, outcome.Notes) + "\n" : CostReportWriter.Text(outcome.Report, outcome.Notes));
        return ExitCodes.Ok;
    }

    private static int RunGpu(ParseResult parse, EvalRequest request, TextWriter stdout, TextWriter stderr, bool json)
    {
        // A GPU spec's fields are YAML paths (arch.sm_count.value=100), edited in the file's text exactly as a sweep's
        // arch.<path> is, so errors point into the spec; every other --set is a workload parameter.
        var archSets = request.Sets.Where(SpatialEvaluation.IsArchitectureSetting).Select(GpuArchOverride).ToList();
        var workloadSets = request.Sets.Where(s => !SpatialEvaluation.IsArchitectureSetting(s)).ToList();
        var archDocument = archSets.Count == 0 ? null : SpecOverrideSet.Split(archSets).LoadArch(request.ArchFile);
        if (GenericKernel.Matches(parse.GetValue(Kernel)))
        {
            var generic = GenericEvaluation.Run(request.ArchFile, request.WorkloadFile, workloadSets, request.ModelFile,
                parse.GetValue(Direction), parse.GetValue(DType), archDocument);
            stdout.Write(json ? GenericReportFormatter.ToJson(generic) + "\n" : GenericReportFormatter.ToText(generic));
            return ExitCodes.Ok;
        }
        var report = GpuEvaluation.Run(request.ArchFile, request.WorkloadFile, workloadSets, request.ModelFile,
            parse.GetValue(Kernel), parse.GetValue(Direction), parse.GetValue(DType), archDocument);
        stdout.Write(json ? GpuReportFormatter.ToJson(report) + "\n" : GpuReportFormatter.ToText(report));
        return ExitCodes.Ok;
    }

    /// <summary>`arch.sm_count.value=100`, or the same path without `arch.` (a dotted name, as on spatial architectures).</summary>
    private static SpecOverride GpuArchOverride(string assignment)
    {
        var adds = assignment.StartsWith('+');
        var text = adds ? assignment[1..] : assignment;
        return SpecOverride.Parse((adds ? "+" : "") + (text.StartsWith("arch.", StringComparison.Ordinal) ? text : "arch." + text));
    }
}
