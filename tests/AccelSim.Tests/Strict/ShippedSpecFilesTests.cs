using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Experiments.Sweeps;
using AccelSim.Gpu;
using AccelSim.Mapping;
using AccelSim.Model.Cascade;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Spec;

namespace AccelSim.Tests.Strict;

/// <summary>
/// Every spec file the repository ships still loads under the strict loaders (unknown keys, unknown names and
/// out-of-range values are errors), so tightening a loader can never silently break a shipped example.
/// </summary>
public class ShippedSpecFilesTests
{
    private static IEnumerable<string> Yaml(string folder, SearchOption depth = SearchOption.TopDirectoryOnly) =>
        Directory.GetFiles(RepoPaths.Of(folder), "*.yaml", depth).Order(StringComparer.Ordinal);

    public static TheoryData<string> GpuSpecs() => [.. Yaml("arch/gpu").Where(f => Path.GetFileName(f) != "kernels.yaml")];

    [Theory]
    [MemberData(nameof(GpuSpecs))]
    public void GpuSpecAndItsKernelCatalogueLoad(string file)
    {
        var gpu = GpuSpecLoader.LoadFile(file);
        var catalog = KernelCatalogLoader.LoadFile(gpu.KernelsFile);
        Assert.True(gpu.SmCount > 0);
        // Every flash family states the head dimensions its implementation accepts, and the tile table covers them.
        foreach (var family in catalog.Families.Where(f => f.Algorithm == KernelAlgorithm.Flash))
        {
            Assert.NotNull(family.HeadDims);
            Assert.True(family.HeadDims!.Max <= family.Forward!.MaxHeadDim, family.Name);
            Assert.Contains(family.HeadDims.Source, catalog.Sources.Keys);
        }
    }

    public static TheoryData<string> CascadeArchitectures() =>
        [.. Yaml("arch/fusemax").Where(f => CascadeArchitectureLoader.IsOurFormat(YNode.LoadFile(f)))];

    [Theory]
    [MemberData(nameof(CascadeArchitectures))]
    public void CascadeArchitectureNamesMatchTheirWorkloads(string file)
    {
        var arch = CascadeArchitectureLoader.Load(file);
        foreach (var section in arch.Sections)
        {
            Assert.NotEmpty(section.References);
            CascadeNames.Check(section, WorkloadLoader.Load(section.WorkloadPath));
        }
    }

    [Fact]
    public void AtLeastTheFiveStudyArchitecturesAreChecked() => Assert.True(CascadeArchitectures().Count >= 5);

    public static TheoryData<string> Mappings() => [.. Yaml("arch/mappings")];

    [Theory]
    [MemberData(nameof(Mappings))]
    public void MappingLoads(string file) => Assert.NotEmpty(MappingLoader.Load(file).Levels);

    [Fact]
    public void SpattenArchitectureLoads() => Assert.True(SpattenArch.LoadFile(RepoPaths.Of("arch", "spatten.yaml")).KeyBufferBytes > 0);

    public static TheoryData<string> SpattenBenchmarks() => [.. Yaml("workloads/spatten")];

    [Theory]
    [MemberData(nameof(SpattenBenchmarks))]
    public void SpattenBenchmarkFileLoads(string file) => Assert.NotEmpty(BenchmarkFileParser.ParseFile(file));

    public static TheoryData<string> Sweeps() =>
        [.. Yaml("workloads/sweeps", SearchOption.AllDirectories).Where(f => YNode.LoadFile(f) is { IsMapping: true } r && r.Has("engine"))];

    [Theory]
    [MemberData(nameof(Sweeps))]
    public void SweepLoads(string file)
    {
        var spec = SweepSpecParser.Load(file, BuiltInEvaluators.CreateRegistry());
        Assert.True(spec.PointCount > 0);
    }

    [Fact]
    public void EverySweepFolderIsCovered() => Assert.True(Sweeps().Count >= 7);

    public static TheoryData<string> Problems() =>
        [.. Yaml("tests/AccelSim.Tests/Mapper/Data").Where(f => ProblemLoader.IsOurFormat(YNode.LoadFile(f)))];

    [Theory]
    [MemberData(nameof(Problems))]
    public void ProblemLoads(string file) => Assert.NotEmpty(ProblemLoader.Load(file).Dims);
}
