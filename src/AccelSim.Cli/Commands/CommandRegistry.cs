using System.CommandLine;
using AccelSim.Cli.Commands;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Cli;

/// <summary>Every verb of the `accelsim` command. Each verb lives in its own file and is listed here once.</summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All(TextWriter stdout, TextWriter stderr)
    {
        yield return AnalyzeCommand.Create(stdout);
        yield return CheckCommand.Create(stdout);
        yield return EvalCommand.Create(stdout, stderr);
        yield return SweepCommand.Create(stdout, stderr, BuiltInEvaluators.CreateRegistry);
        yield return ReproduceCommand.Create(stdout, stderr);
        yield return ValidateCommand.Build(stdout, stderr);
        yield return PlotCommand.Create(stdout, stderr);
        yield return ReportCommand.Create(stdout, stderr);
        yield return MergeCommand.Create(stdout, stderr);
        yield return ImportCommand.Create(stdout);
        yield return MapCommand.Create(stdout, stderr);
        yield return CompletionCommand.Create(stdout);
    }
}
