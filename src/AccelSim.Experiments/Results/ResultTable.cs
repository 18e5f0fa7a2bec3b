using System.Collections.Immutable;
using System.Globalization;
using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Experiments.Results;

/// <summary>
/// A results CSV in memory (a sweep's results.csv, or any CSV with a header such as `reproduce`'s), with the
/// sweep metadata when a sweep.json lies beside it. Columns can be addressed by full name or, when unambiguous,
/// by the part after the last dot (`seq_len` for `workload.seq_len`).
/// </summary>
public sealed class ResultTable
{
    private readonly Dictionary<string, int> _index;
    private readonly bool?[] _numeric;

    public ResultTable(IEnumerable<string> columns, IReadOnlyList<string[]> rows, SweepMetadata? metadata = null, string source = "<table>")
    {
        Columns = [.. columns];
        Rows = rows;
        Metadata = metadata;
        Source = source;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Columns.Length; i++) _index.TryAdd(Columns[i], i);
        _numeric = new bool?[Columns.Length];
        foreach (var row in rows)
            if (row.Length != Columns.Length)
                throw new InputException(SourceLocation.FileOnly(source), null,
                    $"a row has {row.Length} fields but the header has {Columns.Length}");
    }

    public string Source { get; }
    public ImmutableArray<string> Columns { get; }
    public IReadOnlyList<string[]> Rows { get; }
    public SweepMetadata? Metadata { get; }
    public int Count => Rows.Count;

    /// <summary>Reads a CSV with a header. In a sweep folder a torn last line (an interrupted run) is ignored. The sweep.json beside
    /// the file, if any, supplies parameter columns, metric units and the baseline. A sweep's `results.csv` is checked
    /// row by row as `--resume` and `merge` check it (<see cref="ResultsFile.Scan"/>: header, field count, point index,
    /// duplicates, id and parameter values), and every numeric metric must be empty or a finite number, so that a
    /// report or plot of an edited or corrupt folder is a located error, never a figure or mean built on it.</summary>
    public static ResultTable Load(string csvPath, SweepMetadata? metadata = null)
    {
        if (!File.Exists(csvPath)) throw new InputException(SourceLocation.FileOnly(csvPath), null, "file not found");
        var metadataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(csvPath)) ?? ".", SweepMetadata.FileName);
        metadata ??= SweepMetadata.TryReadBeside(csvPath);
        var bytes = File.ReadAllBytes(csvPath);
        var length = bytes.Length;
        if (metadata is not null && Path.GetFileName(csvPath) == SweepMetadata.ResultsFileName && File.Exists(metadataPath))
        {
            var scanned = ResultsFile.Scan(csvPath, RowRules.For(metadata, metadataPath));
            // Exactly the rows checked: a writer may append more while this reads.
            length = (int)Math.Min(length, scanned.Rows.Count == 0 ? scanned.HeaderLength : scanned.Rows.Max(r => r.Offset + r.Length));
        }
        else if (metadata is not null)
        {
            // A sweep's results file may end in a row torn by a kill; every complete row ends with '\n'.
            var end = Array.LastIndexOf(bytes, (byte)'\n');
            if (end >= 0) length = end + 1;
        }
        var bom = length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0; // a CSV saved by a spreadsheet
        var text = ResultsFile.Utf8.GetString(bytes, bom, length - bom);
        // Strict RFC 4180: an unclosed quote, a stray quote or text after a closing quote is a located error.
        var parsed = AccelSim.Gpu.Validation.Csv.Parse(text, csvPath);
        if (parsed.Count == 0 || parsed[0].Fields.Length == 0)
            throw new InputException(SourceLocation.FileOnly(csvPath), null, "empty CSV: no header line");
        var header = parsed[0].Fields;
        // Columns are addressed by name: a name given twice would silently pick the first.
        var twice = header.Select((name, i) => (name, i)).GroupBy(c => c.name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new InputException(new SourceLocation(csvPath, 1, 1), "header",
                $"column '{twice.Key}' appears twice (columns {string.Join(" and ", twice.Select(c => c.i + 1))})");
        var rows = new List<string[]>(parsed.Count - 1);
        foreach (var (line, fields) in parsed.Skip(1))
        {
            if (fields.Length != header.Length)
                throw new InputException(new SourceLocation(csvPath, line, 1), null,
                    $"row has {fields.Length} fields but the header has {header.Length}");
            rows.Add(fields);
        }
        return new ResultTable(header, rows, metadata, csvPath);
    }

    /// <summary>The part after the last dot: `workload.seq_len` -> `seq_len`.</summary>
    public static string ShortName(string column) =>
        column.Contains('.') ? column[(column.LastIndexOf('.') + 1)..] : column;

    /// <summary>The column <paramref name="name"/> refers to: an exact match, else the unique column whose
    /// <see cref="ShortName"/> it is; null when none or ambiguous.</summary>
    public static string? Resolve(IReadOnlyList<string> columns, string name)
    {
        if (columns.Contains(name)) return name;
        var matches = columns.Where(c => ShortName(c) == name).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    public bool Has(string name) => Resolve(Columns, name) is not null;

    /// <summary>Column index of <paramref name="name"/>, or a one-line input error listing the columns.</summary>
    public int Column(string name, string field = "column")
    {
        var resolved = Resolve(Columns, name);
        if (resolved is not null) return _index[resolved];
        var ambiguous = Columns.Where(c => ShortName(c) == name).ToList();
        var problem = ambiguous.Count > 1
            ? $"'{name}' is ambiguous ({string.Join(", ", ambiguous)})"
            : $"unknown column '{name}' (columns: {string.Join(", ", Columns)})";
        throw new InputException(SourceLocation.FileOnly(Source), field, problem);
    }

    public string Name(string name) => Columns[Column(name)];

    public string Text(int row, int column) => Rows[row][column];

    /// <summary>The cell as a number; NaN when empty or not a number.</summary>
    public double Number(int row, int column) =>
        Invariant.TryParseDouble(Rows[row][column], out var v) ? v : double.NaN;

    public double[] Numbers(int column) => Enumerable.Range(0, Count).Select(r => Number(r, column)).ToArray();

    /// <summary>True when every non-empty cell of the column parses as a number (and at least one does).</summary>
    public bool IsNumeric(int column)
    {
        if (_numeric[column] is { } known) return known;
        var any = false;
        var all = true;
        foreach (var row in Rows)
        {
            var cell = row[column];
            if (cell.Length == 0) continue;
            if (Invariant.TryParseDouble(cell, out _)) any = true;
            else
            {
                all = false;
                break;
            }
        }
        return (_numeric[column] = any && all).Value;
    }

    /// <summary>Distinct values of a column: numeric columns ascending, text columns in order of first appearance.</summary>
    public IReadOnlyList<string> Distinct(int column)
    {
        var seen = new List<string>();
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in Rows)
            if (set.Add(row[column])) seen.Add(row[column]);
        return IsNumeric(column)
            ? seen.OrderBy(v => Invariant.TryParseDouble(v, out var d) ? d : double.MaxValue).ToList()
            : seen;
    }

    public ResultTable WithRows(IReadOnlyList<string[]> rows) => new(Columns, rows, Metadata, Source);

    /// <summary>Rows where every `column = value` filter holds (numbers compare by value: 1024 = 1024.0).</summary>
    public ResultTable Where(IEnumerable<KeyValuePair<string, string>> filters, string field = "--where")
    {
        var result = Rows.AsEnumerable();
        foreach (var (name, value) in filters)
        {
            var c = Column(name, field);
            var numeric = Invariant.TryParseDouble(value, out var wanted);
            result = result.Where(r => r[c] == value ||
                                       (numeric && Invariant.TryParseDouble(r[c], out var have) && have == wanted)).ToList();
        }
        return WithRows(result.ToList());
    }

    /// <summary>Rows whose `error` column is empty (all rows when there is no such column).</summary>
    public ResultTable Succeeded()
    {
        if (Resolve(Columns, SweepSpec.ErrorColumn) is not { } errorColumn || errorColumn != SweepSpec.ErrorColumn) return this;
        var c = _index[errorColumn];
        return WithRows(Rows.Where(r => r[c].Length == 0).ToList());
    }

    public int FailedCount()
    {
        if (!_index.TryGetValue(SweepSpec.ErrorColumn, out var c)) return 0;
        return Rows.Count(r => r[c].Length > 0);
    }

    /// <summary>The metric's unit and kind from sweep.json, else inferred from its name.</summary>
    public MetricInfo Info(string column)
    {
        var name = Name(column);
        var m = Metadata?.Metrics.FirstOrDefault(x => x.Name == name);
        return m is not null ? new MetricInfo(m.Name, m.Unit, m.Kind, m.Description) : MetricInfo.Infer(name);
    }

    /// <summary>Swept parameter columns (from sweep.json), else every text column except bookkeeping ones.</summary>
    public IReadOnlyList<string> ParameterColumns =>
        Metadata is { } md
            ? md.Parameters.Select(p => p.Name).Where(Columns.Contains).ToList()
            : Columns.Where((c, i) => !IsBookkeeping(c) && (!IsNumeric(i) || LooksLikeParameter(c))).ToList();

    /// <summary>Metric columns (from sweep.json), else every numeric column that is not a parameter.</summary>
    public IReadOnlyList<string> MetricColumns =>
        Metadata is { } md
            ? md.Metrics.Select(m => m.Name).Where(Columns.Contains).ToList()
            : Columns.Where((c, i) => !IsBookkeeping(c) && IsNumeric(i) && !LooksLikeParameter(c)).ToList();

    /// <summary>Without sweep.json, numeric columns named like sizes are treated as parameters, not metrics.</summary>
    private static bool LooksLikeParameter(string column)
    {
        var s = ShortName(column).ToLowerInvariant();
        return s is "seq_len" or "seq" or "batch" or "heads" or "m" or "n" or "k" or "d" or "e" or "pe_dim" or "size" ||
               s.EndsWith("_len", StringComparison.Ordinal) || s.EndsWith("_dim", StringComparison.Ordinal) ||
               s.EndsWith("_size", StringComparison.Ordinal) || s.EndsWith("_count", StringComparison.Ordinal);
    }

    public static bool IsBookkeeping(string column) =>
        column is SweepSpec.IndexColumn or SweepSpec.IdColumn or SweepSpec.ErrorColumn;

    public ImmutableArray<KeyValuePair<string, string>> Baseline =>
        Metadata is { } md ? [.. md.Baseline.Select(b => new KeyValuePair<string, string>(b.Name, b.Value))] : [];

    public IEnumerable<MetricInfo> MetricInfos() => MetricColumns.Select(Info);
}
