using AccelSim.Model;

namespace AccelSim.Tests.Model.Timeloop;

/// <summary>
/// How Timeloop prices storage actions, checked against Timeloop's own v0.4 outputs and against constructed cases
/// whose expected energy is worked out here from Timeloop's formulas (not from our model):
/// <list type="bullet">
/// <item>legacy (v0.2/v0.3, NVlabs/timeloop 5ea4ed4 src/model/buffer.cpp BufferLevel::ComputeBufferEnergy and
/// src/model/topology.cpp ParseAccelergyERT): per tensor and instance, ceil((reads + fills + updates) / block size)
/// vector accesses, each at the component's most expensive ERT action; the MAC at its most expensive action;</item>
/// <item>v0.4 (Timeloop v2+: buffer.cpp ComputeVectorAccesses/ComputeBufferEnergy, include/model/topology.hpp
/// storageOperationMappings): ceil(reads / block) x read + ceil(fills / block) x write + ceil(updates / block) x update.</item>
/// </list>
/// </summary>
public class TimeloopEnergyTests
{
    /// <summary>Timeloop v4 itself: per-tensor energies agree wherever our counts equal its counts (v4 drops the cold output fills).</summary>
    [Theory]
    [InlineData("00-model-conv1d-1level", "", "map/conv1d-1level.map.yaml")]
    [InlineData("01-model-conv1d-2level", "os", "map/conv1d-2level-os.map.yaml")]
    [InlineData("01-model-conv1d-2level", "ws", "map/conv1d-2level-ws.map.yaml")]
    [InlineData("02-model-conv1d+oc-2level", "no-tiling", "map/conv1d+oc-2level-os.map.yaml")]
    [InlineData("02-model-conv1d+oc-2level", "tiling", "map/conv1d+oc-2level-os-tiled.map.yaml")]
    [InlineData("03-model-conv1d+oc-3level", "no-bypass", "map/conv1d+oc-3level.map.yaml")]
    [InlineData("03-model-conv1d+oc-3level", "bypass", "map/conv1d+oc-3level-bypass.map.yaml")]
    public void PerActionEnergiesMatchTimeloopV04(string caseName, string sub, string map)
    {
        var dir = Path.Combine(TimeloopGoldenTests.ReferenceRoot(), caseName, "v0.4");
        var outDir = Path.Combine(dir, "ref-output", sub);
        var arch = SpecFiles.LoadArchitecture(Directory.GetFiles(Path.Combine(dir, "arch"), "*.yaml").Single(), Path.Combine(outDir, "timeloop-model.ERT.yaml"));
        var problem = SpecFiles.LoadProblem(Directory.GetFiles(Path.Combine(dir, "prob"), "*.yaml").Single());
        var report = CostModel.Evaluate(arch.Architecture, problem, SpecFiles.LoadMapping(Path.Combine(dir, map), arch, problem));
        var expected = TimeloopStats.Parse(Path.Combine(outDir, "timeloop-model.stats.txt"));
        int compared = 0;
        foreach (var level in expected.Levels.Where(l => !l.IsArithmetic))
            foreach (var (tensor, s) in level.Tensors)
            {
                var t = report.Level(level.Name).Tensors.Single(x => x.Tensor == tensor);
                if ((t.Reads, t.Fills, t.Updates) != (s.Reads, s.Fills, s.Updates)) continue;
                Assert.True(Math.Abs(t.EnergyPJ - s.EnergyTotal) <= 0.005 * s.EnergyTotal + 0.01,
                    $"{level.Name}.{tensor}: ours {t.EnergyPJ:F3} pJ, Timeloop v4 {s.EnergyTotal:F2} pJ");
                compared++;
            }
        Assert.True(compared >= 3, $"only {compared} tensors had Timeloop's counts");
        var mac = expected.Levels.Single(l => l.IsArithmetic);
        Assert.True(Math.Abs(report.ComputeEnergyPJ - mac.ArithmeticEnergy) <= 0.005 * mac.ArithmeticEnergy + 0.01);
    }

    // A constructed case: an SRAM main memory with 4-word blocks above a register file, Outputs[K] += Weights[C,K] * Inputs[C]
    // with C = 4 and K = 9. Main memory runs C (2) outside K (3), so each 3-output tile leaves the buffer and comes
    // back: the outputs are read-modify-written in main memory.
    private const string Problem = """
        problem:
          shape:
            name: MatVec
            dimensions: [ C, K ]
            data-spaces:
            - name: Weights
              projection:
              - [ [C] ]
              - [ [K] ]
            - name: Inputs
              projection:
              - [ [C] ]
            - name: Outputs
              projection:
              - [ [K] ]
              read-write: True
          instance:
            C: 4
            K: 9
        """;

    // Timeloop's permutation lists loops innermost first: K inside C at main memory.
    private const string Mapping = """
        mapping:
          - target: MainMemory
            type: temporal
            factors: C=2 K=3
            permutation: KC
          - target: Buffer
            type: temporal
            factors: C=2 K=3
            permutation: KC
        """;

    private const string LegacyArch = """
        architecture:
          version: 0.2
          subtree:
          - name: System
            local:
            - name: MainMemory
              class: SRAM
              attributes: {depth: 1024, width: 32, block-size: 4, word-bits: 8}
            subtree:
            - name: PE
              local:
              - name: Buffer
                class: regfile
                attributes: {depth: 64, width: 8, block-size: 1, word-bits: 8}
              - name: MACC
                class: intmac
                attributes: {datawidth: 8}
        """;

    // ERT v0.3 as Accelergy writes it for the legacy flow: one entry per action and argument combination.
    private const string LegacyErt = """
        ERT:
          version: 0.3
          tables:
          - name: System.MainMemory
            actions:
            - {name: read, arguments: {address_delta: 0, data_delta: 0}, energy: 0.1}
            - {name: read, arguments: {address_delta: 1, data_delta: 1}, energy: 20.0}
            - {name: write, arguments: {address_delta: 1, data_delta: 1}, energy: 15.0}
            - {name: idle, arguments: null, energy: 0.05}
          - name: System.PE.Buffer
            actions:
            - {name: read, arguments: {address_delta: 1, data_delta: 1}, energy: 0.5}
            - {name: write, arguments: {address_delta: 1, data_delta: 1}, energy: 0.4}
          - name: System.PE.MACC
            actions:
            - {name: mac_random, arguments: null, energy: 1.0}
            - {name: mac_gated, arguments: null, energy: 0.2}
        """;

    private const string V04Arch = """
        architecture:
          version: 0.4
          nodes:
          - !Container
            name: System
            attributes: {technology: "40nm", global_cycle_seconds: 1e-9}
          - !Component
            name: MainMemory
            class: SRAM
            attributes: {depth: 1024, width: 32, datawidth: 8}
          - !Container
            name: PE
          - !Component
            name: Buffer
            class: regfile
            attributes: {depth: 64, width: 8, datawidth: 8}
          - !Component
            name: MACC
            class: intmac
            attributes: {width: 8}
        """;

    private const string V04Ert = """
        ERT:
          version: '0.4'
          tables:
          - name: System_top_level.MainMemory[1..1]
            actions:
            - {name: update, energy: 12.0}
            - {name: read, energy: 20.0}
            - {name: write, energy: 15.0}
          - name: System_top_level.Buffer[1..1]
            actions:
            - {name: update, energy: 0.45}
            - {name: read, energy: 0.5}
            - {name: write, energy: 0.4}
          - name: System_top_level.MACC[1..1]
            actions:
            - {name: compute, energy: 1.0}
        """;

    /// <summary>Per-instance (reads, fills, updates) of the constructed case, worked out by hand (Timeloop's legacy counting).</summary>
    private static readonly Dictionary<(string Level, string Tensor), (long Reads, long Fills, long Updates)> Counts = new()
    {
        // 36 MACs. Buffer tiles: Weights 2x3 (refetched on each of the 6 main-memory steps), Inputs 2 (changes with C only),
        // Outputs 3 (changes with every K step; cold fills counted); output reads = updates - 9 distinct outputs.
        [("Buffer", "Weights")] = (36, 36, 0),
        [("Buffer", "Inputs")] = (36, 4, 0),
        [("Buffer", "Outputs")] = (27, 18, 36),
        // Main memory serves the buffer's fills; the 18 drained partial sums are updates, 18 - 9 of them need a read first.
        [("MainMemory", "Weights")] = (36, 0, 0),
        [("MainMemory", "Inputs")] = (4, 0, 0),
        [("MainMemory", "Outputs")] = (9, 0, 18),
    };

    private static CostReport Evaluate(string arch, string ert)
    {
        var archFile = RepoPaths.TempYaml(arch, "arch.yaml");
        var ertFile = Path.Combine(Path.GetDirectoryName(archFile)!, "timeloop-model.ERT.yaml");
        File.WriteAllText(ertFile, ert);
        var loaded = SpecFiles.LoadArchitecture(archFile, ertFile);
        var problem = SpecFiles.LoadProblem(RepoPaths.TempYaml(Problem, "prob.yaml"));
        return CostModel.Evaluate(loaded.Architecture, problem, SpecFiles.LoadMapping(RepoPaths.TempYaml(Mapping, "map.yaml"), loaded, problem));
    }

    private static void AssertCounts(CostReport report)
    {
        foreach (var ((level, tensor), c) in Counts)
        {
            var t = report.Level(level).Tensors.Single(x => x.Tensor == tensor);
            Assert.Equal((level, tensor, c), (level, tensor, (t.Reads, t.Fills, t.Updates)));
        }
    }

    private static long Vectors(long scalars, long block) => (scalars + block - 1) / block;

    [Fact]
    public void LegacyChargesOneCeilOverAllAccessesAtTheMostExpensiveAction()
    {
        var report = Evaluate(LegacyArch, LegacyErt);
        AssertCounts(report);
        double mainMemory = 20.0, buffer = 0.5, mac = 1.0; // the largest action of each ERT entry
        var block = new Dictionary<string, long> { ["MainMemory"] = 4, ["Buffer"] = 1 };
        var energy = new Dictionary<string, double> { ["MainMemory"] = mainMemory, ["Buffer"] = buffer };
        double total = 36 * mac;
        foreach (var ((level, tensor), c) in Counts)
        {
            double expected = Vectors(c.Reads + c.Fills + c.Updates, block[level]) * energy[level];
            total += expected;
            var t = report.Level(level).Tensors.Single(x => x.Tensor == tensor);
            Assert.Equal(expected, t.EnergyPJ, 9);
        }
        // Main-memory Outputs: ceil(27 / 4) = 7 vector accesses (pricing reads and updates apart would give 3 + 5 = 8).
        Assert.Equal(7 * 20.0, report.Level("MainMemory").Tensors.Single(t => t.Tensor == "Outputs").EnergyPJ, 9);
        Assert.Equal(472.5, total, 9);
        Assert.Equal(total, report.EnergyPJ!.Value, 9);
    }

    [Fact]
    public void V04ChargesReadsFillsAndUpdatesAtTheirOwnErtEntries()
    {
        var report = Evaluate(V04Arch, V04Ert);
        AssertCounts(report);
        var block = new Dictionary<string, long> { ["MainMemory"] = 4, ["Buffer"] = 1 };
        var e = new Dictionary<string, (double Read, double Write, double Update)> { ["MainMemory"] = (20, 15, 12), ["Buffer"] = (0.5, 0.4, 0.45) };
        double total = 36 * 1.0;
        foreach (var ((level, tensor), c) in Counts)
        {
            var b = block[level];
            double expected = Vectors(c.Reads, b) * e[level].Read + Vectors(c.Fills, b) * e[level].Write + Vectors(c.Updates, b) * e[level].Update;
            total += expected;
            Assert.Equal(expected, report.Level(level).Tensors.Single(x => x.Tensor == tensor).EnergyPJ, 9);
        }
        // Main-memory Outputs: 3 read blocks at 20 pJ and 5 update blocks at 12 pJ; the update is not priced as a read.
        Assert.Equal(3 * 20.0 + 5 * 12.0, report.Level("MainMemory").Tensors.Single(t => t.Tensor == "Outputs").EnergyPJ, 9);
        Assert.Equal(444.9, total, 9);
        Assert.Equal(total, report.EnergyPJ!.Value, 9);
    }
}
