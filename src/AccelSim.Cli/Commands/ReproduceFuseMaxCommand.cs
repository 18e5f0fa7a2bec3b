using System.CommandLine;
using AccelSim.Experiments.FuseMax;

namespace AccelSim.Cli.Commands;

/// <summary>`accelsim reproduce fusemax`: the FuseMax (MICRO 2024) study, a subcommand of <see cref="ReproduceCommand"/>.</summary>
public static class ReproduceFuseMaxCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var outOption = new Option<string?>("--out") { Description = "Output directory (default: runs/fusemax in the checkout, which git ignores; --out results/fusemax regenerates the committed reference results)." };
        var referenceOption = new Option<string?>("--reference")
        {
            Description = "Directory with the study's published tables (attn-*.csv, end2end-*.csv) to compare against " +
                          "(default: tests/AccelSim.Tests/FuseMax/Reference in the checkout).",
        };
        var noPlotsOption = new Option<bool>("--no-plots") { Description = "Skip the PNG figures." };
        var command = new Command("fusemax",
            "FuseMax (MICRO 2024): BERT, TrXL, T5 and XLM at 1K-1M tokens (batch 64) on unfused, FLAT, +Cascade,\n" +
            "+Architecture (stall) and FuseMax (arch/fusemax/*.yaml), priced by the cascade model. Writes DIR/attention.csv\n" +
            "and DIR/end2end.csv (model,seq_len,arch,latency_s,energy_pJ,traffic_bytes,util_2d,util_1d, ...), buffers.csv,\n" +
            "einsums.csv, energy.csv, pareto.csv, summary.txt and the figures, and prints the headline averages.\n" +
            "Example: accelsim reproduce fusemax   # writes runs/fusemax/\n" +
            "Example: accelsim reproduce fusemax --out results/fusemax   # regenerates the committed reference results");
        command.Options.Add(outOption);
        command.Options.Add(referenceOption);
        command.Options.Add(noPlotsOption);
        command.SetAction(parse =>
        {
            if (parse.GetValue(outOption) is { } outTo) OutputPaths.Folder(outTo, "--out");
            var options = FuseMaxReproduction.DefaultOptions(parse.GetValue(outOption), parse.GetValue(referenceOption));
            if (parse.GetValue(noPlotsOption)) options = options with { Plots = false };
            FuseMaxReproduction.Run(options, stdout);
            return ExitCodes.Ok;
        });
        return command;
    }
}
