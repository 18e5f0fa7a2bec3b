using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Loading;

/// <summary>Loads workload YAML files (and optional model shape files) into bound cascades.</summary>
public static class WorkloadLoader
{
    /// <summary>Loads and binds a workload. <paramref name="modelFile"/> replaces the workload's own `model:` default.</summary>
    public static Cascade Load(string path, IReadOnlyDictionary<string, string>? overrides = null, string? modelFile = null)
    {
        var spec = LoadSpec(path);
        return Bind(spec, overrides, modelFile);
    }

    public static WorkloadSpec LoadSpec(string path) => WorkloadSpec.Parse(YNode.LoadFile(path));

    public static Cascade Bind(WorkloadSpec spec, IReadOnlyDictionary<string, string>? overrides = null, string? modelFile = null)
    {
        var model = modelFile ?? spec.ModelFile;
        IReadOnlyList<ParamSource>? modelParams = model is null ? null : LoadModelParams(model);
        return CascadeBinder.Bind(spec, overrides, modelParams);
    }

    /// <summary>
    /// A model shape file (`workloads/models/*.yaml`) is a named set of parameters (d_model, heads, head_dim, ...).
    /// A workload takes the values of the parameters it declares; the others are ignored.
    /// </summary>
    public static ImmutableArray<ParamSource> LoadModelParams(string path)
    {
        var root = YNode.LoadFile(path);
        root.ExpectOnlyKeys("name", "description", "source", "params");
        return [.. root.Req("params").Entries.Select(kv => WorkloadSpec.ParamFromNode(kv.Key, kv.Value, "model " + path))];
    }

    /// <summary>
    /// Parses `name=value` pairs from `--set` options. `workload.params.name=value` (the sweep spelling of the same
    /// parameter) is accepted too, so one spelling works in every verb.
    /// </summary>
    public static ImmutableDictionary<string, string> ParseOverrides(IEnumerable<string>? assignments)
    {
        var result = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var a in assignments ?? [])
        {
            var eq = a.IndexOf('=');
            if (eq <= 0 || eq == a.Length - 1)
                throw new InputException(null, "--set", $"expected name=value, got '{a}'");
            var name = a[..eq].Trim();
            if (name.StartsWith("workload.params.", StringComparison.Ordinal)) name = name["workload.params.".Length..];
            result[name] = a[(eq + 1)..].Trim();
        }
        return result.ToImmutable();
    }
}
