using System.CommandLine;
using AccelSim.Einsum.Analysis;

namespace AccelSim.Cli;

/// <summary>`accelsim analyze WORKLOAD [--set k=v] [--json]`: operation counts, footprints, passes, intensity.</summary>
public static class AnalyzeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var workload = new WorkloadOptions();
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON" };
        var command = new Command("analyze",
            "Analyse an Einsum cascade: operation counts by kind per Einsum, tensor footprints, passes over each rank, arithmetic intensity.\n" +
            "Example: accelsim analyze workloads/attention/attention-1pass.yaml --set seq_len=4096 --json");
        workload.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var cascade = workload.Load(parse);
            var report = CascadeAnalyzer.Analyze(cascade);
            stdout.Write(parse.GetValue(json) ? CascadeReportWriter.Json(report) + "\n" : CascadeReportWriter.Text(report));
            return ExitCodes.Ok;
        });
        return command;
    }
}
