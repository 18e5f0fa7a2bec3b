using AccelSim.Experiments.FuseMax;
using AccelSim.Mapper;
using Xunit.Abstractions;

namespace AccelSim.Tests.FuseMax;

public class FuseMaxMapperCrossCheckTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("fusemax", "QK", 1024)]
    [InlineData("fusemax", "SLNV", 1024)]
    [InlineData("flat", "QK", 1024)]
    [InlineData("flat", "AV", 1024)]
    [InlineData("cascade", "QK", 1024)]
    [InlineData("cascade", "SLNV", 1024)]
    [InlineData("fusemax", "QK", 16384)]
    [InlineData("flat", "QK", 16384)]
    public void Explore(string arch, string einsum, long n)
    {
        foreach (var budget in new long[] { 4000, 20000, 100000 })
            foreach (var obj in new[] { "energy", "edp" })
            {
                var x = FuseMaxMapperCrossCheck.Run(FuseMaxStudy.ArchPath(RepoPaths.Root, arch), FuseMaxStudy.ModelPath(RepoPaths.Root, "bert-base.yaml"), n, einsum,
                    new CrossCheckSearch(Objective.Parse(obj), Budget: budget, Threads: 2), FuseMaxMapperCrossCheck.OneHead);
                output.WriteLine($"budget {budget}: " + x.Summary());
                if (obj == "energy" && budget == 20000)
                {
                    output.WriteLine("TEMPLATE\n" + x.Template.LoopNest);
                    output.WriteLine("SAMEKEEPS\n" + x.SameKeeps.Report.LoopNest);
                    foreach (var (nm, r) in new[] { ("T", x.Template), ("K", x.SameKeeps.Report) })
                        foreach (var l in r.Levels) output.WriteLine($"  {nm} {l.Name}: " + string.Join("; ", l.Tensors.Select(t => $"{t.Tensor} k={t.Kept} r={t.Reads} f={t.Fills} u={t.Updates} e={t.EnergyPJ:E3}")));
                }
            }
    }
}
