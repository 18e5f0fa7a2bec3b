namespace AccelSim.Pruning.Study;

/// <summary>Locates the AccelSim checkout (the directory holding AccelSim.sln) for default input/output paths.</summary>
public static class RepoPaths
{
    public static string Root()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "AccelSim.sln")))
                    return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
