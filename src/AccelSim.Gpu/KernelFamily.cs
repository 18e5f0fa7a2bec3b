using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Gpu;

public enum KernelAlgorithm { Unfused, Flash }

/// <summary>Tensor-core instruction class a kernel issues.</summary>
public enum MmaClass
{
    /// <summary>Warp-level mma.sync (Ampere); operands from registers loaded from shared memory by each warp.</summary>
    MmaSync,
    /// <summary>Warpgroup-level asynchronous wgmma (Hopper); B (and optionally A) read from shared memory.</summary>
    Wgmma,
    /// <summary>tcgen05.mma (Blackwell); single-thread issue, accumulators in tensor memory.</summary>
    Tcgen05,
}

public enum CausalOrder { Ascending, HeaviestFirst }

public enum DecodePartition { SplitKv, StreamK }

/// <summary>
/// Loop order of the forward pass. QueryOuter (FlashAttention-2 onwards): a CTA owns a query block and streams the
/// key blocks past it, keeping O in registers. KvOuter (FlashAttention-1): a CTA holds a key block and streams the
/// query rows past it, round-tripping O and the softmax statistics through global memory.
/// </summary>
public enum LoopOrder { QueryOuter, KvOuter }

/// <summary>How the backward pass spreads its key blocks over CTAs.</summary>
public enum BackwardParallelism
{
    /// <summary>One CTA per (batch, head, key block) (FlashAttention-2 onwards, xFormers with split keys).</summary>
    KeyBlocks,
    /// <summary>One CTA per (batch, head) that loops over all key blocks.</summary>
    PerHead,
    /// <summary>The implementation is benchmarked both ways and the faster one is reported (Triton FlashAttention).</summary>
    Fastest,
}

/// <summary>How the partial dQ of the key blocks are combined.</summary>
public enum DqAccumulation
{
    /// <summary>FP32 atomic adds resolved in L2 (FlashAttention-2/3).</summary>
    AtomicFp32,
    /// <summary>Read-modify-write of an FP32 accumulator in global memory per (key block, query block) (xFormers).</summary>
    RmwFp32,
    /// <summary>Read-modify-write of dQ in the input precision; needs one CTA per head (Triton, sequence_parallel=False).</summary>
    RmwInput,
    /// <summary>
    /// One dQ copy per key block written in the input precision, zero-filled before and summed by a separate kernel
    /// after (Triton, sequence_parallel=True).
    /// </summary>
    Replicas,
}



/// <summary>
/// A CTA tile: query rows, keys per iteration, warps, and how the warps tile the score block (warps along the rows x
/// warps along the keys; by default all warps split the rows, FlashAttention-2 style).
/// </summary>
public sealed record TileConfig(int BlockRows, int BlockKeys, int Warps)
{
    public int WarpRows { get; init; } = Warps;
    public int WarpCols { get; init; } = 1;
}

/// <summary>An efficiency factor with the explanation the spec gives for it.</summary>
public sealed record ExplainedFactor(double Value, string Note);

/// <summary>Per-direction parameters of a flash-style kernel.</summary>
public sealed record PassConfig
{
    public required ImmutableSortedDictionary<int, TileConfig> Tiles { get; init; }
    public ImmutableSortedDictionary<int, TileConfig>? Fp8Tiles { get; init; }
    public required double AluOpsPerElement { get; init; }
    public double RescaleOpsPerOutputElement { get; init; } = 1;
    public double RescaleFraction { get; init; } = 1;
    /// <summary>Fraction of MUFU exp time that runs concurrently with tensor-core work (0 = exp on the MMA critical path).</summary>
    public double ExpHiddenFraction { get; init; }
    public double ExpEmulatedFraction { get; init; }
    public double ExpPolyFmaOps { get; init; } = 8;
    public required int RegsPerThread { get; init; }
    public required ExplainedFactor Efficiency { get; init; }
    /// <summary>Forward: P is written to shared memory and read back as the A operand of PV (CUTLASS back-to-back GEMM).</summary>
    public bool PViaSmem { get; init; }
    /// <summary>Forward: Q stays in registers for the whole kernel instead of being re-read from shared memory.</summary>
    public bool QInRegisters { get; init; }
    /// <summary>
    /// Block-wide barriers separate the GEMM, softmax and shared-memory phases of an iteration, so one CTA runs
    /// them one after the other and only co-resident CTAs overlap.
    /// </summary>
    public bool BarrierPhases { get; init; }
    /// <summary>Global loads for the next iteration are issued ahead (cp.async / TMA stages); false = their latency is exposed.</summary>
    public bool SoftwarePipelined { get; init; } = true;
    /// <summary>
    /// GEMMs per iteration that are separate CUTLASS-style threadblock GEMMs streaming their operands from global
    /// memory (0 = the iteration's tiles are loaded ahead into shared memory and shared by its GEMMs). Each such GEMM
    /// starts with a pipeline fill (one exposed memory latency); in the backward it also re-reads its operands
    /// through L2 (the forward's K and V tiles are read once per iteration either way).
    /// </summary>
    public int GlobalOperandGemms { get; init; }
    /// <summary>
    /// Forward: the softmax of key tile j is software-pipelined under the GEMMs of tile j+1 (FA3 Algorithm 2), so
    /// every work tile exposes one un-overlapped softmax when its pipeline fills.
    /// </summary>
    public bool PipelineFill { get; init; }

    /// <summary>The tile for a head dimension: the smallest table key at or above it (the largest key beyond the table).</summary>
    public TileConfig TileFor(int headDim, DataType dtype)
    {
        var table = dtype == DataType.Fp8 && Fp8Tiles is { Count: > 0 } ? Fp8Tiles : Tiles;
        foreach (var (d, tile) in table)
            if (d >= headDim) return tile;
        return table.Values.Last();
    }

    public int MaxHeadDim => Tiles.Keys.Max();
}

/// <summary>
/// The head (and value) dimensions an implementation accepts, as its own source or documentation states them
/// (cited under `sources` in arch/gpu/kernels.yaml): either an explicit list, or every multiple of
/// <see cref="MultipleOf"/> up to <see cref="Max"/> (FP8 inputs may need a coarser multiple).
/// </summary>
public sealed record HeadDimSupport(int Max, int MultipleOf, int Fp8MultipleOf, ImmutableArray<int> Values, string Source)
{
    /// <summary>Why <paramref name="dim"/> is not supported for <paramref name="dtype"/>, or null when it is.</summary>
    public string? Refuse(int dim, DataType dtype)
    {
        if (!Values.IsDefaultOrEmpty)
            return Values.Contains(dim) ? null : $"supports head dimensions {string.Join(", ", Values)} only";
        if (dim > Max) return $"supports head dimensions up to {Max}";
        var multiple = dtype == DataType.Fp8 ? Fp8MultipleOf : MultipleOf;
        if (dim % multiple != 0)
            return $"needs a head dimension that is a multiple of {multiple}{(dtype == DataType.Fp8 && Fp8MultipleOf != MultipleOf ? " for fp8" : "")}";
        return null;
    }
}

/// <summary>
/// The cascade structure a kernel family implements (kernels.yaml `implements`): how it normalises (softmax: online
/// in one pass, or materialised), which masks it skips tiles of (causal, window, block; a materialised kernel applies
/// them to the full S), and where that is documented.
/// </summary>
public sealed record KernelImplements(CascadeForm Cascade, ImmutableArray<string> Masks, string Source);

/// <summary>An attention kernel family from arch/gpu/kernels.yaml.</summary>
public sealed record KernelFamily
{
    public required string Name { get; init; }
    public required string Display { get; init; }
    public required ImmutableArray<string> Aliases { get; init; }
    public required KernelAlgorithm Algorithm { get; init; }
    public required string Source { get; init; }
    public required ImmutableArray<GpuArchitecture> Architectures { get; init; }
    public required ImmutableArray<DataType> DataTypes { get; init; }
    public required KernelImplements Implements { get; init; }

    // Unfused
    public ExplainedFactor? GemmEfficiency { get; init; }
    /// <summary>
    /// Unfused: Q, K, V arrive packed as (batch, seq, 3, heads, dim), as in the FlashAttention benchmark scripts, so
    /// the eager code copies them into (batch x heads, seq, dim) operands for the batched GEMMs and stacks the three
    /// gradients back into the packed layout.
    /// </summary>
    public bool PackedQkvInput { get; init; }
    /// <summary>
    /// Unfused: fraction of peak HBM bandwidth the eager library kernels (element-wise, softmax, output-bound batched
    /// GEMMs) sustain; null = the GPU's streaming efficiency.
    /// </summary>
    public ExplainedFactor? EagerBandwidthEfficiency { get; init; }

    // Flash
    public MmaClass Mma { get; init; }
    public bool WarpsSplitKeys { get; init; }
    public LoopOrder LoopOrder { get; init; } = LoopOrder.QueryOuter;
    public bool WarpSpecialised { get; init; }
    public bool PingPong { get; init; }
    public bool IntraWarpgroupPipelining { get; init; }
    public bool TwoCtaMmaBackward { get; init; }
    public bool Persistent { get; init; }
    public CausalOrder CausalOrder { get; init; }
    public DecodePartition DecodePartition { get; init; } = DecodePartition.SplitKv;
    public PassConfig? Forward { get; init; }
    public PassConfig? Backward { get; init; }
    /// <summary>Flash: the head dimensions the implementation accepts (required for every flash family).</summary>
    public HeadDimSupport? HeadDims { get; init; }
    public BackwardParallelism BackwardParallelism { get; init; } = BackwardParallelism.KeyBlocks;
    public DqAccumulation DqAccumulation { get; init; } = DqAccumulation.AtomicFp32;

    public bool Matches(string name)
    {
        var n = GpuSpec.Normalise(name);
        return GpuSpec.Normalise(Name) == n || Aliases.Any(a => GpuSpec.Normalise(a) == n);
    }
}

/// <summary>The kernel-family catalogue (arch/gpu/kernels.yaml) plus its citation table.</summary>
public sealed record KernelCatalog(ImmutableArray<KernelFamily> Families, ImmutableSortedDictionary<string, string> Sources, string SourceFile)
{
    public KernelFamily? Find(string name) => Families.FirstOrDefault(f => f.Matches(name));

    public KernelFamily Get(string name) =>
        Find(name) ?? throw new InputException(
            $"unknown kernel '{name}'{Suggest.DidYouMean(name, Families.SelectMany(f => f.Aliases.Prepend(f.Name)))} " +
            $"(known: {string.Join(", ", Families.Select(f => f.Name))})");
}

public static class KernelCatalogLoader
{
    public static KernelCatalog LoadFile(string path) => Parse(YNode.LoadFile(path));

    public static KernelCatalog LoadText(string yaml, string fileName) => Parse(YNode.LoadText(yaml, fileName));

    public static KernelCatalog Parse(YNode root)
    {
        if (!root.IsMapping) throw root.Error("a kernel catalogue must be a mapping");
        root.ExpectOnlyKeys("sources", "families");
        var sources = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, node) in root.Req("sources").Entries) sources[key] = node.Text;
        var families = new List<KernelFamily>();
        foreach (var item in root.Req("families").Items)
        {
            var family = ParseFamily(item, sources);
            if (families.Any(f => f.Name == family.Name || family.Aliases.Any(f.Matches)))
                throw item.Error($"kernel family '{family.Name}' (or one of its aliases) is defined twice");
            families.Add(family);
        }
        return new KernelCatalog([.. families], sources.ToImmutable(), root.File);
    }

    private static KernelFamily ParseFamily(YNode node, IDictionary<string, string> sources)
    {
        node.ExpectOnlyKeys("name", "display", "aliases", "algorithm", "source", "architectures", "dtypes",
            "gemm_efficiency", "mma", "warp_split", "warp_specialised", "pingpong",
            "intra_warpgroup_pipelining", "two_cta_mma_bwd", "persistent", "causal_order", "decode_partition", "loop_order",
            "bwd_parallelism", "dq_accumulation", "packed_qkv_input", "eager_bandwidth_efficiency", "head_dims", "fwd", "bwd",
            "implements");
        var name = node.Req("name").Text.Trim();
        var sourceNode = node.Req("source");
        if (!sources.ContainsKey(sourceNode.Text.Trim()))
            throw sourceNode.Error($"unknown source '{sourceNode.Text}' (define it under `sources`)");
        var algoNode = node.Req("algorithm");
        var algorithm = algoNode.Text.Trim() switch
        {
            "unfused" => KernelAlgorithm.Unfused,
            "flash" => KernelAlgorithm.Flash,
            var other => throw algoNode.Error($"unknown algorithm '{other}' (expected unfused or flash)"),
        };
        var archs = node.Req("architectures").ItemsOrSingle.Select(n => n.Text.Trim().ToLowerInvariant() switch
        {
            "ampere" => GpuArchitecture.Ampere,
            "hopper" => GpuArchitecture.Hopper,
            "blackwell" => GpuArchitecture.Blackwell,
            _ => throw n.Error($"unknown architecture '{n.Text}'"),
        }).ToImmutableArray();
        var dtypes = node.Req("dtypes").ItemsOrSingle
            .Select(n => DataTypes.TryParse(n.Text, out var t) ? t : throw n.Error($"unknown dtype '{n.Text}'"))
            .ToImmutableArray();

        var implements = ParseImplements(node.Req("implements"), sources);
        if ((implements.Cascade == CascadeForm.MaterialisedSoftmax) != (algorithm == KernelAlgorithm.Unfused))
            throw node.Req("implements").Req("cascade").Error(algorithm == KernelAlgorithm.Unfused
                ? "an unfused kernel materialises S and P: expected materialised_softmax"
                : "a flash kernel runs the online softmax: expected online_softmax");
        var family = new KernelFamily
        {
            Implements = implements,
            Name = name,
            Display = node.OptString("display") ?? name,
            Aliases = node.Opt("aliases") is { } a ? a.ItemsOrSingle.Select(n => n.Text.Trim()).ToImmutableArray() : [],
            Algorithm = algorithm,
            Source = sourceNode.Text.Trim(),
            Architectures = archs,
            DataTypes = dtypes,
        };
        if (algorithm == KernelAlgorithm.Unfused)
        {
            if (node.Opt("head_dims") is { } hd) throw hd.Error("unfused kernels take any head dimension; head_dims applies to flash families");
            return family with
            {
                GemmEfficiency = Factor(node.Req("gemm_efficiency")),
                PackedQkvInput = node.OptBool("packed_qkv_input") ?? false,
                EagerBandwidthEfficiency = node.Opt("eager_bandwidth_efficiency") is { } ebe ? Factor(ebe) : null,
            };
        }

        var mmaNode = node.Req("mma");
        var mma = mmaNode.Text.Trim() switch
        {
            "mma_sync" => MmaClass.MmaSync,
            "wgmma" => MmaClass.Wgmma,
            "tcgen05" => MmaClass.Tcgen05,
            var other => throw mmaNode.Error($"unknown mma class '{other}' (expected mma_sync, wgmma or tcgen05)"),
        };
        var split = node.OptString("warp_split") ?? "queries";
        if (split is not ("queries" or "keys")) throw node.Req("warp_split").Error("expected queries or keys");
        var order = node.OptString("causal_order") ?? "ascending";
        if (order is not ("ascending" or "heaviest_first")) throw node.Req("causal_order").Error("expected ascending or heaviest_first");
        var loopOrder = node.OptString("loop_order") ?? "q_outer";
        if (loopOrder is not ("q_outer" or "kv_outer")) throw node.Req("loop_order").Error("expected q_outer or kv_outer");
        if ((split == "keys") != (loopOrder == "kv_outer"))
            throw node.Req("warp_split").Error("warps split the keys exactly in the kv_outer (FlashAttention-1) loop order");
        var bwdPar = (node.OptString("bwd_parallelism") ?? "key_blocks") switch
        {
            "key_blocks" => BackwardParallelism.KeyBlocks,
            "per_head" => BackwardParallelism.PerHead,
            "fastest" => BackwardParallelism.Fastest,
            _ => throw node.Req("bwd_parallelism").Error("expected key_blocks, per_head or fastest"),
        };
        var dqAcc = (node.OptString("dq_accumulation") ?? "atomic_fp32") switch
        {
            "atomic_fp32" => DqAccumulation.AtomicFp32,
            "rmw_fp32" => DqAccumulation.RmwFp32,
            "rmw_input" => DqAccumulation.RmwInput,
            "replicas" => DqAccumulation.Replicas,
            _ => throw node.Req("dq_accumulation").Error("expected atomic_fp32, rmw_fp32, rmw_input or replicas"),
        };
        if (bwdPar == BackwardParallelism.PerHead && dqAcc is DqAccumulation.AtomicFp32 or DqAccumulation.Replicas)
            throw node.Req("dq_accumulation").Error("one CTA per head accumulates dQ by read-modify-write (rmw_fp32 or rmw_input)");
        var partition = node.OptString("decode_partition") ?? "split_kv";
        if (partition is not ("split_kv" or "stream_k")) throw node.Req("decode_partition").Error("expected split_kv or stream_k");
        var forward = ParsePass(node.Req("fwd"), forward: true);
        return family with
        {
            HeadDims = ParseHeadDims(node.Req("head_dims"), sources, forward.MaxHeadDim),
            Mma = mma,
            WarpsSplitKeys = split == "keys",
            LoopOrder = loopOrder == "kv_outer" ? LoopOrder.KvOuter : LoopOrder.QueryOuter,
            BackwardParallelism = bwdPar,
            DqAccumulation = dqAcc,
            WarpSpecialised = node.OptBool("warp_specialised") ?? false,
            PingPong = node.OptBool("pingpong") ?? false,
            IntraWarpgroupPipelining = node.OptBool("intra_warpgroup_pipelining") ?? false,
            TwoCtaMmaBackward = node.OptBool("two_cta_mma_bwd") ?? false,
            Persistent = node.OptBool("persistent") ?? false,
            CausalOrder = order == "ascending" ? CausalOrder.Ascending : CausalOrder.HeaviestFirst,
            DecodePartition = partition == "split_kv" ? DecodePartition.SplitKv : DecodePartition.StreamK,
            Forward = forward,
            Backward = ParsePass(node.Req("bwd"), forward: false),
        };
    }

    private static KernelImplements ParseImplements(YNode node, IDictionary<string, string> sources)
    {
        if (!node.IsMapping) throw node.Error("expected {cascade: online_softmax | materialised_softmax, masks: [causal, window, block], source: ...}");
        node.ExpectOnlyKeys("cascade", "masks", "source");
        var cascadeNode = node.Req("cascade");
        var cascade = cascadeNode.Text.Trim() switch
        {
            "online_softmax" => CascadeForm.OnlineSoftmax,
            "materialised_softmax" => CascadeForm.MaterialisedSoftmax,
            var other => throw cascadeNode.Error($"unknown cascade '{other}'{Suggest.DidYouMean(other, ["online_softmax", "materialised_softmax"])} (expected online_softmax or materialised_softmax)"),
        };
        var masks = ImmutableArray.CreateBuilder<string>();
        foreach (var m in node.Req("masks").ItemsOrSingle)
        {
            var name = m.Text.Trim();
            if (!MaskKinds.All.Contains(name))
                throw m.Error($"unknown mask '{name}'{Suggest.DidYouMean(name, MaskKinds.All)} (expected {string.Join(", ", MaskKinds.All)})");
            if (masks.Contains(name)) throw m.Error($"mask '{name}' is listed twice");
            masks.Add(name);
        }
        var sourceNode = node.Req("source");
        if (!sources.ContainsKey(sourceNode.Text.Trim()))
            throw sourceNode.Error($"unknown source '{sourceNode.Text}'{Suggest.DidYouMean(sourceNode.Text.Trim(), sources.Keys)} (define it under `sources`)");
        return new KernelImplements(cascade, masks.ToImmutable(), sourceNode.Text.Trim());
    }

    private static HeadDimSupport ParseHeadDims(YNode node, IDictionary<string, string> sources, int tableMax)
    {
        if (!node.IsMapping) throw node.Error("expected {max: N, multiple_of: M, source: ...} or {values: [...], source: ...}");
        node.ExpectOnlyKeys("max", "multiple_of", "fp8_multiple_of", "values", "source");
        var sourceNode = node.Req("source");
        if (!sources.ContainsKey(sourceNode.Text.Trim()))
            throw sourceNode.Error($"unknown source '{sourceNode.Text}'{Suggest.DidYouMean(sourceNode.Text.Trim(), sources.Keys)} (define it under `sources`)");
        int Positive(YNode n)
        {
            var v = n.AsInt();
            if (v <= 0) throw n.Error($"must be a positive integer, found {v}");
            return v;
        }
        if (node.Opt("values") is { } valuesNode)
        {
            foreach (var k in new[] { "max", "multiple_of", "fp8_multiple_of" })
                if (node.Has(k)) throw node.Error(k, "give either values or max/multiple_of, not both");
            var values = valuesNode.Items.Select(Positive).Distinct().Order().ToImmutableArray();
            if (values.IsEmpty) throw valuesNode.Error("at least one head dimension is required");
            if (values[^1] > tableMax) throw valuesNode.Error($"head dimension {values[^1]} is larger than the largest tile ({tableMax}) of fwd.tiles");
            return new HeadDimSupport(values[^1], 1, 1, values, sourceNode.Text.Trim());
        }
        var maxNode = node.Req("max");
        var max = Positive(maxNode);
        if (max > tableMax) throw maxNode.Error($"{max} is larger than the largest tile ({tableMax}) of fwd.tiles");
        var multiple = node.Opt("multiple_of") is { } m ? Positive(m) : 1;
        var fp8Multiple = node.Opt("fp8_multiple_of") is { } f ? Positive(f) : multiple;
        return new HeadDimSupport(max, multiple, fp8Multiple, [], sourceNode.Text.Trim());
    }

    private static ExplainedFactor Factor(YNode node)
    {
        if (!node.IsMapping) throw node.Error("expected {value: ..., note: ...}: every efficiency factor must be explained");
        node.ExpectOnlyKeys("value", "note");
        var v = node.Req("value").AsDouble();
        if (v is <= 0 or > 1) throw node.Req("value").Error("an efficiency factor must be in (0, 1]");
        var note = node.Req("note").Text.Trim();
        if (note.Length == 0) throw node.Req("note").Error("the explanation must not be empty");
        return new ExplainedFactor(v, note);
    }

    private static ImmutableSortedDictionary<int, TileConfig> Tiles(YNode node)
    {
        if (!node.IsMapping) throw node.Error("expected a mapping head_dim: [Br, Bc, warps]");
        var b = ImmutableSortedDictionary.CreateBuilder<int, TileConfig>();
        foreach (var (key, value) in node.Entries)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.Integer, Invariant.Culture, out var d) || d <= 0)
                throw new InputException(node.KeyLocation(key), node.Path + "." + key, "head dimension must be a positive integer");
            var items = value.Items;
            if (items.Count is not (3 or 5)) throw value.Error("expected [Br, Bc, warps] or [Br, Bc, warps, warps along rows, warps along keys]");
            var br = items[0].AsInt();
            var bc = items[1].AsInt();
            var w = items[2].AsInt();
            if (br <= 0 || bc <= 0 || w <= 0) throw value.Error("tile sizes and warps must be positive");
            var tile = new TileConfig(br, bc, w);
            if (items.Count == 5)
            {
                var wr = items[3].AsInt();
                var wc = items[4].AsInt();
                if (wr <= 0 || wc <= 0 || wr * wc != w) throw value.Error("warps along rows x warps along keys must equal the warps");
                tile = tile with { WarpRows = wr, WarpCols = wc };
            }
            b[d] = tile;
        }
        if (b.Count == 0) throw node.Error("at least one tile is required");
        return b.ToImmutable();
    }

    private static PassConfig ParsePass(YNode node, bool forward)
    {
        if (forward)
            node.ExpectOnlyKeys("tiles", "fp8_tiles", "softmax_alu_ops_per_element", "rescale_ops_per_output_element",
                "rescale_fraction", "exp_hidden_fraction", "exp_emulated_fraction", "exp_poly_fma_ops", "regs_per_thread", "efficiency",
                "p_via_smem", "q_in_registers", "barrier_phases", "software_pipelined", "global_operand_gemms", "pipeline_fill");
        else
            node.ExpectOnlyKeys("tiles", "bwd_alu_ops_per_element", "regs_per_thread", "efficiency",
                "barrier_phases", "software_pipelined", "global_operand_gemms");
        double Frac(string key, double dflt)
        {
            var v = node.OptDouble(key) ?? dflt;
            if (v is < 0 or > 1) throw node.Req(key).Error("must be in [0, 1]");
            return v;
        }
        double NonNeg(string key, double dflt)
        {
            var v = node.OptDouble(key) ?? dflt;
            if (v < 0) throw node.Req(key).Error("must not be negative");
            return v;
        }
        var regs = node.Req("regs_per_thread").AsInt();
        if (regs is < 16 or > 255) throw node.Req("regs_per_thread").Error("must be in [16, 255]");
        return new PassConfig
        {
            Tiles = Tiles(node.Req("tiles")),
            Fp8Tiles = node.Opt("fp8_tiles") is { } f8 ? Tiles(f8) : null,
            AluOpsPerElement = forward ? NonNeg("softmax_alu_ops_per_element", 4) : NonNeg("bwd_alu_ops_per_element", 5),
            RescaleOpsPerOutputElement = NonNeg("rescale_ops_per_output_element", 1),
            RescaleFraction = Frac("rescale_fraction", 1),
            ExpHiddenFraction = Frac("exp_hidden_fraction", 0),
            ExpEmulatedFraction = Frac("exp_emulated_fraction", 0),
            ExpPolyFmaOps = NonNeg("exp_poly_fma_ops", 8),
            RegsPerThread = regs,
            Efficiency = Factor(node.Req("efficiency")),
            PViaSmem = node.OptBool("p_via_smem") ?? false,
            QInRegisters = node.OptBool("q_in_registers") ?? false,
            BarrierPhases = node.OptBool("barrier_phases") ?? false,
            SoftwarePipelined = node.OptBool("software_pipelined") ?? true,
            PipelineFill = node.OptBool("pipeline_fill") ?? false,
            GlobalOperandGemms = node.Opt("global_operand_gemms") is { } gog
                ? (gog.AsInt() is var g && g >= 0 && g <= (forward ? 2 : 5) ? g : throw gog.Error($"must be between 0 and {(forward ? 2 : 5)} (GEMMs per iteration)"))
                : 0,
        };
    }
}
