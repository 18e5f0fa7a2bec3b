using AccelSim.Core;

namespace AccelSim.Tests.CoreLib;

public class YamlDocumentTests
{
    [Fact]
    public void ASecondDocumentIsAnErrorAtItsStart()
    {
        var e = Assert.Throws<InputException>(() => YNode.LoadText("a: 1\n---\nb: 2\n", "x.yaml"));
        Assert.StartsWith("x.yaml:3:1: a second YAML document", e.OneLine);
    }

    [Fact]
    public void ALeadingDocumentMarkerIsOneDocument() =>
        Assert.Equal("1", YNode.LoadText("---\na: 1\n", "x.yaml").Req("a").Text);
}

public class CommandLineErrorTests
{
    [Theory]
    [InlineData(new[] { "plot", "nope", "--in", "x", "--out", "y.png" }, "accelsim plot: KIND: 'nope' is not one of speedup, energy")]
    [InlineData(new[] { "analyze" }, "accelsim analyze: missing argument WORKLOAD")]
    [InlineData(new[] { "eval", "--workload", "w.yaml" }, "--arch: required option is missing")]
    [InlineData(new[] { "import" }, "accelsim import: missing command (one of: timeloop)")]
    [InlineData(new[] { "reproduce", "nope" }, "accelsim reproduce: unknown command 'nope'")]
    public void EveryParseErrorIsOneLocatedLine(string[] args, string start)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(2, AccelSim.Cli.Cli.Run(args, o, e));
        var line = Assert.Single(e.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(start, line);
    }
}
