using System.CommandLine;
using AccelSim.Cli.Commands;

namespace AccelSim.Cli;

/// <summary>Every verb of the `accelsim` command. Each verb lives in its own file and is listed here once.</summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All(TextWriter stdout, TextWriter stderr)
    {
        yield return AnalyzeCommand.Create(stdout);
        yield return ValidateCommand.Build(stdout, stderr);
        yield return EvalCommand.Create(stdout, stderr);
        yield return ImportCommand.Create(stdout);
        yield return ReproduceCommand.Create(stdout, stderr);
    }
}
