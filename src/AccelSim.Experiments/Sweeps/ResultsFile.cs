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

    /// <summary>What a resumed run finds in an existing results file: the rows it keeps (all succeeded), the failed
    /// rows it dropped to run again, and the bytes of a torn last line it cut.</summary>
    public sealed record Recovered(int Rows, int FailedRowsDropped, long TornBytes);

    /// <summary>
    /// Validates an existing results file for <paramref name="spec"/> and marks its points in <paramref name="done"/>:
    /// a torn last line (a kill -9 in the middle of a write) is cut first; then every row is checked as
    /// <see cref="Scan"/> checks it, against the sweep itself (ids and parameter values of every point). Failed rows
    /// (non-empty `error`) are dropped from the file and left unmarked, so the resumed run evaluates them again:
    /// a transient failure gets its retry, and a point that fails again is counted in the resumed run's outcome.
    /// </summary>
    public static Recovered Recover(string path, SweepSpec spec, ShardSpec? shard, BitArray done)
    {
        var torn = TruncateTornTail(path);
        if (new FileInfo(path).Length == 0) return new Recovered(0, 0, torn);
        var scanned = Scan(path, RowRules.For(spec, shard), seen: done);
        var failed = scanned.Rows.Count - scanned.SucceededRows;
        if (failed > 0)
        {
            foreach (var row in scanned.Rows.Where(r => !r.Succeeded)) done[row.Index] = false;
            WriteCanonical(path, [scanned with { Rows = [.. scanned.Rows.Where(r => r.Succeeded)] }]);
        }
        return new Recovered(scanned.SucceededRows, failed, torn);
    }

    private static InputException Corrupt(string path, int line, string problem) =>
        new(new SourceLocation(path, line, 1), line > 1 ? "row " + Invariant.Num(line - 1) : null, problem);

    /// <summary>
    /// Splits one row (its text without the newline) into fields, strictly as <see cref="FormatLine"/> writes them:
    /// a field is either unquoted and free of quotes, or quoted with inner quotes doubled and nothing after the
    /// closing quote but a comma. Returns null and the problem for anything else (an unclosed quote included).
    /// </summary>
    public static string[]? SplitLine(string line, out string? problem)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                var open = i++;
                var closed = false;
                while (i < line.Length)
                {
                    if (line[i] != '"') field.Append(line[i++]);
                    else if (i + 1 < line.Length && line[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                    }
                    else
                    {
                        i++;
                        closed = true;
                        break;
                    }
                }
                if (!closed)
                {
                    problem = $"unclosed quote in field {fields.Count + 1} (opened at column {open + 1})";
                    return null;
                }
                if (i < line.Length && line[i] != ',')
                {
                    problem = $"text after the closing quote of field {fields.Count + 1} (column {i + 1})";
                    return null;
                }
            }
            else
            {
                var end = line.IndexOf(',', i);
                if (end < 0) end = line.Length;
                var quote = line.IndexOf('"', i, end - i);
                if (quote >= 0)
                {
                    problem = $"stray quote inside unquoted field {fields.Count + 1} (column {quote + 1})";
                    return null;
                }
                field.Append(line, i, end - i);
                i = end;
            }
            fields.Add(field.ToString());
            if (i >= line.Length) break;
            i++; // the comma
            if (i == line.Length)
            {
                fields.Add("");
                break;
            }
        }
        problem = null;
        return [.. fields];
    }

    /// <summary>Where one row lies in a results file: its point index, byte range (newline included) and whether
    /// the point succeeded (empty `error`).</summary>
    public readonly record struct RowLocation(int Index, int Source, long Offset, int Length, bool Succeeded);

    /// <summary>A scanned results file: the header bytes' length, every complete row (a torn tail is ignored) and
    /// how many of them succeeded (empty `error`).</summary>
    public sealed record ScannedFile(string Path, int HeaderLength, List<RowLocation> Rows, int SucceededRows);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Finds and checks every complete row of a results file without holding its text: 24 bytes per row, so a sweep
    /// of tens of millions of points can be sorted and merged. The header must be <see cref="RowRules.Header"/>;
    /// every row must be valid UTF-8 and well-formed CSV with the header's field count, start with a point index
    /// inside the sweep (and the shard), appear once, and pass <see cref="RowRules.CheckPoint"/>. The first
    /// violation is a one-line input error naming the file, line and row. Bytes after the last newline (a row torn
    /// by a kill) are not a row and are ignored. Points found are set in <paramref name="seen"/> (one bit per point;
    /// a bit already set is a duplicate).
    /// </summary>
    public static ScannedFile Scan(string path, RowRules rules, int source = 0, BitArray? seen = null)
    {
        seen ??= new BitArray(rules.PointCount);
        var rows = new List<RowLocation>();
        var succeeded = 0;
        var headerLength = -1;
        var fieldCount = 0;
        var lineNumber = 1;
        long lineStart = 0;
        var line = new byte[4096];
        var lineLength = 0;

        void EndLine(long end)
        {
            string text;
            try
            {
                text = StrictUtf8.GetString(line, 0, lineLength);
            }
            catch (DecoderFallbackException)
            {
                throw Corrupt(path, lineNumber, "not valid UTF-8 text");
            }
            if (headerLength < 0)
            {
                if (text != rules.Header)
                    throw new InputException(new SourceLocation(path, 1, 1), "header",
                        $"{HeaderDifference(text, rules.Header)}: it does not match {rules.HeaderSource}");
                headerLength = (int)end;
                fieldCount = SplitLine(text, out _)?.Length ?? 0;
                return;
            }
            var fields = SplitLine(text, out var problem) ?? throw Corrupt(path, lineNumber, problem!);
            if (fields.Length != fieldCount)
                throw Corrupt(path, lineNumber, $"{fields.Length} fields, the header has {fieldCount}");
            if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) ||
                fields[0] != Invariant.Num(index))
                throw Corrupt(path, lineNumber, $"'{Clip(fields[0])}' is not a point index");
            if (index >= rules.PointCount)
                throw Corrupt(path, lineNumber, $"point {index} is outside the sweep (0..{rules.PointCount - 1})");
            if (rules.Shard is { } shard && index % shard.Count != shard.Index)
                throw Corrupt(path, lineNumber, $"point {index} does not belong to shard {shard}");
            if (seen[index]) throw Corrupt(path, lineNumber, $"point {index} appears twice");
            if (rules.CheckPoint?.Invoke(index, fields) is { } wrong) throw Corrupt(path, lineNumber, wrong);
            seen[index] = true;
            var ok = fields[^1].Length == 0; // the error column is last and empty for a success
            if (ok) succeeded++;
            rows.Add(new RowLocation(index, source, lineStart, (int)(end - lineStart), ok));
        }

        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var buffer = new byte[1 << 16];
        long position = 0;
        int read;
        while ((read = fs.Read(buffer, 0, buffer.Length)) > 0)
        {
            var chunk = buffer.AsSpan(0, read);
            while (chunk.Length > 0)
            {
                var newline = chunk.IndexOf((byte)'\n');
                var part = newline < 0 ? chunk : chunk[..newline];
                if (lineLength + part.Length > line.Length) Array.Resize(ref line, Math.Max(line.Length * 2, lineLength + part.Length));
                part.CopyTo(line.AsSpan(lineLength));
                lineLength += part.Length;
                position += part.Length;
                if (newline < 0) break;
                position++;
                EndLine(position);
                lineNumber++;
                lineStart = position;
                lineLength = 0;
                chunk = chunk[(newline + 1)..];
            }
        }
        return new ScannedFile(path, Math.Max(headerLength, 0), rows, succeeded);
    }

    private static string Clip(string text) => text.Length <= 24 ? text : text[..24] + "...";

    /// <summary>The first column where a header differs from the expected one, e.g. "column 7 is 'compute_s', expected
    /// 'latency_s'", or a column named twice.</summary>
    private static string HeaderDifference(string header, string expected)
    {
        var have = SplitLine(header, out _) ?? [header];
        var want = SplitLine(expected, out _) ?? [expected];
        var twice = have.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) return $"column '{Clip(twice.Key)}' appears twice";
        for (var i = 0; i < Math.Min(have.Length, want.Length); i++)
            if (have[i] != want[i]) return $"column {i + 1} is '{Clip(have[i])}', expected '{want[i]}'";
        return have.Length < want.Length
            ? $"{have.Length} columns, expected {want.Length} (the first missing is '{want[have.Length]}')"
            : $"{have.Length} columns, expected {want.Length} (the first extra is '{Clip(have[want.Length])}')";
    }

    /// <summary>Rewrites <paramref name="path"/> with its rows in canonical order (ascending point index),
    /// atomically (temporary file, fsync, rename).</summary>
    public static void Canonicalize(string path, RowRules rules)
    {
        var scanned = Scan(path, rules);
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
