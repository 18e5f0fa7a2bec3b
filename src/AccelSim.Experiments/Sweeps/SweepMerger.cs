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
    public static MergeResult Merge(IReadOnlyList<string> inputs, string outputDirectory, bool force = false,
        ResultsFolderLock? heldLock = null)
    {
        if (inputs.Count == 0) throw new InputException(null, "merge", "give at least one folder to merge");
        var outFull = Path.GetFullPath(outputDirectory);
        foreach (var input in inputs)
            if (Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar) == outFull.TrimEnd(Path.DirectorySeparatorChar))
                throw new InputException(SourceLocation.FileOnly(input), "--out", "the output folder must differ from the inputs");
        if (heldLock is not null && !heldLock.Covers(outputDirectory))
            throw new ArgumentException($"the held lock is on {heldLock.Directory}, not on {outputDirectory}");
        // Taken before the inputs are read, so the output cannot change under a long merge.
        using var ownLock = heldLock is null ? ResultsFolderLock.Acquire(outputDirectory) : null;

        SweepMetadata? first = null;
        var scanned = new List<ResultsFile.ScannedFile>();
        foreach (var input in inputs)
        {
            var metadataPath = Path.Combine(input, SweepMetadata.FileName);
            var metadata = SweepMetadata.Read(metadataPath);
            if (first is null) first = metadata;
            else if (metadata.SpecHash != first.SpecHash)
                throw new InputException(SourceLocation.FileOnly(metadataPath), "spec_hash",
                    $"comes from another sweep than {inputs[0]} ({metadata.Name} {metadata.SpecHash[..12]} vs {first.Name} {first.SpecHash[..12]})");
            else if (!metadata.Columns.SequenceEqual(first.Columns) || metadata.PointCount != first.PointCount)
                throw new InputException(SourceLocation.FileOnly(metadataPath), "columns",
                    $"the columns or point count differ from {Path.Combine(inputs[0], SweepMetadata.FileName)}, though the spec hash is the same; the file was edited");

            var results = Path.Combine(input, SweepMetadata.ResultsFileName);
            if (!File.Exists(results)) continue;
            // Every row is checked (shape, index, shard, id, parameters, duplicates inside the file); identical rows
            // of one point in several inputs are dropped later, different ones refused.
            var file = ResultsFile.Scan(results, RowRules.For(metadata, metadataPath), scanned.Count);
            if (file.HeaderLength == 0) continue;
            scanned.Add(file);
        }

        var outResults = Path.Combine(outputDirectory, SweepMetadata.ResultsFileName);
        if (!force && File.Exists(outResults) && new FileInfo(outResults).Length > 0)
            throw new InputException(SourceLocation.FileOnly(outResults), null, "already exists; pass --force to overwrite it");

        var metadataOut = first! with { Shard = null };
        int rows, duplicates;
        if (scanned.Count == 0)
        {
            File.WriteAllText(outResults, ResultsFile.FormatLine(metadataOut.Columns) + "\n", ResultsFile.Utf8);
            (rows, duplicates) = (0, 0);
        }
        else
        {
            (rows, duplicates) = ResultsFile.WriteCanonical(outResults, scanned);
        }
        metadataOut.Write(Path.Combine(outputDirectory, SweepMetadata.FileName));
        var present = scanned.SelectMany(f => f.Rows.Select(r => r.Index));
        return new MergeResult(outResults, metadataOut.PointCount, rows, duplicates, MissingRanges(present, metadataOut.PointCount));
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
