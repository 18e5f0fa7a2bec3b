using System.Collections;
using System.Globalization;
using System.Text;
using AccelSim.Core;
using CsvHelper;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// The on-disk protocol of `results.csv`: a header line, then one line per finished point. During a run rows
/// are appended in completion order; a finished run (and every merge) rewrites the file in canonical order,
/// ascending point index. Every row ends with '\n' and no field contains a line break, so a row is complete
/// exactly when its newline is on disk: after a crash the torn tail (if any) is cut at the last '\n'.
/// </summary>
public static class ResultsFile
{
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>RFC 4180, '\n' line ends, no header handling, no CSV-injection escaping (a leading '-' is a
    /// negative number here, not a spreadsheet formula).</summary>
    public static CsvWriterOptions WriterOptions { get; } = new()
    {
        NewLine = "\n",
        HasHeader = false,
        ValidateFieldCount = false,
        Injection = CsvInjection.None,
        FormatProvider = CultureInfo.InvariantCulture,
    };

    [ThreadStatic] private static StringWriter? t_text;
    [ThreadStatic] private static CsvWriter? t_csv;

    /// <summary>One CSV line (without the newline) for <paramref name="fields"/>, quoted as CsvHelper quotes them.
    /// Thread-safe; reuses one writer per thread because the sweep's workers format every row.</summary>
    public static string FormatLine(IEnumerable<string> fields)
    {
        var text = t_text ??= new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var csv = t_csv ??= CsvWriter.Create(text, WriterOptions, leaveOpen: true);
        foreach (var f in fields) csv.WriteField(f);
        csv.EndRecord();
        csv.Flush();
        var sb = text.GetStringBuilder();
        var line = sb.ToString(0, sb.Length - 1);
        sb.Clear();
        return line;
    }

    public static string HeaderLine(SweepSpec spec) => FormatLine(spec.Columns);

    /// <summary>Cuts a torn last line; returns the number of bytes removed.</summary>
    public static long TruncateTornTail(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var length = fs.Length;
        if (length == 0) return 0;
        var buffer = new byte[64 * 1024];
        var position = length;
        while (position > 0)
        {
            var chunk = (int)Math.Min(buffer.Length, position);
            position -= chunk;
            fs.Position = position;
            fs.ReadExactly(buffer, 0, chunk);
            for (var i = chunk - 1; i >= 0; i--)
            {
                if (buffer[i] != (byte)'\n') continue;
                var keep = position + i + 1;
                if (keep == length) return 0;
                fs.SetLength(keep);
                fs.Flush(flushToDisk: true);
                return length - keep;
            }
        }
        fs.SetLength(0);
        fs.Flush(flushToDisk: true);
        return length;
    }

    /// <summary>What a resumed run finds in an existing results file.</summary>
    public sealed record Recovered(int Rows, int SucceededRows, long TornBytes);

    /// <summary>
    /// Validates an existing results file for <paramref name="spec"/> and marks its points in <paramref name="done"/>:
    /// the header must match, each row's id must be the id of its index, every index must belong to the shard
    /// and appear once. A torn last line is cut first.
    /// </summary>
    public static Recovered Recover(string path, SweepSpec spec, ShardSpec? shard, BitArray done)
    {
        var torn = TruncateTornTail(path);
        if (new FileInfo(path).Length == 0) return new Recovered(0, 0, torn);
        var header = HeaderLine(spec);
        using var reader = new StreamReader(path, Utf8);
        var first = reader.ReadLine();
        if (first != header)
            throw new InputException(new SourceLocation(path, 1, 1), null,
                "header does not match this sweep's columns; pass --force to start over");
        var rows = 0;
        var succeeded = 0;
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var index = ParseIndex(line, path, lineNumber);
            if (index < 0 || index >= spec.PointCount)
                throw Corrupt(path, lineNumber, $"point {index} is outside the sweep (0..{spec.PointCount - 1})");
            if (shard is not null && index % shard.Count != shard.Index)
                throw Corrupt(path, lineNumber, $"point {index} does not belong to shard {shard}");
            var id = ParseField(line, 1);
            if (id != spec.PointId(index))
                throw Corrupt(path, lineNumber, $"point {index} has id {id}, expected {spec.PointId(index)}; the file is from another sweep");
            if (done[index]) throw Corrupt(path, lineNumber, $"point {index} appears twice");
            done[index] = true;
            rows++;
            if (line.EndsWith(',')) succeeded++; // the error column is last and empty for a success
        }
        return new Recovered(rows, succeeded, torn);
    }

    private static InputException Corrupt(string path, int line, string problem) =>
        new(new SourceLocation(path, line, 1), null, problem);

    /// <summary>The point index at the start of a row (it is never quoted).</summary>
    public static int ParseIndex(string line, string path, int lineNumber)
    {
        var comma = line.IndexOf(',');
        if (comma <= 0 || !int.TryParse(line.AsSpan(0, comma), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            throw Corrupt(path, lineNumber, "row does not start with a point index");
        return index;
    }

    private static string ParseField(string line, int field)
    {
        var start = 0;
        for (var f = 0; f < field; f++)
        {
            start = line.IndexOf(',', start) + 1;
            if (start == 0) return "";
        }
        var end = line.IndexOf(',', start);
        return end < 0 ? line[start..] : line[start..end];
    }

    /// <summary>
    /// Rewrites <paramref name="path"/> with its rows in canonical order (ascending point index), atomically
    /// (temporary file, fsync, rename). Duplicate indices must not occur; identical duplicates are dropped.
    /// </summary>
    public static void Canonicalize(string path) => WriteCanonical(path, File.ReadLines(path, Utf8).First(),
        ReadRows(path).ToList());

    /// <summary>The rows of a results file (header skipped, torn tail ignored) with their point index.</summary>
    public static IEnumerable<(int Index, string Line)> ReadRows(string path)
    {
        var text = File.ReadAllText(path, Utf8);
        var end = text.LastIndexOf('\n');
        if (end < 0) yield break;
        var lineNumber = 0;
        foreach (var line in text[..end].Split('\n'))
        {
            lineNumber++;
            if (lineNumber == 1) continue;
            yield return (ParseIndex(line, path, lineNumber), line);
        }
    }

    public static void WriteCanonical(string path, string header, IReadOnlyList<(int Index, string Line)> rows)
    {
        var sorted = rows.OrderBy(r => r.Index).ToList();
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(fs, Utf8, 1 << 16))
        {
            writer.NewLine = "\n";
            writer.Write(header);
            writer.Write('\n');
            var last = -1;
            string? lastLine = null;
            foreach (var (index, line) in sorted)
            {
                if (index == last)
                {
                    if (line != lastLine) throw new InputException(SourceLocation.FileOnly(path), null, $"conflicting rows for point {index}");
                    continue;
                }
                writer.Write(line);
                writer.Write('\n');
                last = index;
                lastLine = line;
            }
            writer.Flush();
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
