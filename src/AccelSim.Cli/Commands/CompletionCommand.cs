using System.CommandLine;

namespace AccelSim.Cli.Commands;

/// <summary>
/// `accelsim completion bash|zsh`: prints a shell completion script. The script asks accelsim itself for
/// candidates through System.CommandLine's `[suggest:POSITION]` directive, so completions always match the verbs
/// and options of the installed version.
/// </summary>
public static class CompletionCommand
{
    private const string Bash = """
        # accelsim tab completion for bash. Install: accelsim completion bash > ~/.accelsim-completion.bash
        # and add `source ~/.accelsim-completion.bash` to ~/.bashrc.
        _accelsim_complete() {
            local IFS=$'\n'
            local candidates
            candidates=$(accelsim "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=( $(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -o bashdefault -F _accelsim_complete accelsim
        """;

    private const string Zsh = """
        # accelsim tab completion for zsh. Install: accelsim completion zsh > ~/.accelsim-completion.zsh
        # and add `source ~/.accelsim-completion.zsh` to ~/.zshrc (after compinit).
        _accelsim() {
            local -a candidates
            candidates=("${(@f)$(accelsim "[suggest:${#BUFFER}]" "${BUFFER}" 2>/dev/null)}")
            _describe 'accelsim' candidates
            _files
        }
        compdef _accelsim accelsim
        """;

    public static Command Create(TextWriter stdout)
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion",
            "Print a tab-completion script for your shell (then add `source ~/.accelsim-completion.bash` to ~/.bashrc).\n" +
            "Example: accelsim completion bash > ~/.accelsim-completion.bash\n" +
            "Example: accelsim completion zsh > ~/.accelsim-completion.zsh");
        command.Arguments.Add(shell);
        command.SetAction(parse =>
        {
            stdout.WriteLine(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return ExitCodes.Ok;
        });
        return command;
    }
}
