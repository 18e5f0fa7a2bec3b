using System.CommandLine;
using AccelSim.Experiments.Engines;
using AccelSim.Model;

namespace AccelSim.Cli.Commands;

/// <summary>
/// `accelsim eval --arch A --workload W [--model M] [--set k=v ...] [--mapping F] [--json]`: one front door for every
/// architecture under arch/. The architecture file decides the engine (<see cref="EvalEngines"/>: spatial arrays,
/// GPU specs, the cascade study architectures, SpAtten), and every engine runs the same pipeline: bind W, apply the
/// mapping for the target, price, report.
/// </summary>
public static class EvalCommand
{
    private static readonly Option<string?> Kernel = new("--kernel") { Description = "GPU kernel family for arch/gpu specs: standard, fa1, fa2, fa3, fa4, cudnn, triton, xformers, lean, or generic (any cascade, priced from its own Einsums)" };
    private static readonly Option<string?> Direction = new("--direction") { Description = "GPU: fwd (default), bwd or fwd+bwd" };
    private static readonly Option<string?> DType = new("--dtype") { Description = "GPU: data type (fp16, bf16, fp8); default from the workload's word_bits" };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var arch = new Option<string>("--arch") { Description = "Architecture YAML (AccelSim arch/*.yaml, or a Timeloop architecture)", Required = true };
        var workload = new Option<string>("--workload") { Description = "Problem YAML (AccelSim or Timeloop) or an Einsum workload cascade (workloads/**.yaml)", Required = true };
        var mapping = new Option<string?>("--mapping") { Description = "Mapping YAML (AccelSim or Timeloop) for a spatial architecture" };
        var einsum = new Option<string?>("--einsum") { Description = "Which Einsum of a cascade to evaluate (e.g. QK)" };
        var set = new Option<string[]>("--set")
        {
            Description = "LEVEL.FIELD=VALUE or clock_hz=VALUE changes a spatial architecture (capacity_words, read_bandwidth, read_pj, ...); " +
                          "arch.PATH=VALUE changes that field of a GPU spec's YAML (e.g. arch.sm_count=100 sets its value); NAME=VALUE sets a workload parameter",
            AllowMultipleArgumentsPerToken = true,
        };
        var model = new Option<string?>("--model") { Description = "Model shape file for the workload's parameters (e.g. workloads/models/bert-base.yaml)" };
        var ert = new Option<string?>("--ert") { Description = "Accelergy ERT (timeloop-*.ERT.yaml) giving energies for a Timeloop architecture" };
        var json = new Option<bool>("--json") { Description = "Print JSON: cycles, energy_pJ, utilization, and per level and tensor reads, fills, updates, capacity_used" };
        var command = new Command("eval",
            "Price a workload on any architecture under arch/; the architecture file picks the engine. A spatial or Timeloop architecture " +
            "evaluates one Einsum with a loop-nest mapping (cycles, utilisation, per-level occupancy and traffic, energy breakdown); a GPU spec " +
            "runs a kernel family (--kernel); a study architecture (arch/fusemax/*.yaml) applies its cascade mapping (binding, templates, " +
            "schedule) to the workload given and prices the whole cascade; arch/spatten.yaml runs the workload's pruning: section on SpAtten.\n" +
            "Example: accelsim eval --arch arch/fusemax/hardware/fusemax-hardware.yaml --workload workloads/attention/attention-1pass.yaml --einsum QK " +
            "--mapping arch/mappings/fusemax-qk.yaml --json   # the mapping is written for the default seq_len=1024\n" +
            "Example: accelsim eval --arch arch/gpu/h100.yaml --workload workloads/attention/attention-1pass.yaml --kernel fa3 --set seq_len=8192   # GPU model\n" +
            "Example: accelsim eval --arch arch/gpu/h100.yaml --workload workloads/attention/attention-1pass.yaml --kernel fa3 --set arch.hbm_tbps.value=4.8   # a GPU spec field\n" +
            "Example: accelsim eval --arch arch/gpu/h100.yaml --workload workloads/layers/transformer-layer.yaml --kernel generic   # any cascade: fused groups of its own Einsums\n" +
            "Example: accelsim eval --arch arch/fusemax/fusemax.yaml --workload workloads/attention/attention-1pass-prescaled.yaml " +
            "--model workloads/models/bert-base.yaml --set seq_len=16384 --json   # cascade study architecture\n" +
            "Example: accelsim eval --arch arch/spatten.yaml --workload workloads/attention/attention-3pass-pruned.yaml --model workloads/models/bert-base.yaml " +
            "--set batch=1   # SpAtten, with the workload's pruning: section");
        foreach (var o in new Option[] { arch, workload, mapping, einsum, set, model, ert, json, Kernel, Direction, DType }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var request = new EvalRequest(parse.GetValue(arch)!, parse.GetValue(workload)!, parse.GetValue(mapping), parse.GetValue(einsum),
                parse.GetValue(set) ?? Array.Empty<string>(), parse.GetValue(model), parse.GetValue(ert));
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var o in new[] { Kernel, Direction, DType })
                if (parse.GetValue(o) is { } value) options[o.Name] = value;
            var report = EvalEngines.Evaluate(new EvalInput(request, options));
            foreach (var w in report.Warnings) stderr.WriteLine("warning: " + w);
            stdout.Write(parse.GetValue(json) ? report.Json : report.Text);
            return ExitCodes.Ok;
        });
        return command;
    }
}
