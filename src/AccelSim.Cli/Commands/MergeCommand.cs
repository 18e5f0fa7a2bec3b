using System.CommandLine;
using AccelSim.Core;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Cli;

/// <summary>`accelsim merge DIR... --out DIR`: joins the shard folders of one sweep into one canonical folder.</summary>
public static class MergeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var inputs = new Argument<string[]>("folders")
        {
            Description = "Shard (or partial) output folders of the same sweep",
            Arity = ArgumentArity.OneOrMore,
        };
        var outOption = CommonOptions.Out("Merged output folder", required: true);
        var force = new Option<bool>("--force") { Description = "Overwrite an existing results.csv in --out" };
        var json = CommonOptions.Json();
        var command = new Command("merge",
            "Join sweep shard folders: checks they come from the same sweep, drops duplicate rows and writes rows in\n" +
            "point order, so the merged folder equals a single run's byte for byte. Exit code 1 if points are missing.\n" +
            "Example: accelsim merge results/roofline-gemm/shard-* --out results/roofline-gemm/all   # after the `accelsim sweep --shard` examples")
        {
            inputs, outOption, force, json,
        };
        command.SetAction(parse =>
        {
            OutputPaths.Folder(parse.GetValue(outOption)!, "--out");
            var result = SweepMerger.Merge(parse.GetValue(inputs)!, parse.GetValue(outOption)!, parse.GetValue(force));
            var missing = string.Join(", ", result.MissingRanges.Take(8).Select(r => r.From == r.To
                ? Invariant.Num(r.From) : $"{Invariant.Num(r.From)}-{Invariant.Num(r.To)}")) + (result.MissingRanges.Count > 8 ? ", ..." : "");
            if (parse.GetValue(json))
                CommonOptions.WriteJson(stdout, new
                {
                    results = result.ResultsPath,
                    points = result.PointCount,
                    result.Rows,
                    duplicates_dropped = result.DuplicatesDropped,
                    result.Missing,
                    missing_ranges = result.MissingRanges.Select(r => new[] { r.From, r.To }),
                    result.Complete,
                });
            else
                stdout.WriteLine($"merged {Invariant.Grouped(result.Rows)} of {Invariant.Grouped(result.PointCount)} points into {result.ResultsPath}" +
                                 (result.DuplicatesDropped > 0 ? $" ({Invariant.Grouped(result.DuplicatesDropped)} duplicate rows dropped)" : ""));
            if (result.Complete) return ExitCodes.Ok;
            stderr.WriteLine($"incomplete: {Invariant.Grouped(result.Missing)} points missing (points {missing}); rerun the shards that hold them with --resume");
            return ExitCodes.Failure;
        });
        return command;
    }
}
