using System.CommandLine;
using AccelSim.Experiments.Spatten;

namespace AccelSim.Cli.Commands;

/// <summary>
/// `accelsim reproduce STUDY`: re-runs a published study through AccelSim's models. Each study is a subcommand;
/// add a new one by appending its factory to <see cref="Studies"/>.
/// </summary>
public static class ReproduceCommand
{
    /// <summary>Factories of the `reproduce` subcommands, in help order.</summary>
    public static readonly IReadOnlyList<Func<TextWriter, TextWriter, Command>> Studies =
    [
        Spatten,
        ReproduceFuseMaxCommand.Create,
    ];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("reproduce",
            "Reproduce a published study with AccelSim's models and write its CSV, summary and plots.\n" +
            "Example: accelsim reproduce fusemax   # writes runs/fusemax/ (git ignores runs/)");
        foreach (var make in Studies) command.Subcommands.Add(make(stdout, stderr));
        return command;
    }

    private static Command Spatten(TextWriter stdout, TextWriter stderr)
    {
        var outOption = new Option<string?>("--out")
        {
            Description = "Output directory (default: runs/spatten in the checkout, which git ignores; --out results/spatten regenerates the committed reference results).",
        };
        var archOption = new Option<string?>("--arch")
        {
            Description = "SpAtten architecture YAML (default: arch/spatten.yaml).",
        };
        var workloadOption = new Option<string[]>("--workload")
        {
            Description = "Benchmark file(s) to run instead of workloads/spatten/bert.yaml and gpt2.yaml (repeatable).",
            AllowMultipleArgumentsPerToken = true,
        };
        var noPlotsOption = new Option<bool>("--no-plots") { Description = "Skip the PNG figures." };
        var settingsOption = new Option<string?>("--settings")
        {
            Description = "GPT-2 settings: paper (default; the paper's rule and per-technique averages, workloads/spatten/gpt2.yaml) " +
                          "or rtl (sensitivity variant: the authors' released per-layer RTL schedule, gpt2-rtl.yaml).",
        };
        var noEnginesOption = new Option<bool>("--no-engines")
        {
            Description = "Skip pricing the pruned workloads on the FuseMax array and the H100 GPU models (spatten-engines.csv).",
        };
        var command = new Command("spatten",
            "SpAtten (HPCA 2021): BERT and GPT-2 with the paper's cascade token/head pruning, local value pruning and\n" +
            "progressive quantisation; DRAM access, latency and energy with and without each technique.\n" +
            "The same pruned workloads are also priced on the FuseMax array and on H100 FlashAttention-2/3 models.\n" +
            "Writes DIR/spatten.csv (benchmark,model,technique,dram_bytes,latency_s,energy_pJ), spatten-details.csv,\n" +
            "spatten-engines.csv (benchmark,model,technique,engine,latency_s,energy_pJ,dram_bytes), summary.txt and\n" +
            "PNG figures, and prints the average DRAM reduction of 'all' over 'dense'.\n" +
            "Example: accelsim reproduce spatten   # writes runs/spatten/\n" +
            "Example: accelsim reproduce spatten --settings rtl --out runs/spatten-rtl   # sensitivity variant");
        command.Options.Add(outOption);
        command.Options.Add(archOption);
        command.Options.Add(workloadOption);
        command.Options.Add(noPlotsOption);
        command.Options.Add(settingsOption);
        command.Options.Add(noEnginesOption);
        command.SetAction(parse =>
        {
            if (parse.GetValue(outOption) is { } outTo) OutputPaths.Folder(outTo, "--out");
            var options = SpattenReproduction.DefaultOptions(parse.GetValue(outOption));
            if (parse.GetValue(archOption) is { } arch) options = options with { ArchPath = arch };
            if (parse.GetValue(workloadOption) is { Length: > 0 } workloads) options = options with { WorkloadFiles = workloads };
            if (parse.GetValue(noPlotsOption)) options = options with { Plots = false };
            if (parse.GetValue(settingsOption) is { } settings)
            {
                if (options.WorkloadFiles is not null)
                    throw new AccelSim.Core.InputException(null, "--settings", "selects the default GPT-2 file; it cannot be combined with --workload");
                options = options with { Settings = SpattenReproduction.ParseSettings(settings) };
            }
            if (parse.GetValue(noEnginesOption)) options = options with { Engines = false };
            SpattenReproduction.Run(options, stdout);
            return ExitCodes.Ok;
        });
        return command;
    }
}
