namespace AccelSim.Model;

/// <summary>Why a compact mapping could not be evaluated.</summary>
public enum EvalStatus
{
    Valid = 0,
    FactorMismatch,
    SpatialOverflowX,
    SpatialOverflowY,
    KeepViolation,
    CapacityExceeded,
}

/// <summary>
/// Caller-owned buffer that <see cref="ModelContext.Evaluate"/> fills in place: per (level, tensor) counts are at
/// index <c>level * TensorCount + tensor</c>, per level values at <c>level</c>. Create one per thread with
/// <see cref="ModelContext.CreateResult"/> and reuse it; evaluation allocates nothing.
/// </summary>
public sealed class EvalResult
{
    internal EvalResult(int levels, int dims, int tensors, int maxRanks)
    {
        Levels = levels;
        Tensors = tensors;
        int lt = levels * tensors;
        TileWords = new long[lt];
        Reads = new long[lt];
        Fills = new long[lt];
        Updates = new long[lt];
        Partition = new long[lt];
        DistinctChildren = new long[lt];
        ChildInstances = new long[lt];
        ReadEnergy = new double[lt];
        FillEnergy = new double[lt];
        UpdateEnergy = new double[lt];
        CapacityUsed = new long[levels];
        UtilizedInstances = new long[levels + 1];
        LevelCycles = new double[levels];
        LevelLeakEnergy = new double[levels];
        Ext = new long[(levels + 1) * dims];
        LoopDim = new int[levels * dims];
        LoopFactor = new long[levels * dims];
        LoopStride = new long[levels * dims];
        LoopStart = new int[levels + 1];
        RankLen = new long[tensors * maxRanks];
        Distinct = new long[lt];
        int states = 2 * maxRanks + 1;
        int maxLoops = levels * dims + 1;
        StepKind = new byte[maxLoops];
        StepGrad = new byte[maxLoops];
        StepPoints = new long[maxLoops];
        MemoSum = new long[maxLoops * states];
        MemoOut = new byte[maxLoops * states];
        MemoStamp = new int[maxLoops * states];
        Reset = new long[maxRanks];
        Keys = new long[64];
        NonEmptyTiles = new long[levels + 1];
        Tiles = new long[levels + 1];
    }

    public int Levels { get; }
    public int Tensors { get; }

    public EvalStatus Status;
    /// <summary>Level (and for capacity, words needed) of the first violation.</summary>
    public int FailedLevel;
    public int FailedDim;
    public long FailedNeed;

    /// <summary>Tile size (words) a level instance holds for a kept tensor, 0 if bypassed.</summary>
    public readonly long[] TileWords;
    /// <summary>Per-instance scalar reads, fills and updates, Timeloop's legacy conventions.</summary>
    public readonly long[] Reads, Fills, Updates;
    /// <summary>Distinct points of the tensor one instance sees over the whole run.</summary>
    public readonly long[] Partition;
    /// <summary>How many distinct data requests the level's child instances make per level instance (copies after multicast).</summary>
    public readonly long[] DistinctChildren;
    /// <summary>Child instances (next keeping level, or compute units) served by one instance of the level.</summary>
    public readonly long[] ChildInstances;
    /// <summary>Energy (pJ, all utilized instances) of reads, fills and updates.</summary>
    public readonly double[] ReadEnergy, FillEnergy, UpdateEnergy;
    public readonly long[] CapacityUsed;
    /// <summary>Utilized instances of each level; the last entry is the number of busy compute units.</summary>
    public readonly long[] UtilizedInstances;
    /// <summary>Cycles each level needs for its traffic at its bandwidth (0 when unlimited).</summary>
    public readonly double[] LevelCycles;
    public readonly double[] LevelLeakEnergy;

    public long TemporalIterations;
    /// <summary>
    /// Temporal iterations the compute units run: all of them, less those whose points the problem's mask leaves
    /// empty on every busy unit (equal to <see cref="TemporalIterations"/> for a dense problem).
    /// </summary>
    public long ComputedIterations;
    /// <summary>
    /// Masked problems only: per level, and last for the compute units' steps, the tiles over the mask's dimensions
    /// (<see cref="Tiles"/>) and those holding a required point (<see cref="NonEmptyTiles"/>).
    /// </summary>
    public readonly long[] NonEmptyTiles, Tiles;
    public double ComputeCycles;
    public double Cycles;
    public double Utilization;
    public double SpatialUtilization;
    public double ComputeEnergy;
    public double LeakEnergy;
    /// <summary>Total energy (pJ); meaningless unless <see cref="EnergyKnown"/>.</summary>
    public double EnergyPJ;
    /// <summary>False when a component on the path has no energy table: energy is then unavailable, not zero.</summary>
    public bool EnergyKnown;
    public double OffChipBytes;
    public double Operations;

    // Scratch (not part of the result).
    internal readonly long[] Ext;
    internal readonly int[] LoopDim;
    internal readonly long[] LoopFactor, LoopStride;
    internal readonly int[] LoopStart;
    internal readonly long[] RankLen;
    internal readonly long[] Distinct;
    internal readonly byte[] StepKind, StepGrad;
    internal readonly long[] StepPoints;
    internal readonly long[] MemoSum;
    internal readonly byte[] MemoOut;
    internal readonly int[] MemoStamp;
    internal int Stamp;
    internal readonly long[] Reset;
    internal long[] Keys;
}
