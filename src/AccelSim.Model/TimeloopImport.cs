using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Model;

/// <summary>`accelsim import timeloop`: converts Timeloop architecture/problem/mapping YAML to AccelSim's formats.</summary>
public static class TimeloopImport
{
    public sealed record Written(IReadOnlyList<string> Files, IReadOnlyList<string> Notes);

    public static Written Run(string archFile, string problemFile, string? mappingFile, string outDir, string? ertFile)
    {
        var arch = SpecFiles.LoadArchitecture(archFile, ertFile);
        if (arch.Dialect is not (ArchDialect.TimeloopV02 or ArchDialect.TimeloopV04))
            throw new Core.InputException(Core.SourceLocation.FileOnly(archFile), "architecture", "not a Timeloop architecture (expected `subtree:` or `nodes:`)");
        var problem = SpecFiles.LoadProblem(problemFile);
        // Validate the mapping before writing anything, so a broken mapping is reported against the Timeloop file and
        // leaves no half-written import behind.
        var mapping = mappingFile is null ? null : SpecFiles.LoadMapping(mappingFile, arch, problem);
        if (mapping is not null) CompactMapping.From(mapping, CostModel.PathFor(arch.Architecture, problem, mapping.Compute), problem);
        try { Directory.CreateDirectory(outDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Core.InputException(null, "--out", $"cannot create the folder {outDir}: " + e.Message.ReplaceLineEndings(" "));
        }
        var files = new List<string>();
        var notes = new List<string>();
        if (arch.Note is { } n) notes.Add(n);
        var header = $"Imported by `accelsim import timeloop` from {archFile}" + (ertFile is null ? "" : $" with energies from {ertFile}");
        var archOut = Path.Combine(outDir, "arch.yaml");
        File.WriteAllText(archOut, ArchitectureWriter.ToYaml(arch.Architecture, header));
        files.Add(archOut);
        var probOut = Path.Combine(outDir, "problem.yaml");
        File.WriteAllText(probOut, ProblemLoader.ToYaml(problem, $"Imported by `accelsim import timeloop` from {problemFile}"));
        files.Add(probOut);
        if (mapping is not null)
        {
            var mapOut = Path.Combine(outDir, "mapping.yaml");
            File.WriteAllText(mapOut, MappingLoader.ToYaml(mapping, $"Imported by `accelsim import timeloop` from {mappingFile}"));
            files.Add(mapOut);
        }
        return new Written(files, notes);
    }
}
