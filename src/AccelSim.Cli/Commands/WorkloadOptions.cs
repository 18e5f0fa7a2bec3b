using System.CommandLine;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Cli;

/// <summary>Options every workload-consuming verb shares: the workload path, `--set name=value` and `--model FILE`.</summary>
public sealed class WorkloadOptions
{
    public Argument<string> Workload { get; } = new("workload") { Description = "Workload YAML (an Einsum cascade), e.g. workloads/attention/attention-1pass.yaml" };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override a workload parameter, e.g. --set seq_len=4096 (repeatable)",
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<string?> Model { get; } = new("--model") { Description = "Model shape file providing parameter values (e.g. workloads/models/xlm.yaml)" };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Workload);
        command.Options.Add(Set);
        command.Options.Add(Model);
    }

    public Cascade Load(ParseResult parse) =>
        WorkloadLoader.Load(parse.GetValue(Workload)!, WorkloadLoader.ParseOverrides(parse.GetValue(Set)), parse.GetValue(Model));
}
