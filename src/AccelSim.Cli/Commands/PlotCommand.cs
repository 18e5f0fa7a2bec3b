using System.CommandLine;
using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Experiments.Plots;
using AccelSim.Experiments.Results;

namespace AccelSim.Cli;

/// <summary>`accelsim plot KIND --in results.csv --out FILE.png|svg`: one plot of a results table.</summary>
public static class PlotCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var kind = new Argument<string>("kind") { Description = "Plot kind: " + string.Join(", ", PlotRequest.KindNames) };
        kind.AcceptOnlyFromAmong([.. PlotRequest.KindNames]);
        var input = new Option<string>("--in", "-i")
        {
            Description = "Results CSV, or a sweep output folder (its results.csv); sweep.json beside it supplies units and the baseline",
            HelpName = "CSV|DIR",
            Required = true,
        };
        var x = new Option<string?>("--x") { Description = "x / category column (full name or the part after the last dot, e.g. seq_len)", HelpName = "COLUMN" };
        var y = new Option<string[]>("--y")
        {
            Description = "value column(s); comma-separated or repeated (energy: the stacked parts; utilization: one per array)",
            HelpName = "COLUMN",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var group = new Option<string?>("--group") { Description = "series column (one colour per value)", HelpName = "COLUMN" };
        var baseline = new Option<string[]>("--baseline") { Description = "speedup baseline, COLUMN=VALUE (default: the sweep's)", HelpName = "COLUMN=VALUE", Arity = ArgumentArity.ZeroOrMore };
        var where = new Option<string[]>("--where") { Description = "keep rows with COLUMN=VALUE (repeatable)", HelpName = "COLUMN=VALUE", Arity = ArgumentArity.ZeroOrMore };
        var meanOver = new Option<string[]>("--mean-over")
        {
            Description = "parameter column(s) a bar or line point may average over; rows that differ in any other unnamed parameter are refused",
            HelpName = "COLUMN",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var peak = new Option<string?>("--peak") { Description = "roofline peak compute: FLOP/s or a column (default: column peak_flops)", HelpName = "FLOPS|COLUMN" };
        var bandwidth = new Option<string?>("--bandwidth") { Description = "roofline memory bandwidth: B/s or a column (default: column memory_bandwidth)", HelpName = "BPS|COLUMN" };
        var title = new Option<string?>("--title") { Description = "plot title" };
        var xScale = new Option<string>("--x-scale") { Description = "auto, linear or log", DefaultValueFactory = _ => "auto" };
        var yScale = new Option<string>("--y-scale") { Description = "auto, linear or log", DefaultValueFactory = _ => "auto" };
        var width = new Option<int>("--width") { Description = "pixels", DefaultValueFactory = _ => 1200 };
        var height = new Option<int>("--height") { Description = "pixels", DefaultValueFactory = _ => 800 };
        var outOption = CommonOptions.Out("Output image: .png or .svg", required: true);
        var json = CommonOptions.Json();

        var command = new Command("plot",
            "Plot a results table: speedup (grouped bars over a baseline), energy (stacked breakdown), utilization,\n" +
            "roofline (log-log), pareto (front highlighted), parity (predicted vs measured, +-10% band) or line.\n" +
            "A bar or point never blends rows that differ in a parameter it was not told about: name it with --x, --group,\n" +
            "--where or --mean-over.\n" +
            "Example: accelsim plot speedup --in results/roofline-attention --x query_len --group arch --baseline arch=a100 --where fused=true " +
            "--out results/roofline-attention/speedup.png   # after the `accelsim sweep` example that writes results/roofline-attention")
        {
            kind, input, x, y, group, baseline, where, meanOver, peak, bandwidth, title, xScale, yScale, width, height, outOption, json,
        };
        command.SetAction(parse =>
        {
            OutputPaths.FileToWrite(parse.GetValue(outOption)!, "--out");
            var inPath = parse.GetValue(input)!;
            var csv = Directory.Exists(inPath) ? Path.Combine(inPath, "results.csv") : inPath;
            var table = ResultTable.Load(csv);
            var w = parse.GetValue(width);
            var h = parse.GetValue(height);
            if (w is < 200 or > 10000 || h is < 200 or > 10000)
                throw new InputException(null, "--width/--height", "must be between 200 and 10000 pixels");
            var request = new PlotRequest
            {
                Kind = PlotRequest.ParseKind(parse.GetValue(kind)!, null, "kind"),
                X = parse.GetValue(x),
                Y = [.. (parse.GetValue(y) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                Group = parse.GetValue(group),
                Baseline = [.. CommonOptions.ParseAssignments(parse.GetValue(baseline), "--baseline")],
                Where = [.. CommonOptions.ParseAssignments(parse.GetValue(where), "--where")],
                MeanOver = [.. (parse.GetValue(meanOver) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                Peak = parse.GetValue(peak),
                Bandwidth = parse.GetValue(bandwidth),
                Title = parse.GetValue(title),
                XScale = PlotRequest.ParseScale(parse.GetValue(xScale)!, null, "--x-scale"),
                YScale = PlotRequest.ParseScale(parse.GetValue(yScale)!, null, "--y-scale"),
                Width = w,
                Height = h,
            };
            var written = PlotFactory.Render(table, request, parse.GetValue(outOption)!);
            if (parse.GetValue(json)) CommonOptions.WriteJson(stdout, new { plot = written, kind = PlotRequest.KindName(request.Kind) });
            else stdout.WriteLine(written);
            return ExitCodes.Ok;
        });
        return command;
    }
}
