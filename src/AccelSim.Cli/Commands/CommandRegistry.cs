using System.CommandLine;

namespace AccelSim.Cli;

/// <summary>Every verb of the `accelsim` command. Each verb lives in its own file and is listed here once.</summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All(TextWriter stdout, TextWriter stderr)
    {
        yield return Commands.ReproduceCommand.Create(stdout, stderr);
    }
}
