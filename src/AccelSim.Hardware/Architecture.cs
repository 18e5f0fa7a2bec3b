using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Hardware;

/// <summary>An energy (pJ) or area value with where it came from.</summary>
public readonly record struct Sourced(double Value, string? Source)
{
    public static Sourced Zero => new(0, null);
}

/// <summary>How a level turns scalar accesses into priced block (vector) accesses.</summary>
public enum BlockPricing
{
    /// <summary>Each action separately: ceil(reads / block) x read energy + ceil(fills / block) x write energy + ceil(updates / block) x update energy.</summary>
    PerAction,
    /// <summary>
    /// Legacy Timeloop (v0.x/v1, the model behind the v0.2/v0.3 tutorial outputs): one ceil over all of a tensor's
    /// accesses, ceil((reads + fills + updates) / block), each at the one vector-access energy.
    /// </summary>
    SharedVector,
}

/// <summary>
/// One storage level (DRAM, SRAM buffer, register file). Counts are in words of <see cref="WordBits"/> bits;
/// energies are per block access (<see cref="BlockSize"/> words), as in Accelergy's reference tables.
/// <see cref="EnergyKnown"/> is false when no table gave this level an energy (then the energies are placeholders).
/// </summary>
public sealed record StorageLevel(
    string Name,
    string Class,
    string? Parent,
    long? CapacityWords,
    int WordBits,
    int BlockSize,
    double? ReadBandwidth,
    double? WriteBandwidth,
    double? SharedBandwidth,
    int Instances,
    int MeshX,
    double MultipleBuffering,
    ImmutableArray<string>? MayHold,
    Sourced ReadEnergy,
    Sourced WriteEnergy,
    Sourced UpdateEnergy,
    Sourced LeakPerCycle,
    Sourced AreaUm2,
    SourceLocation? Location = null,
    bool EnergyKnown = true,
    BlockPricing Pricing = BlockPricing.PerAction)
{
    public int MeshY => MeshX == 0 ? 0 : Instances / MeshX;
    public bool IsDram => Class.Equals("dram", StringComparison.OrdinalIgnoreCase);

    /// <summary>Capacity available to tiles, after multiple buffering (null = unbounded).</summary>
    public long? EffectiveCapacityWords =>
        CapacityWords is { } c ? (long)Math.Floor(c / Math.Max(1.0, MultipleBuffering)) : null;

    public bool MayHoldTensor(string tensor) => MayHold is not { } names || names.Contains(tensor);
}

/// <summary>How one operator kind (mac, add, max, exp, div, ...) executes on a compute unit.</summary>
public sealed record ComputeOperation(string Kind, double Cycles, ImmutableArray<ActionCount> Actions, string? Source);

public readonly record struct ActionCount(string Action, double Count);

/// <summary>An array of identical compute units (a 2D PE array, a 1D vector array, special-function units).</summary>
public sealed record ComputeUnit(
    string Name,
    string Parent,
    int Instances,
    int MeshX,
    ImmutableDictionary<string, Sourced> ActionEnergy,
    ImmutableArray<ComputeOperation> Operations,
    Sourced LeakPerCycle,
    Sourced AreaUm2,
    SourceLocation? Location = null,
    bool EnergyKnown = true)
{
    public int MeshY => MeshX == 0 ? 0 : Instances / MeshX;

    /// <summary>False when an operation uses an action that has no energy, or no table gave the unit energies.</summary>
    public bool HasEnergyFor(string kind) =>
        EnergyKnown && (Find(kind) is not { } op || op.Actions.All(a => ActionEnergy.ContainsKey(a.Action)));

    public ComputeOperation? Find(string kind) =>
        Operations.FirstOrDefault(o => o.Kind.Equals(kind, StringComparison.OrdinalIgnoreCase));

    /// <summary>Energy of one operation of <paramref name="kind"/> (sum of its actions), or null if unsupported.</summary>
    public double? EnergyOf(string kind)
    {
        if (Find(kind) is not { } op) return null;
        double e = 0;
        foreach (var a in op.Actions)
            e += a.Count * (ActionEnergy.TryGetValue(a.Action, out var v) ? v.Value : 0);
        return e;
    }
}

/// <summary>
/// A spatial accelerator: a tree of storage levels (root = backing store) whose leaves feed compute units.
/// One Einsum runs on one compute unit; <see cref="PathTo"/> gives the chain of levels it sees.
/// </summary>
public sealed record Architecture(
    string Name,
    double ClockHz,
    double TechnologyNm,
    ImmutableArray<StorageLevel> Storage,
    ImmutableArray<ComputeUnit> Compute,
    string? Source = null,
    string? File = null)
{
    public StorageLevel? FindLevel(string name) =>
        Storage.FirstOrDefault(l => l.Name.Equals(name, StringComparison.Ordinal));

    /// <summary>The compute unit to use: the named one, or the first unit that performs every kind needed.</summary>
    public ComputeUnit SelectCompute(string? name, IEnumerable<string> kindsNeeded)
    {
        if (Compute.Length == 0) throw new InputException(File is null ? null : SourceLocation.FileOnly(File), "compute", "the architecture has no compute unit");
        if (name is not null)
            return Compute.FirstOrDefault(c => c.Name == name)
                   ?? throw new InputException(File is null ? null : SourceLocation.FileOnly(File), "compute",
                       $"unknown compute unit '{name}' (have: {string.Join(", ", Compute.Select(c => c.Name))})");
        var kinds = kindsNeeded.ToList();
        foreach (var c in Compute)
            if (kinds.All(k => c.Find(k) is not null)) return c;
        return Compute[0];
    }

    /// <summary>The storage levels from the root down to the level that feeds <paramref name="compute"/>.</summary>
    public ArchPath PathTo(ComputeUnit compute)
    {
        var chain = new List<StorageLevel>();
        var cur = FindLevel(compute.Parent)
                  ?? throw new InputException(compute.Location, $"compute.{compute.Name}.parent", $"unknown storage level '{compute.Parent}'");
        while (true)
        {
            chain.Add(cur);
            if (cur.Parent is null) break;
            cur = FindLevel(cur.Parent)
                  ?? throw new InputException(cur.Location, $"storage.{cur.Name}.parent", $"unknown storage level '{cur.Parent}'");
            if (chain.Count > Storage.Length) throw new InputException(cur.Location, $"storage.{cur.Name}.parent", "the parent links form a cycle");
        }
        chain.Reverse();
        return new ArchPath(this, chain.ToImmutableArray(), compute);
    }

    /// <summary>Components on any path that have no energy (no table, no ERT entry): energy is then unavailable.</summary>
    public IEnumerable<string> ComponentsWithoutEnergy =>
        Storage.Where(l => !l.EnergyKnown).Select(l => l.Name)
            .Concat(Compute.Where(c => !c.EnergyKnown || c.Operations.Any(o => !c.HasEnergyFor(o.Kind))).Select(c => c.Name));

    public double TotalAreaUm2 =>
        Storage.Sum(l => l.AreaUm2.Value * l.Instances) + Compute.Sum(c => c.AreaUm2.Value * c.Instances);
}

/// <summary>The linear chain root -> ... -> innermost storage -> compute used by one Einsum.</summary>
public sealed record ArchPath(Architecture Architecture, ImmutableArray<StorageLevel> Levels, ComputeUnit Compute)
{
    public int LevelCount => Levels.Length;

    /// <summary>Names of the path's components that have no energy, for "no energy table for X" messages.</summary>
    public IReadOnlyList<string> ComponentsWithoutEnergy(IEnumerable<string> kindsUsed) =>
        Levels.Where(l => !l.EnergyKnown).Select(l => l.Name)
            .Concat(kindsUsed.Any(k => !Compute.HasEnergyFor(k)) ? new[] { Compute.Name } : Array.Empty<string>()).ToList();

    public int IndexOf(string levelName)
    {
        for (int i = 0; i < Levels.Length; i++)
            if (Levels[i].Name == levelName) return i;
        return -1;
    }

    /// <summary>Spatial fan-out below level <paramref name="level"/> along mesh X (the last level fans out to compute).</summary>
    public int FanoutX(int level)
    {
        var outer = Levels[level].MeshX;
        var inner = level + 1 < Levels.Length ? Levels[level + 1].MeshX : Compute.MeshX;
        return Math.Max(1, inner / Math.Max(1, outer));
    }

    public int FanoutY(int level)
    {
        var outer = Levels[level].MeshY;
        var inner = level + 1 < Levels.Length ? Levels[level + 1].MeshY : Compute.MeshY;
        return Math.Max(1, inner / Math.Max(1, outer));
    }
}
