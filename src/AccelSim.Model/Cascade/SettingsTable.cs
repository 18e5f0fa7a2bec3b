using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Model.Cascade;

/// <summary>
/// Per-point dataflow settings of an architecture, read from a small CSV (lines starting with '#' are comments):
/// rows are chosen by key columns that name workload parameters (e.g. head_dim, seq_len), and the other columns become
/// symbols (numbers) or texts (e.g. FLAT's tensor locations and stationarity) for that point.
/// </summary>
public sealed class SettingsTable
{
    private readonly ImmutableArray<ImmutableArray<string>> _rows;
    private readonly ImmutableArray<int> _lines;

    public string File { get; }
    public ImmutableArray<string> Columns { get; }
    public ImmutableArray<string> Key { get; }

    private SettingsTable(string file, ImmutableArray<string> columns, ImmutableArray<string> key,
        ImmutableArray<ImmutableArray<string>> rows, ImmutableArray<int> lines)
    {
        File = file;
        Columns = columns;
        Key = key;
        _rows = rows;
        _lines = lines;
    }

    public int RowCount => _rows.Length;

    public static SettingsTable Load(string path, IReadOnlyList<string> key, YNode? at = null)
    {
        if (!System.IO.File.Exists(path))
            throw at?.Error($"settings file not found: {path}") ?? new InputException($"settings file not found: {path}");
        var rows = ImmutableArray.CreateBuilder<ImmutableArray<string>>();
        var lines = ImmutableArray.CreateBuilder<int>();
        ImmutableArray<string>? header = null;
        int lineNo = 0;
        foreach (var raw in System.IO.File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var cells = line.Split(',').Select(c => c.Trim()).ToImmutableArray();
            if (header is null)
            {
                header = cells;
                continue;
            }
            if (cells.Length != header.Value.Length)
                throw new InputException(new SourceLocation(path, lineNo, 1), "settings",
                    $"row has {cells.Length} cells but the header has {header.Value.Length}");
            rows.Add(cells);
            lines.Add(lineNo);
        }
        if (header is null) throw new InputException(SourceLocation.FileOnly(path), "settings", "no header row");
        foreach (var k in key)
            if (!header.Value.Contains(k))
                throw at?.Error($"key column '{k}' is not in {path} (columns: {string.Join(", ", header.Value)})")
                      ?? new InputException(SourceLocation.FileOnly(path), "settings", $"no key column '{k}'");
        return new SettingsTable(path, header.Value, key.ToImmutableArray(), rows.ToImmutable(), lines.ToImmutable());
    }

    /// <summary>The row whose key columns equal the point's parameters (numerically), as column → text.</summary>
    public ImmutableDictionary<string, string> Row(Func<string, double?> parameter)
    {
        var wanted = Key.Select(k => parameter(k) ?? throw new InputException(SourceLocation.FileOnly(File), "settings",
            $"key column '{k}' names no workload parameter")).ToArray();
        for (int r = 0; r < _rows.Length; r++)
        {
            bool match = true;
            for (int k = 0; k < Key.Length && match; k++)
            {
                var cell = _rows[r][Columns.IndexOf(Key[k])];
                match = Invariant.TryParseDouble(cell, out var v) && Math.Abs(v - wanted[k]) <= 1e-9 * Math.Max(1, Math.Abs(v));
            }
            if (match)
                return Columns.Select((c, i) => (c, i)).ToImmutableDictionary(x => x.c, x => _rows[r][x.i]);
        }
        throw new InputException(SourceLocation.FileOnly(File), "settings",
            $"no row for {string.Join(", ", Key.Select((k, i) => $"{k}={Invariant.Num(wanted[i])}"))} ({_rows.Length} rows)");
    }
}
