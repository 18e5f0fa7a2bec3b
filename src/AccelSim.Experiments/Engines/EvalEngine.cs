using AccelSim.Core;
using AccelSim.Model;

namespace AccelSim.Experiments.Engines;

/// <summary>
/// What `accelsim eval` was asked: the files and `--set` assignments every engine reads (<see cref="EvalRequest"/>),
/// and the engine options given (`--kernel fa3`, `--direction fwd`, ...), by option name.
/// </summary>
public sealed record EvalInput(EvalRequest Request, IReadOnlyDictionary<string, string> EngineOptions)
{
    public string? Option(string name) => EngineOptions.TryGetValue(name, out var v) ? v : null;
}

/// <summary>What one engine priced, as text and as JSON, with the warnings that go to stderr.</summary>
public sealed record EngineReport(string Engine, string Text, string Json, IReadOnlyList<string> Warnings);

/// <summary>
/// One engine behind `eval`. Each follows the same pipeline, in this order:
/// bind the workload (the cascade W with its parameters and model shape) -> apply the mapping for the target
/// (a loop nest on a spatial array, a study architecture's cascade mapping, a GPU kernel family, SpAtten's pruning)
/// -> price it with the engine's cost model -> report.
/// The architecture file decides the engine (<see cref="Accepts"/>); options an engine does not read are refused.
/// </summary>
public interface IEvalEngine
{
    string Name { get; }

    /// <summary>The architecture files this engine reads, in words (for the "no engine reads" message).</summary>
    string Reads { get; }

    /// <summary>The optional inputs it reads besides --arch/--workload/--model/--set (e.g. --mapping, --kernel).</summary>
    IReadOnlyList<string> Options { get; }

    bool Accepts(string archFile);

    EngineReport Evaluate(EvalInput input);
}

/// <summary>The engines `eval` knows, in the order they are asked whether they read an architecture file.</summary>
public static class EvalEngines
{
    public static readonly IReadOnlyList<IEvalEngine> All =
    [
        new SpatialEvalEngine(),
        new GpuEvalEngine(),
        new CascadeEvalEngine(),
        new Spatten.SpattenEvalEngine(),
    ];

    public static IEvalEngine For(string archFile) =>
        All.FirstOrDefault(e => e.Accepts(archFile))
        ?? throw new InputException(SourceLocation.FileOnly(archFile), "architecture",
            $"no engine reads this architecture (engines: {string.Join("; ", All.Select(e => e.Name + ": " + e.Reads))})");

    /// <summary>Picks the engine for the architecture, refuses options it does not read, and evaluates.</summary>
    public static EngineReport Evaluate(EvalInput input)
    {
        var engine = For(input.Request.ArchFile);
        foreach (var (option, given) in GivenOptions(input))
            if (given && !engine.Options.Contains(option))
                throw new InputException(null, option,
                    $"engine {engine.Name} ({engine.Reads}) does not read {option}" +
                    (engine.Options.Count == 0 ? "" : $" (it reads: {string.Join(", ", engine.Options)})"));
        return engine.Evaluate(input);
    }

    private static IEnumerable<(string Option, bool Given)> GivenOptions(EvalInput input)
    {
        yield return ("--mapping", input.Request.MappingFile is not null);
        yield return ("--einsum", input.Request.Einsum is not null);
        yield return ("--ert", input.Request.ErtFile is not null);
        foreach (var (name, _) in input.EngineOptions) yield return (name, true);
    }

    /// <summary>Whether a YAML file's root is a mapping with <paramref name="key"/> (false for unreadable files).</summary>
    internal static bool RootHas(string file, string key, Func<YNode, bool>? also = null)
    {
        if (!File.Exists(file)) return false;
        try
        {
            var root = YNode.LoadFile(file);
            return root.IsMapping && root.Has(key) && (also is null || also(root));
        }
        catch (InputException)
        {
            return false;
        }
    }
}

/// <summary>A spatial or Timeloop architecture: one Einsum with a loop-nest mapping (<see cref="SpatialEvaluation"/>).</summary>
public sealed class SpatialEvalEngine : IEvalEngine
{
    public string Name => "spatial";
    public string Reads => "spatial and Timeloop architectures";
    public IReadOnlyList<string> Options { get; } = ["--mapping", "--einsum", "--ert"];

    public bool Accepts(string archFile) => SpatialEvaluation.Accepts(archFile);

    public EngineReport Evaluate(EvalInput input)
    {
        var outcome = SpatialEvaluation.Run(input.Request);
        return new EngineReport(Name, CostReportWriter.Text(outcome.Report, outcome.Notes),
            CostReportWriter.Json(outcome.Report, outcome.Notes) + "\n", outcome.Warnings);
    }
}
