using System.Text.RegularExpressions;
using AccelSim.Cli;

namespace AccelSim.Tests.Einsum;

/// <summary>
/// Unknown keys anywhere in a workload, variant or model file are located errors with a "did you mean"; every shipped
/// workload and model still loads.
/// </summary>
public class StrictWorkloadTests
{
    private const string Good = """
        name: tiny
        params:
          rows: 8
          cols: 4
        ranks:
          N: rows
          K: {size: cols, split: {K1: auto, K0: 2}}
        tensors:
          A: [N, K]
          B: {ranks: [K], word_bits: 8}
        einsums:
          - expr: Y[n] = A[n,k] * B[k]
            where: k < cols
        attention: null
        """;

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static void AssertUnknown(string path, int line, string field, string suggestion)
    {
        var (code, _, err) = Run("analyze", path);
        Assert.True(code == ExitCodes.BadInput, $"exit {code}: {err}");
        var lines = err.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Matches("^" + Regex.Escape(path) + ":" + line + @":\d+: " + Regex.Escape(field) + ": ", lines[0]);
        Assert.Contains($"(did you mean '{suggestion}'?)", lines[0]);
    }

    [Fact]
    public void TheStrictFixtureItselfLoads() => Assert.Equal(0, Run("analyze", RepoPaths.TempYaml(Good)).Code);

    [Theory]
    [InlineData("name: tiny", "name: tiny\ndescripton: x", 2, "descripton", "description")]
    [InlineData("  K: {size: cols,", "  K: {sise: cols,", 7, "ranks.K.sise", "size")]
    [InlineData("word_bits: 8}", "word_bit: 8}", 10, "tensors.B.word_bit", "word_bits")]
    [InlineData("    where: k < cols", "    wher: k < cols", 13, "einsums[0].wher", "where")]
    [InlineData("attention: null", "ouputs: [Y]", 14, "ouputs", "outputs")]
    public void UnknownKeysAnywhere(string from, string to, int line, string field, string suggestion) =>
        AssertUnknown(RepoPaths.TempYaml(Good.Replace(from, to)), line, field, suggestion);

    [Fact]
    public void SectionsNoEngineReadsAreUnknown()
    {
        // `layers:` was once reserved but nothing reads it: accepting it would silently ignore its content.
        var path = RepoPaths.TempYaml(Good.Replace("attention: null", "layers: 3"));
        var (code, _, err) = Run("analyze", path);
        Assert.Equal(2, code);
        Assert.StartsWith($"{path}:14:1: layers: unknown field", err);
    }

    [Fact]
    public void UnknownKeyInAVariant()
    {
        var path = RepoPaths.TempYaml($"extends: {RepoPaths.Of("workloads", "attention", "attention-1pass.yaml")}\nparms: {{seq_len: 8}}\n");
        AssertUnknown(path, 2, "parms", "params");
    }

    [Fact]
    public void MisspeltParameterInAVariant()
    {
        var path = RepoPaths.TempYaml($"extends: {RepoPaths.Of("workloads", "attention", "attention-1pass.yaml")}\nparams:\n  seqlen: 8\n");
        AssertUnknown(path, 3, "params.seqlen", "seq_len");
    }

    [Fact]
    public void MisspeltSetParameter()
    {
        var (code, _, err) = Run("analyze", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--set", "seqlen=8");
        Assert.Equal(2, code);
        Assert.Contains("--set seqlen: unknown parameter 'seqlen' (did you mean 'seq_len'?)", err);
    }

    [Fact]
    public void UnknownKeyInAModelFile()
    {
        var model = RepoPaths.TempYaml("name: m\nparms: {heads: 2}\n");
        var (code, _, err) = Run("analyze", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--model", model);
        Assert.Equal(2, code);
        Assert.StartsWith($"{model}:2:1: parms: unknown field (did you mean 'params'?)", err);
    }

    [Fact]
    public void CyclicExtendsIsAnErrorNotAStackOverflow()
    {
        var dir = Path.GetDirectoryName(RepoPaths.TempYaml("x: 1\n"))!;
        File.WriteAllText(Path.Combine(dir, "a.yaml"), "extends: b.yaml\n");
        File.WriteAllText(Path.Combine(dir, "b.yaml"), "extends: a.yaml\n");
        var (code, _, err) = Run("analyze", Path.Combine(dir, "a.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("extends itself: a.yaml -> b.yaml -> a.yaml", err);
    }

    [Fact]
    public void DuplicateKeysAreLocated()
    {
        var path = RepoPaths.TempYaml(Good.Replace("  cols: 4", "  cols: 4\n  rows: 9"));
        var (code, _, err) = Run("analyze", path);
        Assert.Equal(2, code);
        Assert.StartsWith($"{path}:5:3: malformed YAML: Duplicate key rows", err.Trim());
    }

    public static TheoryData<string> ShippedWorkloads()
    {
        var data = new TheoryData<string>();
        foreach (var dir in new[] { "attention", "layers" })
            foreach (var f in Directory.GetFiles(RepoPaths.Of("workloads", dir), "*.yaml").Order(StringComparer.Ordinal))
                data.Add(Path.GetRelativePath(RepoPaths.Root, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedWorkloads))]
    public void EveryShippedWorkloadLoads(string relative)
    {
        var (code, _, err) = Run("analyze", RepoPaths.Of(relative), "--json");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void EveryShippedModelLoadsWithEveryWorkloadItFits()
    {
        var models = Directory.GetFiles(RepoPaths.Of("workloads", "models"), "*.yaml");
        Assert.NotEmpty(models);
        foreach (var model in models)
        {
            var (code, _, err) = Run("analyze", RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), "--model", model);
            Assert.True(code == 0, $"{model}: {err}");
        }
    }
}
