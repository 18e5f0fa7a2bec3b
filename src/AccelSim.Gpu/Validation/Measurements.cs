using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Gpu.Validation;

/// <summary>
/// One published (or harness-measured) attention timing, in the schema of arch/gpu/measurements/*.csv.
/// <paramref name="Unpredicted"/> (optional column `unpredicted`) says why the model is known not to price the row
/// (a GPU whose SKU the source does not name, a head dimension the kernel family does not cover); only such rows may
/// stay unpredicted, any other row the model cannot price is an error.
/// </summary>
public sealed record MeasurementRow(
    int Line, ImmutableArray<string> Fields, string Gpu, string Kernel, string DType, string Direction,
    int Batch, int Heads, long SeqLen, int HeadDim, bool Causal, double MeasuredTflops, bool Approx, string Source,
    int? KvHeads, long? KvLen, string? Unpredicted = null);

public sealed record MeasurementSet(string File, ImmutableArray<string> Header, ImmutableArray<MeasurementRow> Rows);

public static class MeasurementReader
{
    public static readonly ImmutableArray<string> RequiredColumns =
        ["gpu", "kernel", "dtype", "direction", "batch", "heads", "seq_len", "head_dim", "causal", "tflops", "approx", "source"];

    /// <summary>The optional column that marks a row the model is known not to price, with the reason.</summary>
    public const string UnpredictedColumn = "unpredicted";

    public static MeasurementSet Load(string path)
    {
        if (!File.Exists(path)) throw new InputException(SourceLocation.FileOnly(path), null, "file not found");
        return Parse(File.ReadAllText(path), path);
    }

    public static MeasurementSet Parse(string text, string file)
    {
        var rows = Csv.Parse(text, file);
        if (rows.Count == 0) throw new InputException(SourceLocation.FileOnly(file), null, "empty CSV (expected a header row)");
        var header = rows[0].Fields.Select(h => h.Trim()).ToImmutableArray();
        foreach (var col in RequiredColumns)
            if (!header.Contains(col))
                throw new InputException(new SourceLocation(file, 1, 1), col, $"missing column (required: {string.Join(",", RequiredColumns)})");
        int Col(string name) => header.IndexOf(name);
        var result = ImmutableArray.CreateBuilder<MeasurementRow>();
        foreach (var (line, f) in rows.Skip(1))
        {
            if (f.Length == 1 && string.IsNullOrWhiteSpace(f[0])) continue;
            if (f.Length != header.Length)
                throw new InputException(new SourceLocation(file, line, 1), null, $"expected {header.Length} fields, found {f.Length}");
            string Get(string name) => f[Col(name)].Trim();
            long Long(string name)
            {
                var t = Get(name);
                if (Invariant.TryParseLong(t, out var v) && v > 0) return v;
                throw new InputException(new SourceLocation(file, line, Col(name) + 1), name, $"expected a positive integer, found '{t}'");
            }
            int Int(string name)
            {
                var v = Long(name);
                if (v <= int.MaxValue) return (int)v;
                throw new InputException(new SourceLocation(file, line, Col(name) + 1), name, $"{v} is out of range (at most {int.MaxValue})");
            }
            // A measured rate of zero (or less, or not a number) has no relative error: MAPE would be NaN.
            double Positive(string name)
            {
                var t = Get(name);
                if (Invariant.TryParseDouble(t, out var v) && double.IsFinite(v) && v > 0) return v;
                throw new InputException(new SourceLocation(file, line, Col(name) + 1), name,
                    $"out of range: expected a positive finite number, found '{t}'");
            }
            bool Bool(string name) => Get(name).ToLowerInvariant() switch
            {
                "true" or "yes" or "1" => true,
                "false" or "no" or "0" or "" => false,
                var t => throw new InputException(new SourceLocation(file, line, Col(name) + 1), name, $"expected true/false or yes/no, found '{t}'"),
            };
            long? OptLong(string name) => header.Contains(name) && Get(name).Length > 0 ? Long(name) : null;
            int? OptInt(string name) => header.Contains(name) && Get(name).Length > 0 ? Int(name) : null;
            result.Add(new MeasurementRow(line, [.. f], Get("gpu"), Get("kernel"), Get("dtype"), Get("direction"),
                Int("batch"), Int("heads"), Long("seq_len"), Int("head_dim"), Bool("causal"),
                Positive("tflops"), Bool("approx"), Get("source"), OptInt("kv_heads"), OptLong("kv_len"),
                header.Contains(UnpredictedColumn) && Get(UnpredictedColumn).Length > 0 ? Get(UnpredictedColumn) : null));
        }
        if (result.Count == 0)
            throw new InputException(SourceLocation.FileOnly(file), null, "no measurement rows (the file has only a header)");
        return new MeasurementSet(file, header, result.ToImmutable());
    }
}
