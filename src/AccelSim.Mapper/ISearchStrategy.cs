using AccelSim.Core;
using AccelSim.Mapping.MapSpaces;

namespace AccelSim.Mapper;

/// <summary>Settings every strategy reads.</summary>
public sealed record SearchSettings(long? Budget, long Seed)
{
    public static SearchSettings Default { get; } = new(null, 0);
}

/// <summary>
/// A search strategy: runs one or more deterministic <see cref="SearchPlan"/>s on the engine (which prices through the
/// model) and combines their outcomes.
/// </summary>
public interface ISearchStrategy
{
    string Name { get; }
    string Description { get; }
    SearchOutcome Search(SearchEngine engine, SearchSettings settings);
}

/// <summary>The strategies by name (`--search NAME`).</summary>
public static class SearchStrategies
{
    public static IReadOnlyList<ISearchStrategy> All { get; } = new ISearchStrategy[]
    {
        new GuidedSearch(),
        new ExhaustiveSearch(),
        new RandomSearch(),
    };

    public static ISearchStrategy Create(string name) =>
        All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new InputException(null, "--search", $"unknown search '{name}' (expected {string.Join(", ", All.Select(s => s.Name))})");
}
