using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Gpu;

public enum GpuArchitecture { Ampere, Hopper, Blackwell }

/// <summary>A value read from a GPU spec together with the citation it carries.</summary>
public sealed record SourcedValue(double Value, string Source, string? Note);

/// <summary>
/// One GPU, as read from arch/gpu/*.yaml. Raw quantities keep their citations in <see cref="Citations"/>;
/// the derived per-SM, per-clock rates below are what the kernel models use.
/// </summary>
public sealed record GpuSpec
{
    public required string Name { get; init; }
    public required ImmutableArray<string> Aliases { get; init; }
    public required GpuArchitecture Architecture { get; init; }
    public required string ComputeCapability { get; init; }
    public required string SourceFile { get; init; }
    /// <summary>Path of the kernel-family catalogue named by the spec (resolved relative to the spec).</summary>
    public required string KernelsFile { get; init; }

    public required int SmCount { get; init; }
    public required double ClockHz { get; init; }
    /// <summary>Dense tensor-core throughput of the whole GPU by input type, FLOP/s.</summary>
    public required ImmutableDictionary<DataType, double> TensorFlops { get; init; }
    public required double LegacyMmaSyncFraction { get; init; }
    public required int Fp32LanesPerSm { get; init; }
    public required double MufuExp2PerClkPerSm { get; init; }
    public required long RegisterFileBytesPerSm { get; init; }
    public required int MaxThreadsPerSm { get; init; }
    public required int MaxCtasPerSm { get; init; }
    public required long SmemBytesPerSm { get; init; }
    public required long SmemBytesPerCta { get; init; }
    public required double SmemBytesPerClkPerSm { get; init; }
    public required long TmemBytesPerSm { get; init; }
    public required long L2Bytes { get; init; }
    public required double L2BytesPerClk { get; init; }
    public required long HbmBytes { get; init; }
    public required double HbmBytesPerSecond { get; init; }
    public required double StreamingHbmEfficiency { get; init; }
    public required double MemoryLatencySeconds { get; init; }
    public required double KernelLaunchSeconds { get; init; }
    public required double TdpWatts { get; init; }
    public required double IdleWatts { get; init; }

    /// <summary>Every raw field with its value and citation, by YAML field name.</summary>
    public required ImmutableSortedDictionary<string, SourcedValue> Citations { get; init; }
    public required ImmutableSortedDictionary<string, string> Sources { get; init; }
    public required string Verified { get; init; }

    public bool Supports(DataType t) => TensorFlops.ContainsKey(t);

    /// <summary>Dense tensor FLOP per clock per SM for an input type.</summary>
    public double TensorFlopsPerClkPerSm(DataType t) =>
        TensorFlops.TryGetValue(t, out var f)
            ? f / (SmCount * ClockHz)
            : throw new InputException($"{Name} has no tensor-core rate for {t.Name()}");

    public double PeakTensorFlops(DataType t) => TensorFlops.TryGetValue(t, out var f) ? f : double.NaN;

    public double HbmBytesPerClk => HbmBytesPerSecond / ClockHz;

    public bool Matches(string name)
    {
        var n = Normalise(name);
        return Normalise(Name) == n || Aliases.Any(a => Normalise(a) == n);
    }

    internal static string Normalise(string s) =>
        new string(s.Trim().ToLowerInvariant().Where(c => c is not (' ' or '_')).ToArray());
}

/// <summary>Reads a GPU spec YAML through <see cref="YNode"/>; every problem is a one-line FILE:LINE:COL error.</summary>
public static class GpuSpecLoader
{
    private static readonly string[] TopKeys =
    [
        "name", "aliases", "architecture", "compute_capability", "kernels", "sources", "verified",
        "sm_count", "clock_mhz", "tensor_dense_tflops", "legacy_mma_sync_fraction", "fp32_lanes_per_sm",
        "mufu_exp2_per_clk_per_sm", "register_file_kib_per_sm", "max_threads_per_sm", "max_ctas_per_sm",
        "smem_kib_per_sm", "smem_kib_per_cta", "smem_bytes_per_clk_per_sm", "tmem_kib_per_sm", "l2_mib",
        "l2_bytes_per_clk", "hbm_gib", "hbm_tbps", "streaming_hbm_efficiency", "memory_latency_ns",
        "kernel_launch_us", "tdp_w", "idle_w",
    ];

    public static GpuSpec LoadFile(string path) => Parse(YNode.LoadFile(path));

    public static GpuSpec LoadText(string yaml, string fileName) => Parse(YNode.LoadText(yaml, fileName));

    public static GpuSpec Parse(YNode root)
    {
        if (!root.IsMapping) throw root.Error("a GPU spec must be a mapping");
        root.ExpectOnlyKeys(TopKeys);

        var sources = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, node) in root.Req("sources").Entries) sources[key] = node.Text;

        var citations = ImmutableSortedDictionary.CreateBuilder<string, SourcedValue>(StringComparer.Ordinal);

        double Q(YNode parent, string key, string path, double min, double max, bool allowZero = false)
        {
            var node = parent.Req(key);
            if (!node.IsMapping)
                throw node.Error("expected {value: ..., source: ...}: every GPU quantity must cite its source");
            node.ExpectOnlyKeys("value", "source", "note");
            var valueNode = node.Req("value");
            var value = valueNode.AsDouble();
            if (double.IsNaN(value) || (!(allowZero && value == 0) && (value < min || value > max)))
                throw valueNode.Error($"{Invariant.Num(value)} is outside the plausible range [{Invariant.Num(min)}, {Invariant.Num(max)}]");
            var sourceNode = node.Req("source");
            var source = sourceNode.Text.Trim();
            if (source.Length == 0) throw sourceNode.Error("source must not be empty");
            if (!sources.ContainsKey(source))
                throw sourceNode.Error($"unknown source '{source}' (define it under `sources`: {string.Join(", ", sources.Keys)})");
            citations[path] = new SourcedValue(value, source, node.OptString("note"));
            return value;
        }

        double Top(string key, double min, double max, bool allowZero = false) => Q(root, key, key, min, max, allowZero);

        // Counts of hardware units: a fraction would be silently truncated by the cast.
        int Count(string key, int min, int max)
        {
            var v = Top(key, min, max);
            if (v != Math.Floor(v)) throw root.Req(key).Req("value").Error($"must be a whole number, found {Invariant.Num(v)}");
            return (int)v;
        }

        var name = root.Req("name").Text.Trim();
        if (name.Length == 0) throw root.Req("name").Error("name must not be empty");
        var aliases = root.Opt("aliases") is { } a ? a.ItemsOrSingle.Select(n => n.Text.Trim()).ToImmutableArray() : [];
        var archNode = root.Req("architecture");
        var arch = archNode.Text.Trim().ToLowerInvariant() switch
        {
            "ampere" => GpuArchitecture.Ampere,
            "hopper" => GpuArchitecture.Hopper,
            "blackwell" => GpuArchitecture.Blackwell,
            var other => throw archNode.Error($"unknown architecture '{other}' (expected ampere, hopper or blackwell)"),
        };

        var tensorNode = root.Req("tensor_dense_tflops");
        if (!tensorNode.IsMapping) throw tensorNode.Error("expected a mapping of dtype -> {value, source}");
        var tensor = ImmutableDictionary.CreateBuilder<DataType, double>();
        foreach (var (key, _) in tensorNode.Entries)
        {
            if (!DataTypes.TryParse(key, out var dt) || key.Contains('/'))
                throw new InputException(tensorNode.KeyLocation(key), tensorNode.Path + "." + key, "unknown dtype (expected fp16, bf16, fp8, fp4)");
            tensor[dt] = Q(tensorNode, key, "tensor_dense_tflops." + key, 1, 1e5) * 1e12;
        }
        if (tensor.Count == 0) throw tensorNode.Error("at least one dtype is required");

        var clockHz = Top("clock_mhz", 100, 5000) * 1e6;
        var spec = new GpuSpec
        {
            Name = name,
            Aliases = aliases,
            Architecture = arch,
            ComputeCapability = root.Req("compute_capability").Text.Trim(),
            SourceFile = root.File,
            KernelsFile = ResolveRelative(root.File, root.OptString("kernels") ?? "kernels.yaml"),
            SmCount = Count("sm_count", 1, 10000),
            ClockHz = clockHz,
            TensorFlops = tensor.ToImmutable(),
            LegacyMmaSyncFraction = Top("legacy_mma_sync_fraction", 0.01, 1),
            Fp32LanesPerSm = Count("fp32_lanes_per_sm", 1, 4096),
            MufuExp2PerClkPerSm = Top("mufu_exp2_per_clk_per_sm", 1, 4096),
            RegisterFileBytesPerSm = (long)(Top("register_file_kib_per_sm", 1, 1 << 20) * 1024),
            MaxThreadsPerSm = Count("max_threads_per_sm", 32, 1 << 16),
            MaxCtasPerSm = Count("max_ctas_per_sm", 1, 1024),
            SmemBytesPerSm = (long)(Top("smem_kib_per_sm", 1, 1 << 20) * 1024),
            SmemBytesPerCta = (long)(Top("smem_kib_per_cta", 1, 1 << 20) * 1024),
            SmemBytesPerClkPerSm = Top("smem_bytes_per_clk_per_sm", 1, 1 << 16),
            TmemBytesPerSm = (long)(Top("tmem_kib_per_sm", 1, 1 << 20, allowZero: true) * 1024),
            L2Bytes = (long)(Top("l2_mib", 0.1, 1 << 16) * 1024 * 1024),
            L2BytesPerClk = Top("l2_bytes_per_clk", 1, 1 << 20),
            HbmBytes = (long)(Top("hbm_gib", 0.1, 1 << 20) * 1e9),
            HbmBytesPerSecond = Top("hbm_tbps", 0.01, 1000) * 1e12,
            StreamingHbmEfficiency = Top("streaming_hbm_efficiency", 0.05, 1),
            MemoryLatencySeconds = Top("memory_latency_ns", 1, 1e6) * 1e-9,
            KernelLaunchSeconds = Top("kernel_launch_us", 0.01, 1e4) * 1e-6,
            TdpWatts = Top("tdp_w", 1, 1e5),
            IdleWatts = Top("idle_w", 0.1, 1e5),
            Citations = citations.ToImmutable(),
            Sources = sources.ToImmutable(),
            Verified = root.OptString("verified") ?? "",
        };
        if (spec.SmemBytesPerCta > spec.SmemBytesPerSm)
            throw root.Req("smem_kib_per_cta").Error("per-CTA shared memory exceeds the per-SM capacity");
        if (spec.IdleWatts >= spec.TdpWatts)
            throw root.Req("idle_w").Error("idle power must be below the TDP");
        return spec;
    }

    internal static string ResolveRelative(string specFile, string relative)
    {
        if (Path.IsPathRooted(relative)) return relative;
        var dir = Path.GetDirectoryName(specFile);
        return string.IsNullOrEmpty(dir) ? relative : Path.Combine(dir, relative);
    }
}
