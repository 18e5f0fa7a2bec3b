namespace AccelSim.Tests;

public class CliSmokeTests
{
    [Fact]
    public void HelpExitsZero()
    {
        var outw = new StringWriter();
        var errw = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(["--help"], outw, errw);
        Assert.Equal(0, code);
        Assert.Contains("AccelSim", outw.ToString());
    }
}

public class CompletionTests
{
    private static string Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(0, AccelSim.Cli.Cli.Run(args, o, e));
        return o.ToString();
    }

    [Fact]
    public void SuggestDirectiveCompletesVerbsAndOptions()
    {
        Assert.Contains("analyze", Run("[suggest:10]", "accelsim a").Split('\n'));
        Assert.Contains("--json", Run("[suggest:14]", "analyze x --js").Split('\n'));
    }

    [Theory]
    [InlineData("bash", "complete -o default")]
    [InlineData("zsh", "compdef _accelsim accelsim")]
    public void CompletionScripts(string shell, string marker) => Assert.Contains(marker, Run("completion", shell));

    [Fact]
    public void EveryVerbHelpHasAnExample()
    {
        var root = AccelSim.Cli.Cli.BuildRoot(TextWriter.Null, TextWriter.Null);
        foreach (var verb in root.Subcommands)
            Assert.True(verb.Description?.Contains("Example", StringComparison.OrdinalIgnoreCase) == true, $"{verb.Name} --help has no example");
    }
}
