using AccelSim.Core;
using AccelSim.Hardware;
using AccelSim.Hardware.Timeloop;
using AccelSim.Mapping;
using AccelSim.Mapping.Timeloop;

namespace AccelSim.Model;

/// <summary>Which dialect an architecture file is written in; other engines (e.g. GPU specs) plug in by kind.</summary>
public enum ArchDialect { AccelSim, TimeloopV02, TimeloopV04, Unknown }

/// <summary>An architecture as read from a file, with the Timeloop translation details when it came from Timeloop.</summary>
public sealed record LoadedArchitecture(Architecture Architecture, ArchDialect Dialect, TimeloopArchitecture? Timeloop, string? Note,
    bool ErtGiven = false)
{
    /// <summary>
    /// The one-line warning for results without energy ("no energy table for X: energy unavailable"), or null when
    /// every component in <paramref name="components"/> has energies.
    /// </summary>
    public string? EnergyWarning(IEnumerable<string> components)
    {
        var names = components.Distinct().ToList();
        if (names.Count == 0) return null;
        var hint = Timeloop is not null && !ErtGiven ? " (give Timeloop's Accelergy ERT with --ert)" : "";
        return $"no energy table for {string.Join(", ", names)}: energy unavailable{hint}";
    }
}

/// <summary>Loads architecture, problem and mapping files in any supported dialect (detected from content).</summary>
public static class SpecFiles
{
    public static ArchDialect Detect(YNode root)
    {
        if (ArchitectureLoader.IsOurFormat(root)) return ArchDialect.AccelSim;
        if (TimeloopArchitectureReader.IsTimeloop(root))
            return root.Req("architecture").Has("nodes") ? ArchDialect.TimeloopV04 : ArchDialect.TimeloopV02;
        return ArchDialect.Unknown;
    }

    public static bool IsSpatialArchitecture(string path) => Detect(YNode.LoadFile(path)) != ArchDialect.Unknown;

    public static LoadedArchitecture LoadArchitecture(string path, string? ertPath = null)
    {
        var root = YNode.LoadFile(path);
        switch (Detect(root))
        {
            case ArchDialect.AccelSim:
                return new LoadedArchitecture(ArchitectureLoader.Parse(root), ArchDialect.AccelSim, null, null);
            case ArchDialect.TimeloopV02:
            case ArchDialect.TimeloopV04:
            {
                ErtFile? ert = null;
                if (ertPath is not null)
                {
                    var art = ertPath.Replace("ERT", "ART", StringComparison.Ordinal);
                    ert = ErtFile.Load(ertPath, art != ertPath ? art : null);
                }
                var tl = TimeloopArchitectureReader.Read(root, ert);
                return new LoadedArchitecture(tl.Architecture, tl.Dialect == "timeloop-v0.4" ? ArchDialect.TimeloopV04 : ArchDialect.TimeloopV02, tl,
                    null, ert is not null);
            }
            default:
                throw root.Error("not an architecture this engine reads (expected AccelSim `architecture: {storage, compute}` or Timeloop `architecture: {subtree|nodes}`)");
        }
    }

    public static ProblemShape LoadProblem(string path)
    {
        var root = YNode.LoadFile(path);
        if (ProblemLoader.IsOurFormat(root)) return ProblemLoader.Parse(root);
        if (TimeloopProblemReader.IsTimeloop(root)) return TimeloopProblemReader.Read(root);
        throw root.Error("not a problem file (expected AccelSim `problem: {dims, tensors}` or Timeloop `problem: {shape, instance}`)");
    }

    public static AccelSim.Mapping.Mapping LoadMapping(string path, LoadedArchitecture arch, ProblemShape problem)
    {
        var root = YNode.LoadFile(path);
        if (MappingLoader.IsOurFormat(root)) return MappingLoader.Parse(root);
        if (TimeloopMappingReader.IsTimeloop(root))
        {
            var tl = arch.Timeloop ?? new TimeloopArchitecture(arch.Architecture, System.Collections.Immutable.ImmutableDictionary<string, string>.Empty, "accelsim");
            return TimeloopMappingReader.Read(root, tl, problem);
        }
        throw root.Error("not a mapping file (expected AccelSim `mapping: {levels}` or a Timeloop `mapping:` list of targets)");
    }
}
