using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Tests.Experiments;

public class YamlOverridesTests
{
    private const string Arch = """
        name: demo   # a comment
        clock_hz: 940e6
        label: "quoted value"
        pe_array:
          rows: 256
          cols: 256
        levels:
          - name: dram
            bandwidth: 4.3e11
          - name: buffer
            capacity: 16777216
        flow: {a: 1, b: [1, 2]}
        empty:
        """;

    private static YNode Load(params string[] sets) =>
        YamlOverrides.Load("arch.yaml", Arch, [.. sets.Select(s => SpecOverride.Parse(s))], "arch.");

    private const string Cited = """
        sources:
          wp: "a whitepaper"
        sm_count: {value: 132, source: wp}
        clock:
          value: 1830
          source: wp
          note: boost
        plain: {value: 3, unit: x}
        """;

    /// <summary>
    /// A scalar set on a cited quantity ({value, source}) sets its value; its source then names a new `sources` entry
    /// that says the value was overridden, and where (the command line, or a sweep's line).
    /// </summary>
    [Fact]
    public void AScalarOnACitedQuantitySetsItsValueAndMarksItsSource()
    {
        var node = YamlOverrides.Load("gpu.yaml", Cited, [SpecOverride.Parse("sm_count=66"), SpecOverride.Parse("clock=1500")], "arch.");
        Assert.Equal(66, node.Req("sm_count").Req("value").AsLong());
        Assert.Equal("set_sm_count", node.Req("sm_count").Req("source").Text);
        Assert.Equal("overridden on the command line: arch.sm_count=66", node.Req("sources").Req("set_sm_count").Text);
        Assert.Equal(1500, node.Req("clock").Req("value").AsLong());
        Assert.Equal("boost", node.Req("clock").Req("note").Text);
        Assert.Equal("overridden on the command line: arch.clock=1500", node.Req("sources").Req(node.Req("clock").Req("source").Text).Text);
        Assert.Equal("a whitepaper", node.Req("sources").Req("wp").Text);

        var swept = YamlOverrides.Load("gpu.yaml", Cited, [new SpecOverride("sm_count", "66", Origin: new SourceLocation("s.yaml", 7, 5))], "arch.");
        Assert.Equal("overridden at s.yaml:7:5: arch.sm_count=66", swept.Req("sources").Req("set_sm_count").Text);

        // Without a source there is nothing to mark; a flow mapping given whole still replaces the whole quantity.
        Assert.Equal(4, YamlOverrides.Load("gpu.yaml", Cited, [SpecOverride.Parse("plain=4")], "arch.").Req("plain").Req("value").AsLong());
        var whole = YamlOverrides.Load("gpu.yaml", Cited, [SpecOverride.Parse("sm_count={value: 7, source: wp}")], "arch.");
        Assert.Equal(7, whole.Req("sm_count").Req("value").AsLong());
        Assert.Equal("wp", whole.Req("sm_count").Req("source").Text);
    }

    [Fact]
    public void ReplacesScalarsInPlaceKeepingEveryLine()
    {
        var node = Load("pe_array.rows=128", "levels[1].capacity=8388608", "label=two words", "name=x:y");
        Assert.Equal(128, node.Req("pe_array").Req("rows").AsLong());
        Assert.Equal(8388608, node.Req("levels").Items[1].Req("capacity").AsLong());
        Assert.Equal("two words", node.Req("label").Text);
        Assert.Equal("x:y", node.Req("name").Text);
        // Lines of every field are unchanged, so a spec parser's errors still point into the file.
        Assert.Equal(5, node.Req("pe_array").Req("rows").Location.Line);
        Assert.Equal(11, node.Req("levels").Items[1].Req("capacity").Location.Line);
        Assert.Equal(12, node.Req("flow").Location.Line);
        Assert.Equal(256, node.Req("pe_array").Req("cols").AsLong());
    }

    [Fact]
    public void BatchedAndSequentialApplicationAgree()
    {
        SpecOverride[] many = [SpecOverride.Parse("clock_hz=1e9"), SpecOverride.Parse("pe_array.cols=64"), SpecOverride.Parse("clock_hz=2e9")];
        var batched = YamlOverrides.Apply(Arch, "a", many);
        var sequential = many.Aggregate(Arch, (text, o) => YamlOverrides.Apply(text, "a", [o]));
        Assert.Equal(sequential, batched);
        Assert.Contains("clock_hz: 2e9\n", batched); // the last override of a path wins
    }

    [Fact]
    public void AddsFieldsOnlyWhenAsked()
    {
        var e = Assert.Throws<InputException>(() => Load("pe_array.depth=4"));
        Assert.Equal("arch.pe_array.depth", e.Field);
        Assert.Contains("has no field 'pe_array.depth' (write +arch.pe_array.depth to add it)", e.Problem);

        var node = Load("+pe_array.depth=4", "+flow.c=3", "+power.static_w=1.5", "+levels[1].ports=2");
        Assert.Equal(4, node.Req("pe_array").Req("depth").AsLong());
        Assert.Equal(7, node.Req("pe_array").Req("depth").Location.Line); // right after the mapping's last entry (cols, line 6)
        Assert.Equal(3, node.Req("flow").Req("c").AsLong());
        Assert.Equal(1.5, node.Req("power").Req("static_w").AsDouble());
        Assert.Equal(2, node.Req("levels").Items[1].Req("ports").AsLong());
    }

    [Fact]
    public void SetsEmptyValuesFlowCollectionsAndEmptyDocuments()
    {
        var node = Load("empty=5", "flow={a: 2}");
        Assert.Equal(5, node.Req("empty").AsLong());
        Assert.Equal(2, node.Req("flow").Req("a").AsLong());
        Assert.False(node.Req("flow").Has("b"));

        var synthetic = YamlOverrides.Load(null, "", [SpecOverride.Parse("+peak_flops=1e15"), SpecOverride.Parse("+mem.bw=3e12")], "arch.");
        Assert.Equal(1e15, synthetic.Req("peak_flops").AsDouble());
        Assert.Equal(3e12, synthetic.Req("mem").Req("bw").AsDouble());
    }

    [Theory]
    [InlineData("pe_array=3", "is a mapping; only values on one line can be set")]
    [InlineData("levels[5].name=x", "index 5 is out of range")]
    [InlineData("clock_hz.x=1", "is a scalar, not a mapping")]
    [InlineData("pe_array[0]=1", "is a mapping, not a list")]
    [InlineData("pe..rows=1", "malformed field path")]
    public void BadPathsAreOneLineErrors(string set, string problem)
    {
        var e = Assert.Throws<InputException>(() => Load(set));
        Assert.Contains(problem, e.OneLine);
        Assert.StartsWith("arch.", e.Field);
    }

    [Fact]
    public void ParsesAssignments()
    {
        Assert.Equal(new SpecOverride("a.b", "1 2"), SpecOverride.Parse(" a.b = 1 2 "));
        Assert.Equal(new SpecOverride("a", "x=y", AddsField: true), SpecOverride.Parse("+a=x=y"));
        Assert.Throws<InputException>(() => SpecOverride.Parse("novalue"));
        Assert.Throws<InputException>(() => SpecOverride.Parse("=3"));
        Assert.Equal("\"a: b\"", YamlOverrides.FormatScalar("a: b"));
        Assert.Equal("-1.5e-3", YamlOverrides.FormatScalar("-1.5e-3"));
        Assert.Equal("\"\"", YamlOverrides.FormatScalar(""));
    }

    [Fact]
    public void OverrideSetsRouteByPrefix()
    {
        var set = SpecOverrideSet.Split([SpecOverride.Parse("arch.a=1"), SpecOverride.Parse("+workload.b=2"), SpecOverride.Parse("options.mode=fast")]);
        Assert.Equal([new SpecOverride("a", "1")], set.Arch);
        Assert.Equal([new SpecOverride("b", "2", AddsField: true)], set.Workload);
        Assert.Equal([new KeyValuePair<string, string>("mode", "fast")], set.Options);
        Assert.Throws<InputException>(() => SpecOverrideSet.Split([SpecOverride.Parse("bogus.a=1")]));
    }
}
