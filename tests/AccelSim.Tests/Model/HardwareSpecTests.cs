using System.Text.Json;
using AccelSim.Model;

namespace AccelSim.Tests.Model;

/// <summary>
/// Energy without energy tables is unavailable (null / n/a, one stderr warning), never 0; architecture values out of
/// physical range and unknown keys or classes are one-line exit-2 errors; `import timeloop` writes only loadable specs.
/// </summary>
public class HardwareSpecTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Case03 => Path.Combine(Timeloop.TimeloopGoldenTests.ReferenceRoot(), "03-model-conv1d+oc-3level", "legacy-v0.2");
    private static string Arch03 => Path.Combine(Case03, "arch/3level.arch.yaml");
    private static string Prob03 => Path.Combine(Case03, "prob/conv1d+oc.prob.yaml");
    private static string Map03 => Path.Combine(Case03, "map/conv1d+oc-3level.map.yaml");
    private static string Ert03 => Path.Combine(Case03, "ref-output/no-bypass/timeloop-model.ERT.yaml");

    [Fact]
    public void EvalWithoutErtGivesEnergyAsNullAndWarnsOnce()
    {
        var (code, stdout, stderr) = Run("eval", "--arch", Arch03, "--workload", Prob03, "--mapping", Map03, "--json");
        Assert.True(code == 0, stderr);
        var warning = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("no energy table for MainMemory, GlobalBuffer, RegisterFile, MACC: energy unavailable", warning);
        var r = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(JsonValueKind.Null, r.GetProperty("energy_pJ").ValueKind);
        Assert.Equal(1536, r.GetProperty("cycles").GetInt64());
        foreach (var l in r.GetProperty("levels").EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Null, l.GetProperty("energy_pJ").ValueKind);
            foreach (var t in l.GetProperty("tensors").EnumerateArray()) Assert.Equal(JsonValueKind.Null, t.GetProperty("energy_pJ").ValueKind);
        }
        var text = Run("eval", "--arch", Arch03, "--workload", Prob03, "--mapping", Map03);
        Assert.Equal(0, text.Code);
        Assert.Contains("Energy        n/a", text.Out);
        Assert.DoesNotContain(" 0 pJ", text.Out);
        Assert.DoesNotContain("NaN", text.Out);
    }

    [Fact]
    public void EvalWithErtHasNoWarning()
    {
        var (code, stdout, stderr) = Run("eval", "--arch", Arch03, "--workload", Prob03, "--mapping", Map03, "--ert", Ert03, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        Assert.True(JsonDocument.Parse(stdout).RootElement.GetProperty("energy_pJ").GetDouble() > 0);
    }

    [Fact]
    public void MapWithoutErtRefusesEnergyObjectivesButSearchesCycles()
    {
        foreach (var objective in new[] { "energy", "edp", "cycles,energy" })
        {
            var (code, _, err) = Run("map", "--arch", Arch03, "--workload", Prob03, "--objective", objective, "--budget", "50");
            Assert.Equal(2, code);
            var line = Assert.Single(err.Trim().Split('\n'));
            Assert.StartsWith("--objective: ", line);
            Assert.Contains("no energy table for", line);
        }
        // The default objective (edp) is not refused: the search minimises cycles instead, and says so.
        var byDefault = Run("map", "--arch", Arch03, "--workload", Prob03, "--budget", "50", "--json");
        Assert.True(byDefault.Code == 0, byDefault.Err);
        Assert.Contains("warning: the default objective edp needs energies; minimising cycles instead", byDefault.Err);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(byDefault.Out).RootElement.GetProperty("energy_pJ").ValueKind);

        var ok = Run("map", "--arch", Arch03, "--workload", Prob03, "--objective", "cycles", "--budget", "200", "--json");
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Single(ok.Err.Split('\n'), l => l.StartsWith("warning: no energy table for", StringComparison.Ordinal));
        var r = JsonDocument.Parse(ok.Out).RootElement;
        Assert.Equal(JsonValueKind.Null, r.GetProperty("energy_pJ").ValueKind);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("edp").ValueKind);
        Assert.Equal(1536, r.GetProperty("cycles").GetInt64());
    }

    [Fact]
    public void NativeLevelWithoutEnergyMakesEnergyUnavailable()
    {
        var arch = RepoPaths.TempYaml("""
            architecture:
              name: bare
              storage:
                - {name: DRAM, class: dram}
                - {name: Buf, class: sram, capacity_words: 4096}
              compute:
                - {name: PE, operations: {mac: 1}}
            """);
        var prob = RepoPaths.TempYaml("problem: {name: mv, dims: {C: 4, K: 8}, tensors: {W: [C, K], I: [C], O: {ranks: [K], output: true}}}\n");
        var map = RepoPaths.TempYaml("mapping:\n  levels:\n    - level: DRAM\n    - level: Buf\n      temporal: C=4 K=8\n");
        var (code, stdout, stderr) = Run("eval", "--arch", arch, "--workload", prob, "--mapping", map, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("no energy table for DRAM, Buf, PE: energy unavailable", stderr);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(stdout).RootElement.GetProperty("energy_pJ").ValueKind);
    }

    /// <summary>Replaces one attribute line of exercise 03's legacy architecture and expects a located error there.</summary>
    [Theory]
    [InlineData("word-bits: 8", "word-bits: 0", "word-bits", "must be > 0")]
    [InlineData("depth: 8192", "depth: -8192", "depth", "must be > 0")]
    [InlineData("depth: 8192", "depth: 0", "depth", "must be > 0")]
    [InlineData("block-size: 32", "block-size: 0", "block-size", "must be > 0")]
    [InlineData("depth: 8192", "depth: 8192\n          read_bandwidth: 0", "read_bandwidth", "must be a finite number > 0")]
    [InlineData("depth: 8192", "depth: 8192\n          write_bandwidth: NaN", "write_bandwidth", "must be a finite number > 0")]
    [InlineData("depth: 8192", "depth: 8192\n          read_bandwidth: .inf", "read_bandwidth", "must be a finite number > 0")]
    [InlineData("depth: 8192", "depth: 8192\n          multiple_buffering: 0.5", "multiple_buffering", "must be >= 1")]
    [InlineData("depth: 8192", "depth: 8192\n          word-bts: 8", "word-bts", "did you mean 'word-bits'?")]
    [InlineData("class: SRAM", "class: flux-capacitor", "class", "unknown component class 'flux-capacitor'")]
    [InlineData("class: regfile", "class: regfiel", "class", "did you mean 'regfile'?")]
    [InlineData("name: RegisterFile", "name: RegisterFile[3..1]", "name", "empty instance range")]
    [InlineData("block-size: 32", "block-size: 8", "width", "clusters")]
    [InlineData("- name: System", "- name: System\n    attributes: {global_cycle_seconds: 0}", "global_cycle_seconds", "must be a finite number > 0")]
    [InlineData("technology: 40nm", "technology: abcnm", "technology", "expected a technology node such as '40nm', found 'abcnm'")]
    [InlineData("technology: 40nm", "technology: -40nm", "technology", "expected a technology node")]
    [InlineData("version: 0.2", "version: 9.9", "version", "unsupported Timeloop architecture version '9.9' (supported: 0.2, 0.3, 0.4)")]
    [InlineData("datawidth: 8", "datawidth: 0", "datawidth", "must be > 0")] // the MAC's: not read by the model, still checked
    public void TimeloopAttributeOutOfRangeIsALocatedError(string find, string replace, string field, string text)
    {
        var original = File.ReadAllText(Arch03);
        Assert.Contains(find, original);
        var at = original.IndexOf(find, StringComparison.Ordinal); // the first occurrence: MainMemory's, or the System node
        var arch = RepoPaths.TempYaml(original[..at] + replace + original[(at + find.Length)..], "3level.arch.yaml");
        var (code, _, err) = Run("eval", "--arch", arch, "--workload", Prob03, "--mapping", Map03, "--ert", Ert03);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Trim().Split('\n'));
        Assert.Matches(@"^.+3level\.arch\.yaml:\d+:\d+: ", line);
        Assert.Contains(field, line);
        Assert.Contains(text, line);
    }

    [Theory]
    [InlineData("class: sram", "class: flux-capacitor", "unknown storage class 'flux-capacitor'")]
    [InlineData("class: sram", "class: sramm", "did you mean 'sram'?")]
    [InlineData("capacity_words: 4096", "capacity_words: 4096, read_bandwidth: 0", "must be a finite number > 0")]
    [InlineData("capacity_words: 4096", "capacity_words: 4096, shared_bandwidth: NaN", "must be a finite number > 0")]
    [InlineData("capacity_words: 4096", "capacity_words: 4096, block_size: 0", "must be > 0")]
    [InlineData("capacity_words: 4096", "capacity_words: 4096, instances: 0", "must be > 0")]
    [InlineData("energy: {read: 1}", "energy: {read: NaN}", "must be a finite number >= 0")]
    [InlineData("capacity_words: 4096", "capacity_words: 4096, block_pricing: shared", "unknown block pricing 'shared'")]
    [InlineData("name: bare", "name: bare\n  clock_hz: 0", "must be a finite number > 0")]
    [InlineData("actions: {mac: 1}", "actions: {mac: 0}", "action energy must be a finite number of pJ > 0, found 0")]
    [InlineData("actions: {mac: 1}", "actions: {mac: {energy: .inf}}", "action energy must be a finite number of pJ > 0")]
    public void NativeArchitectureOutOfRangeIsALocatedError(string find, string replace, string text)
    {
        var yaml = """
            architecture:
              name: bare
              storage:
                - {name: DRAM, class: dram, energy: {read: 100}}
                - {name: Buf, class: sram, capacity_words: 4096, energy: {read: 1}}
              compute:
                - {name: PE, actions: {mac: 1}, operations: {mac: 1}}
            """;
        Assert.Contains(find, yaml);
        var arch = RepoPaths.TempYaml(yaml.Replace(find, replace), "bare.yaml");
        var prob = RepoPaths.TempYaml("problem: {name: mv, dims: {C: 4, K: 8}, tensors: {W: [C, K], I: [C], O: {ranks: [K], output: true}}}\n");
        var map = RepoPaths.TempYaml("mapping:\n  levels:\n    - level: DRAM\n    - level: Buf\n      temporal: C=4 K=8\n");
        var (code, _, err) = Run("eval", "--arch", arch, "--workload", prob, "--mapping", map);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Trim().Split('\n'));
        Assert.Matches(@"^.+bare\.yaml:\d+:\d+: ", line);
        Assert.Contains(text, line);
    }

    [Theory]
    [InlineData("GlobalBuffer.read_bandwidth=0")]
    [InlineData("GlobalBuffer.shared_bandwidth=0")]
    [InlineData("clock_hz=0")]
    [InlineData("GlobalBuffer.capacity_words=99999999999999999999")] // would wrap to a negative long
    [InlineData("GlobalBuffer.block_size=4294967296")]
    [InlineData("GlobalBuffer.read_pj=1e400")]
    [InlineData("GlobalBuffer.multiple_buffering=0.5")]
    public void ZeroBandwidthOrClockFromSetIsRefused(string set)
    {
        var (code, stdout, err) = Run("eval", "--arch", Arch03, "--workload", Prob03, "--mapping", Map03, "--ert", Ert03, "--set", set);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("must be", Assert.Single(err.Trim().Split('\n')));
    }

    /// <summary>
    /// Every architecture shipped in the repository still loads under the strict key and range checks, except the two
    /// v0.4 Eyeriss files whose scratchpads are a !Parallel group (which never loaded): they get a clear error.
    /// </summary>
    [Fact]
    public void EveryShippedTimeloopArchitectureLoads()
    {
        var files = Directory.GetFiles(Timeloop.TimeloopGoldenTests.ReferenceRoot(), "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(RepoPaths.Of("arch"), "*.yaml", SearchOption.AllDirectories))
            .Where(f => AccelSim.Hardware.Timeloop.TimeloopArchitectureReader.IsTimeloop(AccelSim.Core.YNode.LoadFile(f))
                        || AccelSim.Hardware.ArchitectureLoader.IsOurFormat(AccelSim.Core.YNode.LoadFile(f)))
            .ToList();
        Assert.True(files.Count >= 20, $"found only {files.Count} architecture files");
        var failures = files.Select(f => (File: f, Error: Record.Exception(() => SpecFiles.LoadArchitecture(f))))
            .Where(x => x.Error is not null && !(x.Error.Message.Contains("!Parallel group") && File.ReadAllText(x.File).Contains("!Parallel")))
            .Select(x => $"{x.File}: {x.Error!.Message}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void ImportRefusesNegativeDepthAndWritesOnlyPositiveCapacities()
    {
        var bad = RepoPaths.TempYaml(File.ReadAllText(Arch03).Replace("depth: 8192", "depth: -8192"), "3level.arch.yaml");
        var outDir = Path.Combine(Path.GetDirectoryName(bad)!, "out");
        var r = Run("import", "timeloop", bad, Prob03, Map03, "--out", outDir);
        Assert.Equal(2, r.Code);
        Assert.Contains("depth: must be > 0", r.Err);
        Assert.False(File.Exists(Path.Combine(outDir, "arch.yaml")));

        // Every shipped legacy case imports to capacities > 0 that load back.
        foreach (var arch in Directory.GetFiles(Timeloop.TimeloopGoldenTests.ReferenceRoot(), "*.yaml", SearchOption.AllDirectories)
                     .Where(f => f.Contains($"{Path.DirectorySeparatorChar}arch{Path.DirectorySeparatorChar}", StringComparison.Ordinal) &&
                                 !f.Contains("components", StringComparison.Ordinal) && !File.ReadAllText(f).Contains("!Parallel")))
        {
            var loaded = SpecFiles.LoadArchitecture(arch);
            var yaml = AccelSim.Hardware.ArchitectureWriter.ToYaml(loaded.Architecture);
            var back = AccelSim.Hardware.ArchitectureLoader.Parse(AccelSim.Core.YNode.LoadText(yaml, arch + ".imported.yaml"));
            Assert.All(back.Storage, l => Assert.True(l.CapacityWords is null or > 0, $"{arch}: {l.Name} capacity {l.CapacityWords}"));
            Assert.Equal(loaded.Architecture.Storage.Select(l => (l.Name, l.CapacityWords, l.BlockSize, l.Instances, l.EnergyKnown, l.Pricing)),
                back.Storage.Select(l => (l.Name, l.CapacityWords, l.BlockSize, l.Instances, l.EnergyKnown, l.Pricing)));
        }
    }

    [Fact]
    public void ImportWithoutErtLoadsBackWithEnergyUnavailableAndTheSameCycles()
    {
        var outDir = Path.Combine(Path.GetTempPath(), "accelsim-import-" + Guid.NewGuid().ToString("N"));
        var r = Run("import", "timeloop", Arch03, Prob03, Map03, "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        var direct = Run("eval", "--arch", Arch03, "--workload", Prob03, "--mapping", Map03, "--json");
        var imported = Run("eval", "--arch", Path.Combine(outDir, "arch.yaml"), "--workload", Path.Combine(outDir, "problem.yaml"),
            "--mapping", Path.Combine(outDir, "mapping.yaml"), "--json");
        Assert.True(imported.Code == 0, imported.Err);
        Assert.Contains("energy unavailable", imported.Err);
        var a = JsonDocument.Parse(direct.Out).RootElement;
        var b = JsonDocument.Parse(imported.Out).RootElement;
        Assert.Equal(a.GetProperty("cycles").GetInt64(), b.GetProperty("cycles").GetInt64());
        Assert.Equal(JsonValueKind.Null, b.GetProperty("energy_pJ").ValueKind);
        Assert.Equal(a.GetProperty("levels").ToString(), b.GetProperty("levels").ToString());
    }

    /// <summary>Legacy pricing (one ceil over a tensor's accesses) survives import: the imported spec prices the same.</summary>
    [Fact]
    public void ImportKeepsLegacyVectorPricing()
    {
        var tl = Timeloop.TimeloopGoldenTests.ReferenceRoot();
        var dir = Path.Combine(tl, "06-mapper-convlayer-eyeriss", "legacy-v0.2");
        var loaded = SpecFiles.LoadArchitecture(Path.Combine(dir, "arch/eyeriss_like.yaml"), Path.Combine(dir, "ref-output/timeloop-mapper.ERT.yaml"));
        Assert.All(loaded.Architecture.Storage, l => Assert.Equal(AccelSim.Hardware.BlockPricing.SharedVector, l.Pricing));
        var yaml = AccelSim.Hardware.ArchitectureWriter.ToYaml(loaded.Architecture);
        Assert.Contains("block_pricing: shared_vector", yaml);
        var back = AccelSim.Hardware.ArchitectureLoader.Parse(AccelSim.Core.YNode.LoadText(yaml, "imported.yaml"));
        Assert.All(back.Storage, l => Assert.Equal(AccelSim.Hardware.BlockPricing.SharedVector, l.Pricing));
    }
}
