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
