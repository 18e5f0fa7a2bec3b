using System.Collections.Immutable;
using System.Text;
using AccelSim.Core;

namespace AccelSim.Gpu.Validation;

/// <summary>A measurement row with its prediction, or the reason it could not be predicted and the column to blame.</summary>
public sealed record ValidationResult(MeasurementRow Row, string? GpuName, string? Family, double? PredictedTflops,
    double? ErrorPct, string? Bottleneck, string? Message, string? Column = null)
{
    public bool Predicted => PredictedTflops is not null;
}

/// <summary>MAPE and worst point of one GPU x kernel family, for exact or approximate (`approx=yes`) rows.</summary>
public sealed record GroupSummary(string Gpu, string Family, bool Approx, int Count, double Mape, double Bias, ValidationResult Worst);

public sealed record ValidationSummary(ImmutableArray<ValidationResult> Results, ImmutableArray<GroupSummary> Groups)
{
    public ImmutableArray<ValidationResult> Unpredicted => [.. Results.Where(r => !r.Predicted)];

    /// <summary>MAPE (%) over the predicted rows matching a filter; NaN when none match.</summary>
    public double Mape(Func<ValidationResult, bool> filter)
    {
        var errs = Results.Where(r => r.Predicted && filter(r)).Select(r => Math.Abs(r.ErrorPct!.Value)).ToList();
        return errs.Count == 0 ? double.NaN : errs.Average();
    }

    public int Count(Func<ValidationResult, bool> filter) => Results.Count(r => r.Predicted && filter(r));
}

/// <summary>Predicts every row of a measurement file with the GPU specs of a directory and summarises the errors.</summary>
public static class Validator
{
    /// <summary>The kernel families named FlashAttention (issue 6's "all FlashAttention points").</summary>
    public static readonly ImmutableArray<string> FlashAttentionFamilies = ["fa1", "fa2", "fa3", "fa2-triton"];

    public static bool IsFlashAttention(ValidationResult r) => r.Family is { } f && FlashAttentionFamilies.Contains(f);

    /// <summary>All GPU specs of a directory (every *.yaml with an `sm_count`), with their kernel catalogues.</summary>
    public static ImmutableArray<(GpuSpec Gpu, KernelCatalog Kernels)> LoadGpus(string directory)
    {
        if (!Directory.Exists(directory))
            throw new InputException(SourceLocation.FileOnly(directory), null, "GPU spec directory not found");
        var list = new List<(GpuSpec, KernelCatalog)>();
        var catalogs = new Dictionary<string, KernelCatalog>();
        foreach (var file in Directory.GetFiles(directory, "*.yaml").OrderBy(f => f, StringComparer.Ordinal))
        {
            var root = YNode.LoadFile(file);
            if (!root.IsMapping || !root.Has("sm_count")) continue;   // kernels.yaml and other non-GPU files
            var gpu = GpuSpecLoader.Parse(root);
            var key = Path.GetFullPath(gpu.KernelsFile);
            if (!catalogs.TryGetValue(key, out var cat)) catalogs[key] = cat = KernelCatalogLoader.LoadFile(gpu.KernelsFile);
            list.Add((gpu, cat));
        }
        if (list.Count == 0) throw new InputException(SourceLocation.FileOnly(directory), null, "no GPU specs (*.yaml with sm_count) found");
        return [.. list];
    }

    /// <summary>
    /// Predicts every row. A row the model cannot price (an unknown name, a shape its kernel does not run) is a located
    /// error unless the file marks it in column `unpredicted`; a marked row the model does price is an error too, so a
    /// stale mark never hides a row from the MAPE.
    /// </summary>
    public static ValidationSummary Run(MeasurementSet set, IReadOnlyList<(GpuSpec Gpu, KernelCatalog Kernels)> gpus)
    {
        var results = set.Rows.Select(row => Predict(row, gpus)).ToImmutableArray();
        SourceLocation At(MeasurementRow row, string column) =>
            new(set.File, row.Line, Math.Max(0, set.Header.IndexOf(column)) + 1);
        foreach (var r in results)
        {
            if (!r.Predicted && r.Row.Unpredicted is null)
            {
                var column = r.Column ?? "kernel";
                var hint = column is "gpu" || r.Message!.StartsWith("unsupported", StringComparison.Ordinal)
                    ? $"; if the model is known not to price this row, give the reason in a column '{MeasurementReader.UnpredictedColumn}'"
                    : "";
                throw new InputException(At(r.Row, column), column, r.Message + hint);
            }
            if (r.Predicted && r.Row.Unpredicted is { } reason)
                throw new InputException(At(r.Row, MeasurementReader.UnpredictedColumn), MeasurementReader.UnpredictedColumn,
                    $"the row is marked unpredicted ('{reason}') but the model prices it; clear the mark");
        }
        if (!results.Any(r => r.Predicted))
            throw new InputException(SourceLocation.FileOnly(set.File), MeasurementReader.UnpredictedColumn,
                $"every row ({results.Length}) is marked unpredicted: nothing to validate");
        var groups = results.Where(r => r.Predicted)
            .GroupBy(r => (r.GpuName!, r.Family!, r.Row.Approx))
            .OrderBy(g => g.Key.Item1, StringComparer.Ordinal).ThenBy(g => g.Key.Item2, StringComparer.Ordinal).ThenBy(g => g.Key.Approx)
            .Select(g => new GroupSummary(g.Key.Item1, g.Key.Item2, g.Key.Approx, g.Count(),
                g.Average(r => Math.Abs(r.ErrorPct!.Value)), g.Average(r => r.ErrorPct!.Value),
                g.MaxBy(r => Math.Abs(r.ErrorPct!.Value))!))
            .ToImmutableArray();
        return new ValidationSummary(results, groups);
    }

    public static ValidationResult Predict(MeasurementRow row, IReadOnlyList<(GpuSpec Gpu, KernelCatalog Kernels)> gpus)
    {
        var match = gpus.FirstOrDefault(g => g.Gpu.Matches(row.Gpu));
        if (match.Gpu is null)
            return new ValidationResult(row, null, null, null, null, null,
                $"unknown GPU '{row.Gpu}'{Suggest.DidYouMean(row.Gpu, gpus.SelectMany(g => g.Gpu.Aliases.Prepend(g.Gpu.Name)))} " +
                $"(known: {string.Join(", ", gpus.Select(g => g.Gpu.Name))})", "gpu");
        var family = match.Kernels.Find(row.Kernel);
        if (family is null)
            return new ValidationResult(row, match.Gpu.Name, null, null, null, null,
                $"unknown kernel '{row.Kernel}'{Suggest.DidYouMean(row.Kernel, match.Kernels.Families.SelectMany(f => f.Aliases.Prepend(f.Name)))} " +
                $"(known: {string.Join(", ", match.Kernels.Families.Select(f => f.Name))})", "kernel");
        if (!DataTypes.TryParse(row.DType, out var dtype))
            return new ValidationResult(row, match.Gpu.Name, family.Name, null, null, null,
                $"unknown dtype '{row.DType}'{Suggest.DidYouMean(row.DType, DTypeNames)} (expected fp16, bf16, fp8 or fp4)", "dtype");
        if (!Directions.TryParse(row.Direction, out var direction))
            return new ValidationResult(row, match.Gpu.Name, family.Name, null, null, null,
                $"unknown direction '{row.Direction}'{Suggest.DidYouMean(row.Direction, DirectionNames)} (expected fwd, bwd or fwd+bwd)", "direction");
        try
        {
            var shape = new AttentionShape(row.Batch, row.Heads, row.KvHeads ?? row.Heads, row.SeqLen, row.KvLen ?? row.SeqLen,
                row.HeadDim, row.HeadDim, row.Causal, null, dtype, direction).Validate();
            if (GpuEvaluator.Unsupported(match.Gpu, family, shape) is { } why)
                return new ValidationResult(row, match.Gpu.Name, family.Name, null, null, null, "unsupported: " + why, UnsupportedColumn(match.Gpu, family, shape));
            if (!(row.MeasuredTflops > 0) || !double.IsFinite(row.MeasuredTflops))
                return new ValidationResult(row, match.Gpu.Name, family.Name, null, null, null,
                    $"measured tflops {Invariant.Num(row.MeasuredTflops)} is not a positive number; no relative error exists");
            var report = GpuEvaluator.Evaluate(match.Gpu, shape, family);
            if (!(report.Tflops > 0) || !double.IsFinite(report.Tflops))
                return new ValidationResult(row, match.Gpu.Name, family.Name, null, null, null,
                    $"the model gives {Invariant.Num(report.Tflops)} TFLOP/s; check the GPU spec");
            var err = 100 * (report.Tflops - row.MeasuredTflops) / row.MeasuredTflops;
            return new ValidationResult(row, match.Gpu.Name, family.Name, report.Tflops, err, report.Bottleneck, null);
        }
        catch (InputException e)
        {
            return new ValidationResult(row, match.Gpu.Name, family.Name, null, null, null, e.Problem,
                e.Field is { } f && Columns.Contains(f) ? f : null);
        }
    }

    /// <summary>The column of a row that GpuEvaluator.Unsupported objects to, tested in its order.</summary>
    private static string UnsupportedColumn(GpuSpec gpu, KernelFamily family, AttentionShape shape) =>
        !family.Architectures.Contains(gpu.Architecture) ? "kernel"
        : !family.DataTypes.Contains(shape.DType) || !gpu.Supports(shape.DType) ? "dtype"
        : "head_dim";

    private static readonly string[] DTypeNames = ["fp16", "bf16", "fp8", "fp4", "fp16/bf16"];
    private static readonly string[] DirectionNames = ["fwd", "bwd", "fwd+bwd"];
    private static readonly string[] Columns = ["batch", "heads", "seq_len", "head_dim", "causal", "kv_heads", "kv_len"];

    /// <summary>validation.csv: the input columns plus predicted_tflops, error_pct, bottleneck, model_family, message.</summary>
    public static string ToCsv(MeasurementSet set, ValidationSummary summary)
    {
        var sb = new StringBuilder();
        sb.Append(Csv.Line([.. set.Header, "predicted_tflops", "error_pct", "bottleneck", "model_family", "message"])).Append('\n');
        foreach (var r in summary.Results)
            sb.Append(Csv.Line([
                .. r.Row.Fields,
                r.PredictedTflops is { } p ? Invariant.Sig(p, 5) : "",
                r.ErrorPct is { } e ? e.ToString("0.00", Invariant.Culture) : "",
                r.Bottleneck ?? "",
                r.Family ?? "",
                r.Message ?? "",
            ])).Append('\n');
        return sb.ToString();
    }

    /// <summary>Human-readable summary table: MAPE and worst point per GPU x family (exact rows, then approx rows).</summary>
    public static string ToText(ValidationSummary summary)
    {
        var sb = new StringBuilder();
        var predicted = summary.Results.Count(r => r.Predicted);
        sb.Append(Invariant.Culture, $"{summary.Results.Length} rows: {predicted} predicted, {summary.Results.Length - predicted} not predicted\n\n");
        foreach (var approx in new[] { false, true })
        {
            var groups = summary.Groups.Where(g => g.Approx == approx).ToList();
            if (groups.Count == 0) continue;
            sb.Append(approx ? "Rows marked approx (values read from figures with uncertainty), reported separately:\n"
                             : "Rows not marked approx:\n");
            sb.Append(string.Format(Invariant.Culture, "  {0,-16} {1,-12} {2,5} {3,8} {4,8}  {5}\n", "gpu", "family", "n", "MAPE%", "bias%", "worst point (measured -> predicted TFLOP/s)"));
            foreach (var g in groups)
            {
                var w = g.Worst.Row;
                sb.Append(string.Format(Invariant.Culture, "  {0,-16} {1,-12} {2,5} {3,8:0.0} {4,8:+0.0;-0.0}  {5} {6} b={7} h={8} n={9} d={10}{11}: {12:0} -> {13:0} ({14:+0.0;-0.0}%)\n",
                    g.Gpu, g.Family, g.Count, g.Mape, g.Bias, w.Direction, w.DType, w.Batch, w.Heads, w.SeqLen, w.HeadDim,
                    w.Causal ? " causal" : "", w.MeasuredTflops, g.Worst.PredictedTflops, g.Worst.ErrorPct));
            }
            sb.Append('\n');
        }
        // Headline: forward FlashAttention-2/3 per GPU, then every FlashAttention family over all GPUs in the file.
        bool IsFa23Forward(ValidationResult r) => !r.Row.Approx && r.Family is "fa2" or "fa3" && r.Row.Direction == "fwd";
        bool IsFlash(ValidationResult r) => !r.Row.Approx && IsFlashAttention(r);
        var parts = new List<string>();
        foreach (var gpu in summary.Results.Where(r => r.Predicted && IsFa23Forward(r)).Select(r => r.GpuName!).Distinct().Order(StringComparer.Ordinal))
            parts.Add(string.Format(Invariant.Culture, "{0} fwd FlashAttention-2/3 MAPE {1:0.0}% (n={2})", gpu,
                summary.Mape(r => IsFa23Forward(r) && r.GpuName == gpu), summary.Count(r => IsFa23Forward(r) && r.GpuName == gpu)));
        var flashGpus = summary.Results.Where(r => r.Predicted && IsFlash(r)).Select(r => r.GpuName!).Distinct().Order(StringComparer.Ordinal).ToList();
        if (flashGpus.Count > 0)
            parts.Add(string.Format(Invariant.Culture, "all FlashAttention families (FA1, FA2, FA3, FlashAttention-Triton) on {0} MAPE {1:0.0}% (n={2})",
                string.Join("+", flashGpus), summary.Mape(IsFlash), summary.Count(IsFlash)));
        if (parts.Count > 0)
            sb.Append("Headline (not approx): ").Append(string.Join("; ", parts)).Append('\n');
        var unpredicted = summary.Unpredicted;
        if (unpredicted.Length > 0)
        {
            sb.Append('\n').Append(Invariant.Culture, $"Not predicted ({unpredicted.Length} rows):\n");
            foreach (var r in unpredicted)
                sb.Append(Invariant.Culture, $"  line {r.Row.Line}: {r.Row.Gpu} / {r.Row.Kernel}: {r.Message}\n");
        }
        return sb.ToString();
    }
}
