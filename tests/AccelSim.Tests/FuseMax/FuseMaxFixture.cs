using AccelSim.Experiments.FuseMax;

namespace AccelSim.Tests.FuseMax;

/// <summary>The whole study, priced once and shared by the FuseMax tests (about two seconds).</summary>
public sealed class FuseMaxFixture
{
    public IReadOnlyList<StudyPoint> Points { get; }
    public FuseMaxReference Reference { get; }

    public FuseMaxFixture()
    {
        Points = FuseMaxStudy.Run(RepoPaths.Root);
        Reference = FuseMaxReference.Load(RepoPaths.Of("tests", "AccelSim.Tests", "FuseMax", "Reference"));
    }

    public StudyPoint Point(string model, long seqLen, string arch) =>
        Points.First(p => p.Model == model && p.SeqLen == seqLen && p.Arch == arch);
}

[CollectionDefinition(Name)]
public sealed class FuseMaxCollection : ICollectionFixture<FuseMaxFixture>
{
    public const string Name = "FuseMax study";
}
