using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Experiments.Engines;

/// <summary>
/// Engine `analytic-roofline`: the classic roofline bound for one GEMM or one attention layer on a machine
/// described only by its peak matrix throughput and its memory bandwidth,
/// latency = max(flops / peak_flops, bytes / memory_bandwidth). It needs no mapping, prices a point in
/// microseconds, and answers "is this shape compute- or memory-bound here, and by how much?" across
/// sweeps of machine balance and problem shape. Its inputs (all can be swept as arch.* / workload.*):
/// <code>
/// arch:      peak_flops: 989e12        # FLOP/s of the matrix units (2 FLOP per MAC)
///            memory_bandwidth: 3.35e12 # B/s
/// workload:  kind: gemm                # m, n, k: C[m,n] = A[m,k] B[k,n]
///            kind: attention           # batch, heads, query_len, key_len, head_dim (value_dim optional)
///            word_bytes: 2             # bytes per element (default 2)
///            fused: true               # attention only: scores stay on chip (true) or round-trip memory (false)
/// </code>
/// Traffic is compulsory (every operand read once, every result written once), which is the roofline's
/// assumption; attention with fused: false also writes and reads back the score and probability matrices.
/// Non-matrix work (softmax) is not counted as FLOPs.
/// </summary>
public sealed class AnalyticRooflineEvaluator : IPointEvaluator
{
    public const string EngineName = "analytic-roofline";

    public string Engine => EngineName;

    public string Description =>
        "roofline bound of a GEMM or attention layer: max(flops/peak_flops, bytes/memory_bandwidth)";

    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("latency_s", "s", MetricKind.Time, "roofline latency: the larger of compute and memory time"),
        new("compute_s", "s", MetricKind.Time, "flops / peak_flops"),
        new("memory_s", "s", MetricKind.Time, "bytes / memory_bandwidth"),
        new("flops", "FLOP", MetricKind.Count, "matrix FLOPs (2 per multiply-accumulate)"),
        new("bytes", "B", MetricKind.Traffic, "compulsory memory traffic"),
        new("intensity", "FLOP/B", MetricKind.Intensity, "operational intensity: flops / bytes"),
        new("attained_flops_per_s", "FLOP/s", MetricKind.Throughput, "flops / latency"),
        new("utilization", "fraction", MetricKind.Utilization, "attained / peak FLOP/s"),
        new("peak_flops", "FLOP/s", MetricKind.Throughput, "the machine's peak (echoed for roofline plots)"),
        new("memory_bandwidth", "B/s", MetricKind.Throughput, "the machine's bandwidth (echoed for roofline plots)"),
        new("bound", "", MetricKind.Text, "compute or memory"),
    ];

    /// <summary>No options: machine fields go under arch.*, shape fields under workload.*.</summary>
    public IReadOnlyList<string>? OptionNames { get; } = [];

    public IReadOnlyDictionary<string, MetricValue> Evaluate(SweepPoint point, CancellationToken cancellationToken)
    {
        var arch = point.Arch ?? throw new InputException(point.Sweep.EngineLocation, "arch",
            $"engine {EngineName} needs an architecture with peak_flops and memory_bandwidth");
        var workload = point.Workload ?? throw new InputException(point.Sweep.EngineLocation, "workload",
            $"engine {EngineName} needs a workload (kind: gemm or attention)");

        arch.ExpectOnlyKeys("name", "source", "peak_flops", "memory_bandwidth");
        var peak = Positive(arch, "peak_flops");
        var bandwidth = Positive(arch, "memory_bandwidth");
        var (flops, bytes) = Shape(workload);

        var compute = flops / peak;
        var memory = bytes / bandwidth;
        var latency = Math.Max(compute, memory);
        var attained = flops / latency;
        return new Dictionary<string, MetricValue>(StringComparer.Ordinal)
        {
            ["latency_s"] = latency,
            ["compute_s"] = compute,
            ["memory_s"] = memory,
            ["flops"] = flops,
            ["bytes"] = bytes,
            ["intensity"] = flops / bytes,
            ["attained_flops_per_s"] = attained,
            ["utilization"] = attained / peak,
            ["peak_flops"] = peak,
            ["memory_bandwidth"] = bandwidth,
            ["bound"] = compute >= memory ? "compute" : "memory",
        };
    }

    /// <summary>Matrix FLOPs and compulsory bytes of the workload.</summary>
    public static (double Flops, double Bytes) Shape(YNode workload)
    {
        if (!workload.Has("kind") && (workload.Has("einsums") || workload.Has("extends")))
            throw workload.Error("engine analytic-roofline cannot evaluate an Einsum cascade; it takes a `kind: gemm` or `kind: attention` shape (see workloads/sweeps/roofline/)");
        var kindNode = workload.Req("kind");
        var word = workload.Opt("word_bytes") is { } w ? WordBytes(w) : 2.0;
        switch (kindNode.Text)
        {
            case "gemm":
            {
                workload.ExpectOnlyKeys("kind", "name", "source", "word_bytes", "m", "n", "k");
                var m = Positive(workload, "m");
                var n = Positive(workload, "n");
                var k = Positive(workload, "k");
                return (2 * m * n * k, word * (m * k + k * n + m * n));
            }
            case "attention":
            {
                workload.ExpectOnlyKeys("kind", "name", "source", "word_bytes", "batch", "heads", "query_len",
                    "key_len", "head_dim", "value_dim", "fused");
                var b = Positive(workload, "batch");
                var h = Positive(workload, "heads");
                var p = Positive(workload, "query_len");
                var m = Positive(workload, "key_len");
                var e = Positive(workload, "head_dim");
                var f = workload.Opt("value_dim") is { } vd ? PositiveValue(vd) : e;
                var fused = workload.OptBool("fused") ?? true;
                // QK^T: B*H*P*M*E MACs; AV: B*H*P*M*F MACs; 2 FLOP per MAC.
                var flops = 2 * b * h * p * m * (e + f);
                // Q, K, V read once and the output written once; unfused: scores and probabilities
                // are written and read back once each.
                var words = b * h * (p * e + m * e + m * f + p * f);
                if (!fused) words += 4 * b * h * p * m;
                return (flops, word * words);
            }
            default:
                throw kindNode.Error($"unknown workload kind '{kindNode.Text}'{Suggest.DidYouMean(kindNode.Text, ["gemm", "attention"])} (expected gemm or attention)");
        }
    }

    /// <summary>The widest number a tensor element holds is a 16-byte value (fp128, complex128); anything wider is
    /// a typo or an overflow, not an element size.</summary>
    private const double MaxWordBytes = 16;

    private static double WordBytes(YNode node)
    {
        var v = PositiveValue(node);
        return v <= MaxWordBytes ? v : throw node.Error($"bytes per element must be at most {Invariant.Num(MaxWordBytes)} (an fp128 value), found '{node.Text}'");
    }

    private static double Positive(YNode node, string field) => PositiveValue(node.Req(field));

    private static double PositiveValue(YNode node)
    {
        var v = node.AsDouble();
        return v > 0 && double.IsFinite(v) ? v : throw node.Error($"must be a positive number, found '{node.Text}'");
    }
}
