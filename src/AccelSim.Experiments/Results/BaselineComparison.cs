using AccelSim.Core;

namespace AccelSim.Experiments.Results;

/// <summary>
/// Matches every row with its baseline row: the row with the same values in every key column except the
/// baseline's, where those take the baseline values (`arch=flat`). Speedup = baseline / row (for times);
/// ratio = row / baseline (for energy and the like).
/// </summary>
public sealed class BaselineComparison
{
    private readonly int[] _baselineRow;

    private BaselineComparison(ResultTable table, IReadOnlyList<KeyValuePair<string, string>> baseline, int[] baselineRow)
    {
        Table = table;
        Baseline = baseline;
        _baselineRow = baselineRow;
    }

    public ResultTable Table { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Baseline { get; }

    /// <summary>`arch=flat` (several assignments joined by ", ").</summary>
    public string Label => string.Join(", ", Baseline.Select(b => ResultTable.ShortName(b.Key) + "=" + b.Value));

    /// <param name="keyColumns">Columns that identify a row (the swept parameters); baseline columns among them
    /// are replaced by the baseline values when matching.</param>
    public static BaselineComparison Create(ResultTable table, IReadOnlyList<KeyValuePair<string, string>> baseline,
        IReadOnlyList<string> keyColumns, string field = "baseline")
    {
        if (baseline.Count == 0)
            throw new InputException(SourceLocation.FileOnly(table.Source), field,
                "no baseline: give one (e.g. --baseline arch=flat) or declare `baseline:` in the sweep");
        var baseCols = baseline.Select(b => table.Column(b.Key, field)).ToArray();
        var keyCols = keyColumns.Select(k => table.Column(k, field)).Distinct().Where(c => !baseCols.Contains(c)).ToArray();

        bool IsBaseline(string[] row)
        {
            for (var i = 0; i < baseCols.Length; i++)
                if (!SameValue(row[baseCols[i]], baseline[i].Value)) return false;
            return true;
        }

        string Key(string[] row) => string.Join("\u0001", keyCols.Select(c => row[c]));

        var baseRows = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var r = 0; r < table.Count; r++)
        {
            if (!IsBaseline(table.Rows[r])) continue;
            if (!baseRows.TryAdd(Key(table.Rows[r]), r))
                throw new InputException(SourceLocation.FileOnly(table.Source), field,
                    $"baseline is ambiguous: several rows with {string.Join(", ", baseline.Select(b => b.Key + "=" + b.Value))} " +
                    $"share the same {string.Join(", ", keyCols.Select(c => table.Columns[c]))}; filter with --where or name the varying column");
        }
        if (baseRows.Count == 0)
            throw new InputException(SourceLocation.FileOnly(table.Source), field,
                $"no row matches the baseline {string.Join(", ", baseline.Select(b => b.Key + "=" + b.Value))}");

        var map = new int[table.Count];
        for (var r = 0; r < table.Count; r++)
            map[r] = baseRows.TryGetValue(Key(table.Rows[r]), out var b) ? b : -1;
        return new BaselineComparison(table, baseline, map);
    }

    private static bool SameValue(string cell, string wanted) =>
        cell == wanted || (Invariant.TryParseDouble(cell, out var a) && Invariant.TryParseDouble(wanted, out var b) && a == b);

    /// <summary>The baseline row of <paramref name="row"/>, or -1 when it has none (e.g. filtered out or failed).</summary>
    public int BaselineRowOf(int row) => _baselineRow[row];

    public bool IsBaselineRow(int row) => _baselineRow[row] == row;

    /// <summary>baseline / row for <paramref name="column"/>: the speedup when the column is a time.</summary>
    public double Speedup(int row, int column) =>
        _baselineRow[row] < 0 ? double.NaN : Table.Number(_baselineRow[row], column) / Table.Number(row, column);

    /// <summary>row / baseline for <paramref name="column"/>.</summary>
    public double Ratio(int row, int column) =>
        _baselineRow[row] < 0 ? double.NaN : Table.Number(row, column) / Table.Number(_baselineRow[row], column);
}

public static class Stats
{
    /// <summary>Geometric mean of the finite positive values; NaN when there are none.</summary>
    public static double GeoMean(IEnumerable<double> values)
    {
        double sum = 0;
        var n = 0;
        foreach (var v in values)
        {
            if (!(v > 0) || !double.IsFinite(v)) continue;
            sum += Math.Log(v);
            n++;
        }
        return n == 0 ? double.NaN : Math.Exp(sum / n);
    }

    /// <summary>Arithmetic mean of the finite values; NaN when there are none.</summary>
    public static double Mean(IEnumerable<double> values)
    {
        double sum = 0;
        var n = 0;
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) continue;
            sum += v;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>Indices of the Pareto-optimal points when both coordinates are minimised, ordered by x.</summary>
    public static IReadOnlyList<int> ParetoFront(IReadOnlyList<double> xs, IReadOnlyList<double> ys)
    {
        var order = Enumerable.Range(0, xs.Count)
            .Where(i => double.IsFinite(xs[i]) && double.IsFinite(ys[i]))
            .OrderBy(i => xs[i]).ThenBy(i => ys[i]).ToList();
        var front = new List<int>();
        var best = double.PositiveInfinity;
        foreach (var i in order)
        {
            if (ys[i] >= best) continue;
            front.Add(i);
            best = ys[i];
        }
        return front;
    }
}
