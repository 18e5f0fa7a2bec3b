namespace AccelSim.Tests;

/// <summary>Runs the `accelsim` command line in-process and captures what it prints.</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = AccelSim.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
