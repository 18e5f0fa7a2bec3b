using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// What every row of a results file must satisfy (see <see cref="ResultsFile.Scan"/>): the header, the sweep's
/// point range, the shard, and a per-point check of the id and parameter values the row carries.
/// </summary>
public sealed record RowRules
{
    /// <summary>The exact header line (without the newline).</summary>
    public required string Header { get; init; }

    /// <summary>What the header was expected to match, for the message ("this sweep's columns; ...").</summary>
    public required string HeaderSource { get; init; }

    public required int PointCount { get; init; }

    /// <summary>Rows must belong to this shard; null: any point.</summary>
    public ShardSpec? Shard { get; init; }

    /// <summary>Checks a row of point <c>index</c> (its fields, already split): returns the problem, or null.</summary>
    public Func<int, string[], string?>? CheckPoint { get; init; }

    /// <summary>Rules from the sweep itself: every row's id and parameters must be those of its point.</summary>
    public static RowRules For(SweepSpec spec, ShardSpec? shard)
    {
        var metrics = NumericMetrics(spec.Metrics.Select(m => (m.Name, m.IsNumeric)), 2 + spec.Parameters.Length);
        return new RowRules
        {
            Header = ResultsFile.HeaderLine(spec),
            HeaderSource = "this sweep's columns; pass --force to start over",
            PointCount = spec.PointCount,
            Shard = shard,
            CheckPoint = (index, fields) =>
            {
                var id = fields[1];
                var expectedId = spec.PointId(index);
                if (id != expectedId) return $"point {index} has id {Clip(id)}, expected {expectedId}; the file is from another sweep";
                var values = spec.ValuesAt(index);
                for (var i = 0; i < values.Length; i++)
                    if (fields[2 + i] != values[i])
                        return $"point {index} has {spec.Parameters[i].Column}={Clip(fields[2 + i])}, expected {values[i]}";
                return CheckMetrics(fields, metrics);
            },
        };
    }

    /// <summary>Column index and name of every numeric metric, the metrics starting at column <paramref name="first"/>.</summary>
    private static (int Column, string Name)[] NumericMetrics(IEnumerable<(string Name, bool Numeric)> metrics, int first) =>
        [.. metrics.Select((m, i) => (Column: first + i, m.Name, m.Numeric)).Where(m => m.Numeric).Select(m => (m.Column, m.Name))];

    /// <summary>A numeric metric's cell is empty (a failed point, an unavailable value) or a finite number: the
    /// runner never writes anything else, so text, NaN or an infinity means the file was edited or corrupted.</summary>
    private static string? CheckMetrics(string[] fields, (int Column, string Name)[] metrics)
    {
        foreach (var (column, name) in metrics)
        {
            var cell = fields[column];
            if (cell.Length == 0) continue;
            if (!Invariant.TryParseDouble(cell, out var value))
                return $"{name}: '{Clip(cell)}' is not a number";
            if (!double.IsFinite(value))
                return $"{name}: '{Clip(cell)}' is not a finite number";
        }
        return null;
    }

    /// <summary>
    /// Rules from a folder's sweep.json (merge has no sweep file): the id must be the hash of the parameter values
    /// the row carries, and each value must be the one sweep.json lists for the point's position on that axis
    /// (sweep.json lists up to <see cref="SweepMetadata.MaxListedValues"/> values per parameter; positions beyond
    /// are covered by the id check only).
    /// </summary>
    public static RowRules For(SweepMetadata metadata, string metadataPath)
    {
        ShardSpec? shard = null;
        if (metadata.Shard is { } text)
        {
            try
            {
                shard = ShardSpec.Parse(text, "shard");
            }
            catch (InputException e)
            {
                throw new InputException(SourceLocation.FileOnly(metadataPath), "shard", e.Problem);
            }
        }
        var parameters = metadata.Parameters;
        var names = parameters.Select(p => p.Name).ToArray();
        if (metadata.Columns.Length < names.Length + 3 || !metadata.Columns.Skip(2).Take(names.Length).SequenceEqual(names))
            throw new InputException(SourceLocation.FileOnly(metadataPath), "columns", "the columns do not match the parameters");
        var metricNames = metadata.Metrics.Select(m => m.Name).ToArray();
        if (metadata.Columns.Length != names.Length + metricNames.Length + 3 ||
            !metadata.Columns.Skip(2 + names.Length).Take(metricNames.Length).SequenceEqual(metricNames))
            throw new InputException(SourceLocation.FileOnly(metadataPath), "columns", "the columns do not match the metrics");
        var metrics = NumericMetrics(metadata.Metrics.Select(m => (m.Name, m.Kind != MetricKind.Text)), 2 + names.Length);
        var strides = Strides(metadata);
        return new RowRules
        {
            Header = ResultsFile.FormatLine(metadata.Columns),
            HeaderSource = "the columns of " + metadataPath,
            PointCount = metadata.PointCount,
            Shard = shard,
            CheckPoint = (index, fields) =>
            {
                var values = new ArraySegment<string>(fields, 2, names.Length);
                var expectedId = SweepSpec.HashAssignment(names, values);
                if (fields[1] != expectedId)
                    return $"point_id {Clip(fields[1])} is not the id of the row's parameter values ({expectedId}); the row was edited or torn";
                if (strides is not null)
                    for (var i = 0; i < parameters.Length; i++)
                    {
                        var p = parameters[i];
                        var entry = index / strides[p.Axis] % p.Count;
                        if (entry < p.Values.Length && values[i] != p.Values[entry])
                            return $"point {index} has {p.Name}={Clip(values[i])}, expected {p.Values[entry]}";
                    }
                return CheckMetrics(fields, metrics);
            },
        };
    }

    /// <summary>Strides of the axes (first axis slowest), or null when sweep.json does not describe every axis.</summary>
    private static int[]? Strides(SweepMetadata metadata)
    {
        if (metadata.Parameters.IsDefaultOrEmpty) return null;
        var axes = metadata.Parameters.Max(p => p.Axis) + 1;
        var counts = new int[axes];
        foreach (var p in metadata.Parameters)
        {
            if (p.Axis < 0 || p.Count < 1 || (counts[p.Axis] != 0 && counts[p.Axis] != p.Count)) return null;
            counts[p.Axis] = p.Count;
        }
        var strides = new int[axes];
        long product = 1;
        for (var a = axes - 1; a >= 0; a--)
        {
            if (counts[a] == 0) return null;
            strides[a] = (int)Math.Min(product, int.MaxValue);
            product *= counts[a];
        }
        return product == metadata.PointCount ? strides : null;
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
