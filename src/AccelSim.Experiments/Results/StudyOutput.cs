namespace AccelSim.Experiments.Results;

/// <summary>The output folder of a reproduction: writes its text files and remembers every file it produced.</summary>
public sealed class StudyOutput
{
    public StudyOutput(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

    /// <summary>Every file written (or added) so far, in order.</summary>
    public List<string> Files { get; } = [];

    public void Write(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        Files.Add(path);
    }
}
