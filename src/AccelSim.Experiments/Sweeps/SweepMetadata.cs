using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using AccelSim.Core;
using AccelSim.Experiments.Plots;

namespace AccelSim.Experiments.Sweeps;

/// <summary>
/// `DIR/sweep.json`: what produced `DIR/results.csv`. Resume and merge compare <see cref="SpecHash"/>; reports and
/// plots read the parameter columns, metric units and baseline from it, so they need neither the sweep file nor
/// the engine. Deterministic (no timestamps), so a merged folder equals a single run's byte for byte.
/// </summary>
public sealed record SweepMetadata
{
    public const int CurrentFormat = 1;
    public const string FileName = "sweep.json";
    public const string ResultsFileName = "results.csv";

    public int Format { get; init; } = CurrentFormat;
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    /// <summary>The sweep file's name (no folder, so shards run from different folders agree).</summary>
    public required string SweepFile { get; init; }
    public required string Engine { get; init; }
    public required string SpecHash { get; init; }
    public required int PointCount { get; init; }
    /// <summary>`i/N` for a shard folder, null for a whole sweep (and for merged folders).</summary>
    public string? Shard { get; init; }
    public required ImmutableArray<string> Columns { get; init; }
    public required ImmutableArray<MetadataParameter> Parameters { get; init; }
    public required ImmutableArray<MetadataMetric> Metrics { get; init; }
    public ImmutableArray<MetadataAssignment> Fixed { get; init; } = [];
    public ImmutableArray<MetadataAssignment> Files { get; init; } = [];
    public ImmutableArray<MetadataAssignment> Options { get; init; } = [];
    public ImmutableArray<MetadataAssignment> Baseline { get; init; } = [];
    public ImmutableArray<PlotRequest> Plots { get; init; } = [];

    /// <summary>At most this many values of each parameter are listed (the count is always exact).</summary>
    public const int MaxListedValues = 64;

    public static SweepMetadata From(SweepSpec spec, ShardSpec? shard) => new()
    {
        Name = spec.Name,
        Description = spec.Description,
        SweepFile = Path.GetFileName(spec.File),
        Engine = spec.Engine,
        SpecHash = spec.SpecHash,
        PointCount = spec.PointCount,
        Shard = shard?.ToString(),
        Columns = spec.Columns,
        Parameters = [.. spec.Parameters.Select(p =>
        {
            var axis = spec.Axes[p.Axis];
            return new MetadataParameter(p.Column, p.Axis, axis.Count,
                [.. axis.Entries.Take(MaxListedValues).Select(e => e[p.PositionInAxis])]);
        })],
        Metrics = [.. spec.Metrics.Select(m => new MetadataMetric(m.Name, m.Unit, m.Kind, m.Description))],
        Fixed = [.. spec.FixedParameters.Select(f => new MetadataAssignment(f.Name.Name, f.Value))],
        Files = [.. spec.Archs.Select(f => new MetadataAssignment("arch:" + f.Name, f.WrittenPath))
            .Concat(spec.Workloads.Select(f => new MetadataAssignment("workload:" + f.Name, f.WrittenPath)))],
        Options = [.. spec.Options.Select(o => new MetadataAssignment(o.Key, o.Value))],
        Baseline = [.. spec.Baseline.Select(b => new MetadataAssignment(b.Key, b.Value))],
        Plots = spec.Plots,
    };

    public IEnumerable<MetricInfo> MetricInfos() => Metrics.Select(m => new MetricInfo(m.Name, m.Unit, m.Kind, m.Description));

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NewLine = "\n",
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions) + "\n";

    public void Write(string path)
    {
        var json = ToJson();
        if (File.Exists(path) && File.ReadAllText(path) == json) return;
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, json);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads `sweep.json`; a missing or unreadable file is a one-line input error.</summary>
    public static SweepMetadata Read(string path)
    {
        if (!File.Exists(path))
            throw new InputException(SourceLocation.FileOnly(path), null, "not found (is this a sweep output folder?)");
        try
        {
            var metadata = JsonSerializer.Deserialize<SweepMetadata>(File.ReadAllText(path), JsonOptions)
                           ?? throw new InputException(SourceLocation.FileOnly(path), null, "empty sweep metadata");
            if (metadata.Format != CurrentFormat)
                throw new InputException(SourceLocation.FileOnly(path), "format",
                    $"sweep metadata format {metadata.Format} is not supported (expected {CurrentFormat})");
            return metadata;
        }
        catch (JsonException e)
        {
            var loc = new SourceLocation(path, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
            throw new InputException(loc, e.Path, "malformed sweep metadata: " + e.Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>Reads `sweep.json` next to a results CSV, or null when there is none.</summary>
    public static SweepMetadata? TryReadBeside(string csvPath)
    {
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(csvPath)) ?? ".", FileName);
        return File.Exists(path) ? Read(path) : null;
    }
}

public sealed record MetadataParameter(string Name, int Axis, int Count, ImmutableArray<string> Values);

public sealed record MetadataMetric(string Name, string Unit, MetricKind Kind, string Description);

public sealed record MetadataAssignment(string Name, string Value);
