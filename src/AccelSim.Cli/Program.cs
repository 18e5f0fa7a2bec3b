using System.CommandLine;
using System.Globalization;
using AccelSim.Cli;
using AccelSim.Core;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

return Cli.Run(args, Console.Out, Console.Error);

namespace AccelSim.Cli
{
    /// <summary>Exit codes shared by every verb.</summary>
    public static class ExitCodes
    {
        public const int Ok = 0;
        public const int Failure = 1;
        public const int BadInput = 2;
    }

    public static class Cli
    {
        /// <summary>Builds the `accelsim` command tree. One file per verb under Commands/.</summary>
        public static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
        {
            var root = new RootCommand(
                "AccelSim: an attention-accelerator simulator and design-space explorer.\n" +
                "Workloads are Einsum cascades (workloads/*.yaml), architectures are YAML (arch/*.yaml).");
            foreach (var command in CommandRegistry.All(stdout, stderr))
                root.Subcommands.Add(command);
            return root;
        }

        /// <summary>Runs the CLI; bad input becomes one line on stderr and exit code 2, never a stack trace.</summary>
        public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
        {
            try
            {
                var root = BuildRoot(stdout, stderr);
                var parse = root.Parse(args);
                if (parse.Errors.Count > 0)
                {
                    // One line: the first problem, in our words, and where to look for usage.
                    var path = ParseErrors.CommandPath(parse);
                    stderr.WriteLine(ParseErrors.Describe(ParseErrors.First(parse.Errors), parse) +
                                     $" (see 'accelsim {(path.Length > 0 ? path + " " : "")}--help')");
                    return ExitCodes.BadInput;
                }
                var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
                return parse.Invoke(config);
            }
            catch (InputException e)
            {
                stderr.WriteLine(e.OneLine);
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file or folder we were told to read or write is unusable (a last resort: commands check --out first).
                stderr.WriteLine("error: " + e.Message.ReplaceLineEndings(" "));
                return ExitCodes.BadInput;
            }
            catch (OverflowException)
            {
                stderr.WriteLine("error: a size or count from the input does not fit in 64 bits; use smaller sizes");
                return ExitCodes.BadInput;
            }
            catch (OperationCanceledException)
            {
                stderr.WriteLine("interrupted");
                return ExitCodes.Failure;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("ACCELSIM_DEBUG") is null)
            {
                stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}" +
                                 " (set ACCELSIM_DEBUG=1 for a stack trace)");
                return ExitCodes.Failure;
            }
        }
    }
}
