using System.Globalization;
using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// Exclusive ownership of a results folder for one writer (`sweep`, `merge`). The lock is an OS file lock on
/// `DIR/.accelsim.lock` (a <see cref="FileStream"/> opened with <see cref="FileShare.None"/>, which .NET takes with
/// flock(LOCK_EX) on Unix and a share-mode lock on Windows), so it conflicts between two opens in one process as
/// well as between processes, and the OS drops it when the holder dies, kill -9 included: no stale lock to clean.
/// The holder's identity is written to `DIR/.accelsim.lock.holder` after the lock is taken, for the refusal message.
/// The lock file itself is never deleted: deleting it would let a third writer lock a fresh file while a second
/// one still holds the old one.
/// </summary>
public sealed class ResultsFolderLock : IDisposable
{
    public const string LockFileName = ".accelsim.lock";
    public const string HolderFileName = ".accelsim.lock.holder";

    private FileStream? _stream;

    private ResultsFolderLock(string directory, FileStream stream)
    {
        Directory = directory;
        FullPath = Normalize(directory);
        _stream = stream;
    }

    /// <summary>The folder as given.</summary>
    public string Directory { get; }

    /// <summary>The folder's full path, without a trailing separator.</summary>
    public string FullPath { get; }

    public bool IsHeld => _stream is not null;

    /// <summary>Creates the folder if needed and locks it; a folder another writer holds is a one-line input error
    /// naming the holder (exit 2), reported at once rather than waited for.</summary>
    public static ResultsFolderLock Acquire(string directory, string field = "--out")
    {
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException(SourceLocation.FileOnly(directory), field, "cannot create the results folder: " + OneLine(e));
        }
        var lockPath = Path.Combine(directory, LockFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InputException(SourceLocation.FileOnly(directory), field, "cannot write to the results folder: " + OneLine(e));
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            throw new InputException(SourceLocation.FileOnly(directory), field,
                $"results folder is in use by {DescribeHolder(directory)}; wait for it to finish or choose another --out");
        }
        catch (IOException e)
        {
            throw new InputException(SourceLocation.FileOnly(directory), field, "cannot write to the results folder: " + OneLine(e));
        }

        var held = new ResultsFolderLock(directory, stream);
        try
        {
            WriteHolder(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            held.Dispose();
            throw new InputException(SourceLocation.FileOnly(directory), field, "cannot write to the results folder: " + OneLine(e));
        }
        return held;
    }

    /// <summary>True when <paramref name="directory"/> is the folder this lock holds.</summary>
    public bool Covers(string directory) =>
        IsHeld && string.Equals(Normalize(directory), FullPath,
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>`accelsim pid 1234 on HOST since 2026-12-04T18:00:00Z`.</summary>
    public static string Identity(int pid, string host, DateTime sinceUtc) =>
        $"accelsim pid {pid.ToString(CultureInfo.InvariantCulture)} on {host} since " +
        sinceUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static void WriteHolder(string directory)
    {
        var text = Identity(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow) + "\n";
        var path = Path.Combine(directory, HolderFileName);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true); // readers see the old holder or the new one, never half a line
    }

    /// <summary>Who holds the folder. The holder records itself just after taking the lock, so a writer that
    /// lost the race by microseconds may find no record yet: wait briefly for it.</summary>
    private static string DescribeHolder(string directory)
    {
        var path = Path.Combine(directory, HolderFileName);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } text && !text.Contains('\n'))
                    return text;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            Thread.Sleep(10);
        }
        return "another accelsim process (it has not recorded its pid)";
    }

    private static string Normalize(string directory) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    /// <summary>Forgets the holder record, then releases the lock (in that order, so a record never outlives its
    /// lock and a next holder's record is never deleted).</summary>
    public void Dispose()
    {
        if (_stream is null) return;
        try
        {
            File.Delete(Path.Combine(Directory, HolderFileName));
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        _stream.Dispose();
        _stream = null;
    }
}
