using AccelSim.Core;

namespace AccelSim.Tests.CoreLib;

public class SuggestTests
{
    [Theory]
    [InlineData("kernal", "kernel")]
    [InlineData("capcity_words", "capacity_words")]
    [InlineData("KERNEL", "kernel")]
    [InlineData("bandwith", "bandwidth")]
    public void SuggestsTheClosePlausibleName(string typo, string expected) =>
        Assert.Equal(expected, Suggest.Closest(typo, ["kernel", "capacity_words", "bandwidth", "dtype"]));

    [Fact]
    public void SuggestsNothingForAnUnrelatedName() =>
        Assert.Null(Suggest.Closest("flux_capacitor", ["kernel", "dtype"]));

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "", 3)]
    [InlineData("abc", "acb", 1)]
    [InlineData("kitten", "sitting", 3)]
    public void DistanceIsTheEditDistance(string a, string b, int d)
    {
        Assert.Equal(d, Suggest.Distance(a, b));
        Assert.Equal(d, Suggest.Distance(b, a));
    }

    [Fact]
    public void UnknownYamlKeyNamesTheClosestField()
    {
        var node = YNode.LoadText("kernal: fa3\n", "x.yaml");
        var e = Assert.Throws<InputException>(() => node.ExpectOnlyKeys("kernel", "dtype"));
        Assert.Equal("x.yaml:1:1: kernal: unknown field (did you mean 'kernel'?) (expected one of: kernel, dtype)", e.OneLine);
    }
}

public class InvariantFormattingTests
{
    [Theory]
    [InlineData(30270.0, "3.027e+04")]
    [InlineData(7567.0, "7567")]
    [InlineData(4.223e14, "4.223e+14")]
    [InlineData(0.8896, "0.8896")]
    public void SignificantDigitsUseOneExponentStyle(double value, string expected) =>
        Assert.Equal(expected, AccelSim.Core.Invariant.Sig(value));
}
