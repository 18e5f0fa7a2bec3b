namespace AccelSim.Tests;

/// <summary>Locates files of the repository from the test binary's folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AccelSim.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("AccelSim.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Writes a temporary YAML file and returns its path (deleted with the folder at process exit is not needed: temp).</summary>
    public static string TempYaml(string content, string name = "test.yaml")
    {
        var dir = Path.Combine(Path.GetTempPath(), "accelsim-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
