using AccelSim.Core;

namespace AccelSim.Cli;

/// <summary>
/// Checks an output path before a command does any work, so that an impossible `--out` / `--save` is one line and
/// exit 2 (`PATH: --out: cannot write (reason)`) rather than an I/O exception after minutes of computing. Nothing is
/// created: the nearest existing folder is probed with a temporary file that is deleted at once.
/// </summary>
public static class OutputPaths
{
    /// <summary>A folder the command will create (if needed) and write into.</summary>
    public static string Folder(string path, string option)
    {
        var full = Full(path, option);
        if (File.Exists(full)) throw Cannot(path, option, "it is a file, not a folder");
        ProbeNearestFolder(full, path, option);
        return path;
    }

    /// <summary>A file the command will create or replace.</summary>
    public static string FileToWrite(string path, string option)
    {
        var full = Full(path, option);
        if (Directory.Exists(full)) throw Cannot(path, option, "it is a folder");
        var parent = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(parent)) ProbeNearestFolder(parent, path, option);
        return path;
    }

    private static string Full(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new InputException(null, option, "expected a path, got an empty value");
        try { return Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw Cannot(path, option, e.Message);
        }
    }

    /// <summary>Walks up from <paramref name="folder"/> to the first existing entry; it must be a folder we can write into.</summary>
    private static void ProbeNearestFolder(string folder, string path, string option)
    {
        var existing = folder;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing)) throw Cannot(path, option, $"{existing} is a file, not a folder");
            var up = Path.GetDirectoryName(existing);
            if (string.IsNullOrEmpty(up)) throw Cannot(path, option, "no existing folder above it");
            existing = up;
        }
        var probe = Path.Combine(existing, $".accelsim-write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Cannot(path, option, $"{existing} is not writable: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static InputException Cannot(string path, string option, string reason) =>
        new(SourceLocation.FileOnly(path), option, $"cannot write ({reason})");
}
