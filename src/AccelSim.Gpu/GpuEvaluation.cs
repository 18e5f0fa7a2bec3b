using AccelSim.Core;
using AccelSim.Einsum.Loading;

namespace AccelSim.Gpu;

/// <summary>`accelsim eval` for GPU specs: an attention workload run by one kernel family on one GPU.</summary>
public static class GpuEvaluation
{
    /// <summary>A GPU spec is a YAML mapping with an `sm_count` field (arch/gpu/*.yaml).</summary>
    public static bool Accepts(string archFile)
    {
        if (!File.Exists(archFile)) return false;
        try
        {
            var root = YNode.LoadFile(archFile);
            return root.IsMapping && root.Has("sm_count");
        }
        catch (InputException)
        {
            return false;
        }
    }

    /// <param name="sets">Workload parameters (`seq_len=4096`).</param>
    /// <param name="archDocument">The GPU spec with `--set arch.*` edits applied, when there are any; else the file is read.</param>
    public static GpuReport Run(string archFile, string workloadFile, IReadOnlyList<string> sets, string? modelFile,
        string? kernel, string? direction, string? dtype, YNode? archDocument = null)
    {
        if (kernel is null)
            throw new InputException(SourceLocation.FileOnly(archFile), "--kernel",
                "a GPU architecture needs --kernel (e.g. fa2, fa3, fa4, cudnn, standard, lean)");
        var dir = direction is null ? Direction.Forward : OfOption("--direction", () => Directions.Parse(direction));
        DataType? type = dtype is null ? null : OfOption("--dtype", () => DataTypes.Parse(dtype));
        var gpu = GpuSpecLoader.Parse(archDocument ?? YNode.LoadFile(archFile));
        var family = OfOption("--kernel", () => KernelCatalogLoader.LoadFile(gpu.KernelsFile).Get(kernel));
        var cascade = WorkloadLoader.Load(workloadFile, WorkloadLoader.ParseOverrides(sets), modelFile);
        return Price(gpu, family, cascade, dir, type, workloadFile);
    }

    /// <summary>
    /// The GPU pipeline for one bound cascade: read it as attention, check that the family implements its structure,
    /// price it. What the kernel cannot run is a property of the workload: it is located at <paramref name="workloadFile"/>.
    /// </summary>
    public static GpuReport Price(GpuSpec gpu, KernelFamily family, AccelSim.Einsum.Ir.Cascade cascade, Direction direction,
        DataType? dtype, string workloadFile) =>
        Price(gpu, family, BoundAttention.Of(cascade), direction, dtype, workloadFile);

    /// <summary>The same for a cascade already read as attention (one reading serves every GPU and family).</summary>
    public static GpuReport Price(GpuSpec gpu, KernelFamily family, BoundAttention attention, Direction direction,
        DataType? dtype, string workloadFile)
    {
        var where = SourceLocation.FileOnly(workloadFile);
        if (attention.Mismatch(family) is { } mismatch) throw new InputException(where, "--kernel " + family.Name, mismatch);
        var shape = attention.Shape! with { Direction = direction, DType = dtype ?? attention.Shape.DType };
        if (GpuEvaluator.Unsupported(gpu, family, shape) is { } why) throw new InputException(where, "--kernel " + family.Name, why);
        return GpuEvaluator.Evaluate(gpu, attention, family, direction, dtype);
    }

    /// <summary>Names the command-line option an unlocated problem came from.</summary>
    private static T OfOption<T>(string option, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (InputException e) when (e.Location is null && e.Field is null)
        {
            throw new InputException(null, option, e.Problem);
        }
    }
}
