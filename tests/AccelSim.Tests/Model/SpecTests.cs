using AccelSim.Hardware;
using AccelSim.Mapping;
using AccelSim.Model;

namespace AccelSim.Tests.Model;

/// <summary>Shipped specs load, energies resolve with sources, scaling rule, and the Einsum-IR adapter.</summary>
public class SpecTests
{
    private static string Arch(string name) => Path.Combine(EvalCliTests.RepoRoot(), "arch", name);

    [Theory]
    [InlineData("fusemax/hardware/fusemax-hardware.yaml")]
    [InlineData("fusemax/hardware/flat-hardware.yaml")]
    [InlineData("timeloop-3level.yaml")]
    [InlineData("eyeriss-like.yaml")]
    [InlineData("simba-like.yaml")]
    public void ShippedArchitecturesLoadWithSourcedEnergies(string file)
    {
        var arch = ArchitectureLoader.Load(Arch(file));
        Assert.NotEmpty(arch.Storage);
        Assert.NotEmpty(arch.Compute);
        foreach (var l in arch.Storage)
        {
            Assert.True(l.ReadEnergy.Value > 0, $"{l.Name} read energy");
            Assert.False(string.IsNullOrEmpty(l.ReadEnergy.Source), $"{l.Name} energy has no source");
        }
        foreach (var c in arch.Compute)
            foreach (var (action, e) in c.ActionEnergy)
                Assert.False(string.IsNullOrEmpty(e.Source), $"{c.Name}.{action} energy has no source");
    }

    [Fact]
    public void FuseMaxHardwareMatchesTheStudyParameters()
    {
        var arch = ArchitectureLoader.Load(Arch("fusemax/hardware/fusemax-hardware.yaml"));
        Assert.Equal(940e6, arch.ClockHz);
        var dram = arch.FindLevel("DRAM")!;
        // 400 * 2^30 B/s at 940 MHz with 2-byte words.
        Assert.Equal(400.0 * (1L << 30) / 940e6 / 2, dram.SharedBandwidth!.Value, 9);
        Assert.Equal(16L * 1024 * 1024 / 2, arch.FindLevel("L3")!.CapacityWords);
        var pe = arch.Compute.Single(c => c.Name == "PE2D");
        Assert.Equal(65536, pe.Instances);
        // exp is built from 6 MACs; the subtraction in exp(QK - RM) is the Einsum's own add (7 cycles in all).
        Assert.Equal(6, pe.Find("exp")!.Cycles);
        Assert.Equal(6 * 17.1645, pe.EnergyOf("exp")!.Value, 9);
        Assert.Equal(1, pe.Find("add")!.Cycles);
    }

    [Fact]
    public void TechnologyScalingFollowsCv2()
    {
        Assert.Equal(1.0, TechnologyScaling.EnergyFactor(45, 45));
        // 45 -> 22 nm: (22/45) * (0.8/1.0)^2
        Assert.Equal(22.0 / 45 * 0.64, TechnologyScaling.EnergyFactor(45, 22), 12);
        Assert.Equal((16.0 / 45) * (16.0 / 45), TechnologyScaling.AreaFactor(45, 16), 12);
        Assert.Throws<AccelSim.Core.InputException>(() => TechnologyScaling.EnergyFactor(45, 3));
        var simba = ArchitectureLoader.Load(Arch("simba-like.yaml"));
        Assert.Contains("scaled", simba.FindLevel("GlobalBuffer")!.ReadEnergy.Source);
    }

    [Fact]
    public void EinsumAdapterKeepsAffineProjectionsAndOpKinds()
    {
        var root = EvalCliTests.RepoRoot();
        var cascade = AccelSim.Einsum.Loading.WorkloadLoader.Load(Path.Combine(root, "workloads/attention/attention-1pass.yaml"));
        var qk = EinsumProblems.FromEinsum(cascade.FindEinsum("QK")!, cascade);
        Assert.Equal(new[] { "B", "H", "M1", "M0", "P", "E" }.OrderBy(x => x), qk.Dims.Select(d => d.Name).OrderBy(x => x));
        var k = qk.Tensors.Single(t => t.Name == "K");
        Assert.Contains("256*M1 + M0", k.Ranks.Select(r => r.Format(qk.Dims)));
        Assert.True(qk.Tensors.Single(t => t.Name == "QK").IsOutput);
        Assert.Equal("mac", Assert.Single(qk.OpsPerPoint).Kind);
        // A recurrence reads and writes RM: two data spaces.
        var rm = EinsumProblems.FromEinsum(cascade.FindEinsum("RM")!, cascade);
        Assert.Contains(rm.Tensors, t => t.Name == "RM" && t.IsOutput);
        Assert.Contains(rm.Tensors, t => t.Name == "RM.in" && !t.IsOutput);
        // SLN = exp(QK - RM): priced on a unit that can do exp (FuseMax's 2D array builds it from 6 MAC + 1 add).
        var sln = EinsumProblems.FromEinsum(cascade.FindEinsum("SLN")!, cascade);
        var arch = ArchitectureLoader.Load(Arch("fusemax/hardware/fusemax-hardware.yaml"));
        var ctx = new ModelContext(CostModel.PathFor(arch, sln, "PE2D"), sln);
        Assert.Equal(7, ctx.CyclesPerPoint);
        Assert.Equal(sln.OpsPerPoint.Sum(o => o.Count * arch.Compute[0].Find(o.Kind)!.Cycles), ctx.CyclesPerPoint);
    }

    [Fact]
    public void MappingYamlRoundTrips()
    {
        var path = ModelTestKit.Architectures()[2].Path;
        var problem = ModelTestKit.Problems()[3].Problem;
        var ctx = new ModelContext(path, problem);
        var rng = new Random(7);
        var r1 = ctx.CreateResult();
        var r2 = ctx.CreateResult();
        for (int i = 0; i < 50; i++)
        {
            var m = ModelTestKit.RandomMapping(path, problem, rng);
            var yaml = MappingLoader.ToYaml(m.ToMapping(path, problem));
            var back = CompactMapping.From(MappingLoader.Parse(AccelSim.Core.YNode.LoadText(yaml, "m.yaml")), path, problem);
            Assert.Equal(ctx.Evaluate(m, r1), ctx.Evaluate(back, r2));
            Assert.Equal(r1.EnergyPJ, r2.EnergyPJ);
            Assert.Equal(r1.Reads, r2.Reads);
        }
    }
}
