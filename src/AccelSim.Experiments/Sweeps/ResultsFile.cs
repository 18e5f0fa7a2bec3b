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

    /// <summary>Where one row lies in a results file: its point index and byte range (newline included).</summary>
    public readonly record struct RowLocation(int Index, int Source, long Offset, int Length);

    /// <summary>A scanned results file: the header bytes' length and every complete row (a torn tail is ignored).</summary>
    public sealed record ScannedFile(string Path, int HeaderLength, List<RowLocation> Rows);

    /// <summary>
    /// Finds every complete row of a results file without holding its text: 16 bytes per row, so a sweep of
    /// tens of millions of points can be sorted and merged. The point index is parsed from the row's first field.
    /// </summary>
    public static ScannedFile Scan(string path, int source = 0)
    {
        var rows = new List<RowLocation>();
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var buffer = new byte[1 << 16];
        long position = 0, lineStart = 0;
        var headerLength = -1;
        var lineNumber = 1;
        long index = 0;
        var digits = 0;
        var inIndex = true;
        int read;
        while ((read = fs.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++, position++)
            {
                var b = buffer[i];
                if (b == (byte)'\n')
                {
                    if (headerLength < 0) headerLength = (int)(position + 1);
                    else
                    {
                        if (digits == 0 || inIndex) throw Corrupt(path, lineNumber, "row does not start with a point index");
                        rows.Add(new RowLocation((int)index, source, lineStart, (int)(position + 1 - lineStart)));
                    }
                    lineNumber++;
                    lineStart = position + 1;
                    index = 0;
                    digits = 0;
                    inIndex = true;
                }
                else if (headerLength >= 0 && inIndex)
                {
                    if (b is >= (byte)'0' and <= (byte)'9' && digits < 10)
                    {
                        index = index * 10 + (b - '0');
                        digits++;
                    }
                    else if (b == (byte)',' && digits > 0 && index <= int.MaxValue) inIndex = false;
                    else throw Corrupt(path, lineNumber, "row does not start with a point index");
                }
            }
        }
        return new ScannedFile(path, Math.Max(headerLength, 0), rows);
    }

    /// <summary>Rewrites <paramref name="path"/> with its rows in canonical order (ascending point index),
    /// atomically (temporary file, fsync, rename).</summary>
    public static void Canonicalize(string path)
    {
        var scanned = Scan(path);
        WriteCanonical(path, [scanned]);
    }

    /// <summary>
    /// Writes the rows of <paramref name="sources"/> to <paramref name="path"/> in ascending point index under the
    /// first source's header. A point present in several sources must have byte-identical rows (one is kept);
    /// different rows for one point are an error. Returns the rows written and the duplicates dropped.
    /// </summary>
    public static (int Rows, int Duplicates) WriteCanonical(string path, IReadOnlyList<ScannedFile> sources)
    {
        var all = sources.SelectMany(s => s.Rows).ToArray();
        Array.Sort(all, (a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Source.CompareTo(b.Source));
        var handles = sources.Select(s => File.OpenHandle(s.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)).ToArray();
        var tmp = path + ".tmp";
        var rows = 0;
        var duplicates = 0;
        try
        {
            using var output = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            var header = new byte[sources[0].HeaderLength];
            RandomAccess.Read(handles[0], header, 0);
            output.Write(header);

            var chunk = new byte[1 << 20];
            var pending = (Source: -1, Offset: 0L, Length: 0);
            void Flush()
            {
                // Adjacent rows of one file are copied as one read: nearly sorted files copy at disk speed.
                var done = 0L;
                while (done < pending.Length)
                {
                    var n = (int)Math.Min(chunk.Length, pending.Length - done);
                    var got = RandomAccess.Read(handles[pending.Source], chunk.AsSpan(0, n), pending.Offset + done);
                    if (got <= 0) throw new IOException($"{sources[pending.Source].Path} changed while it was being sorted");
                    output.Write(chunk, 0, got);
                    done += got;
                }
                pending = (-1, 0, 0);
            }

            for (var i = 0; i < all.Length; i++)
            {
                var row = all[i];
                if (i > 0 && all[i - 1].Index == row.Index)
                {
                    if (!SameBytes(handles, all[i - 1], row))
                        throw new InputException(SourceLocation.FileOnly(sources[row.Source].Path), null,
                            $"point {row.Index} differs from the row in {sources[all[i - 1].Source].Path}; the engine is not deterministic or the folders were edited");
                    duplicates++;
                    continue;
                }
                if (pending.Source == row.Source && pending.Offset + pending.Length == row.Offset && pending.Length < (1 << 24))
                    pending.Length += row.Length;
                else
                {
                    if (pending.Source >= 0) Flush();
                    pending = (row.Source, row.Offset, row.Length);
                }
                rows++;
            }
            if (pending.Source >= 0) Flush();
            output.Flush(flushToDisk: true);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
        File.Move(tmp, path, overwrite: true);
        return (rows, duplicates);
    }

    private static bool SameBytes(Microsoft.Win32.SafeHandles.SafeFileHandle[] handles, RowLocation a, RowLocation b)
    {
        if (a.Length != b.Length) return false;
        var x = new byte[a.Length];
        var y = new byte[b.Length];
        RandomAccess.Read(handles[a.Source], x, a.Offset);
        RandomAccess.Read(handles[b.Source], y, b.Offset);
        return x.AsSpan().SequenceEqual(y);
    }
}
