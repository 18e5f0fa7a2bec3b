using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Mapping.MapSpaces;

/// <summary>Which loop slot of a level a factor constraint applies to.</summary>
public enum FactorSlot
{
    /// <summary>The level's temporal loops.</summary>
    Temporal,
    /// <summary>The fan-out below the level along mesh X.</summary>
    SpatialX,
    /// <summary>The fan-out below the level along mesh Y.</summary>
    SpatialY,
    /// <summary>The whole fan-out below the level (the product of X and Y), as Timeloop's `type: spatial` factors.</summary>
    Spatial,
}

/// <summary>How a factor constraint bounds a loop: exactly, at most, at least, or "whatever the other levels leave".</summary>
public enum FactorKind { Fixed, Max, Min, Rest }

/// <summary>A mesh axis a rank may use for a level's fan-out.</summary>
public enum MeshAxis { X, Y }

/// <summary>
/// One user constraint on the map-space. Constraints from several files are concatenated; each keeps where it was
/// written so that conflicts and empty spaces can be reported as `FILE:LINE:COL: field: problem`.
/// </summary>
public abstract record MapDirective(string Level, SourceLocation? Location, string Field)
{
    public InputException Error(string problem) => new(Location, Field, problem);
}

/// <summary>`DIM=N`, `DIM<=N`, `DIM>=N` or `DIM=rest` on one slot of a level.</summary>
public sealed record FactorDirective(string Level, FactorSlot Slot, string Dim, FactorKind Kind, long Value, SourceLocation? Location, string Field)
    : MapDirective(Level, Location, Field);

/// <summary>Restricts the mesh axis a rank may use for the fan-out below <see cref="MapDirective.Level"/>.</summary>
public sealed record AxisDirective(string Level, string Dim, MeshAxis Axis, SourceLocation? Location, string Field)
    : MapDirective(Level, Location, Field);

/// <summary>Ranks allowed on one mesh axis below a level; every other rank has factor 1 on that axis.</summary>
public sealed record SpatialRanksDirective(string Level, MeshAxis Axis, ImmutableArray<string> Dims, SourceLocation? Location, string Field)
    : MapDirective(Level, Location, Field);

/// <summary>The allowed temporal loop orders of a level (any one of <see cref="Alternatives"/>).</summary>
public sealed record OrderDirective(string Level, ImmutableArray<OrderPattern> Alternatives, SourceLocation? Location, string Field)
    : MapDirective(Level, Location, Field);

/// <summary>A tensor the level must keep (<see cref="Keep"/> true) or must bypass.</summary>
public sealed record KeepDirective(string Level, string Tensor, bool Keep, SourceLocation? Location, string Field)
    : MapDirective(Level, Location, Field);

/// <summary>Minimum spatial utilisation: busy compute units / all compute units.</summary>
public sealed record MinUtilizationDirective(double Fraction, SourceLocation? Location, string Field)
    : MapDirective("", Location, Field);

/// <summary>
/// A loop-order pattern, outermost first: <see cref="Outer"/> loops, then the remaining loops in any order, then
/// <see cref="Inner"/> loops. Loops of factor 1 are ignored when matching, so a pattern only constrains real loops.
/// Without a wildcard the pattern is exact (<see cref="Wildcard"/> false, every loop in <see cref="Outer"/>).
/// </summary>
public sealed record OrderPattern(ImmutableArray<string> Outer, bool Wildcard, ImmutableArray<string> Inner)
{
    public override string ToString() =>
        string.Join(" ", Outer.Concat(Wildcard ? new[] { "*" } : Array.Empty<string>()).Concat(Inner));
}

/// <summary>All user constraints on one map-space, in the order they were read.</summary>
public sealed record MapSpaceConstraints(ImmutableArray<MapDirective> Directives, ImmutableArray<string> Files)
{
    public static MapSpaceConstraints None { get; } = new(ImmutableArray<MapDirective>.Empty, ImmutableArray<string>.Empty);

    public MapSpaceConstraints Concat(MapSpaceConstraints other) =>
        new(Directives.AddRange(other.Directives), Files.AddRange(other.Files));

    public bool IsEmpty => Directives.IsEmpty;
}
