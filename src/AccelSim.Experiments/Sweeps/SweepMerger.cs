using AccelSim.Core;

namespace AccelSim.Experiments.Sweeps;

public sealed record MergeResult(string ResultsPath, int PointCount, int Rows, int DuplicatesDropped, IReadOnlyList<(int From, int To)> MissingRanges)
{
    public int Missing => PointCount - Rows;
    public bool Complete => Missing == 0;
}

/// <summary>
/// `accelsim merge DIR... --out DIR`: joins shard (or partial) folders of one sweep. All inputs must carry the
/// same spec hash and header; identical duplicate rows are dropped, conflicting ones are an error; rows come out
/// in canonical order, so merging the shards of a sweep gives byte for byte the folder a single run gives.
/// </summary>
public static class SweepMerger
{
    public static MergeResult Merge(IReadOnlyList<string> inputs, string outputDirectory, bool force = false)
    {
        if (inputs.Count == 0) throw new InputException(null, "merge", "give at least one folder to merge");
        var outFull = Path.GetFullPath(outputDirectory);
        foreach (var input in inputs)
            if (Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar) == outFull.TrimEnd(Path.DirectorySeparatorChar))
                throw new InputException(SourceLocation.FileOnly(input), "--out", "the output folder must differ from the inputs");

        SweepMetadata? first = null;
        string? header = null;
        var rows = new Dictionary<int, (string Line, string From)>();
        var duplicates = 0;
        foreach (var input in inputs)
        {
            var metadataPath = Path.Combine(input, SweepMetadata.FileName);
            var metadata = SweepMetadata.Read(metadataPath);
            if (first is null) first = metadata;
            else if (metadata.SpecHash != first.SpecHash)
                throw new InputException(SourceLocation.FileOnly(metadataPath), "spec_hash",
                    $"comes from another sweep than {inputs[0]} ({metadata.Name} {metadata.SpecHash[..12]} vs {first.Name} {first.SpecHash[..12]})");

            var results = Path.Combine(input, SweepMetadata.ResultsFileName);
            if (!File.Exists(results)) continue;
            var inputHeader = File.ReadLines(results, ResultsFile.Utf8).FirstOrDefault();
            if (inputHeader is null) continue;
            header ??= inputHeader;
            if (inputHeader != header)
                throw new InputException(new SourceLocation(results, 1, 1), null, $"header differs from the other inputs'");

            foreach (var (index, line) in ResultsFile.ReadRows(results))
            {
                if (index < 0 || index >= metadata.PointCount)
                    throw new InputException(SourceLocation.FileOnly(results), null, $"point {index} is outside the sweep");
                if (rows.TryGetValue(index, out var existing))
                {
                    if (existing.Line != line)
                        throw new InputException(SourceLocation.FileOnly(results), null,
                            $"point {index} differs from the row in {existing.From}; the engine is not deterministic or the folders were edited");
                    duplicates++;
                    continue;
                }
                rows.Add(index, (line, results));
            }
        }

        Directory.CreateDirectory(outputDirectory);
        var outResults = Path.Combine(outputDirectory, SweepMetadata.ResultsFileName);
        if (!force && File.Exists(outResults) && new FileInfo(outResults).Length > 0)
            throw new InputException(SourceLocation.FileOnly(outResults), null, "already exists; pass --force to overwrite it");

        var metadataOut = first! with { Shard = null };
        header ??= ResultsFile.FormatLine(metadataOut.Columns);
        ResultsFile.WriteCanonical(outResults, header, [.. rows.Select(kv => (kv.Key, kv.Value.Line))]);
        metadataOut.Write(Path.Combine(outputDirectory, SweepMetadata.FileName));
        return new MergeResult(outResults, metadataOut.PointCount, rows.Count, duplicates, MissingRanges(rows.Keys, metadataOut.PointCount));
    }

    private static List<(int From, int To)> MissingRanges(IEnumerable<int> present, int count)
    {
        var have = new bool[count];
        foreach (var i in present) have[i] = true;
        var ranges = new List<(int, int)>();
        for (var i = 0; i < count; i++)
        {
            if (have[i]) continue;
            var start = i;
            while (i + 1 < count && !have[i + 1]) i++;
            ranges.Add((start, i));
        }
        return ranges;
    }
}
