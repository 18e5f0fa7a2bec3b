using System.CommandLine;
using AccelSim.Core;
using AccelSim.Experiments.Reports;

namespace AccelSim.Cli;

/// <summary>`accelsim report DIR`: a Markdown report (tables, headline statistics, plots) of a results folder.</summary>
public static class ReportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dir = new Argument<string>("folder") { Description = "Sweep output folder (results.csv and sweep.json)" };
        var csv = new Option<string>("--in")
        {
            Description = "CSV file name inside the folder (e.g. attention.csv); the report is named after it",
            DefaultValueFactory = _ => "results.csv",
            HelpName = "FILE",
        };
        var redraw = new Option<bool>("--redraw") { Description = "Redraw plots even when they are up to date" };
        var rows = new Option<int>("--max-rows") { Description = "Most result rows listed in the report", DefaultValueFactory = _ => 100 };
        var json = CommonOptions.Json();
        var command = new Command("report",
            "Write a Markdown report for a results folder: sweep summary, best point per metric, speedups and ratios over\n" +
            "the baseline (geometric and arithmetic means), plots (drawn into DIR/plots/ when missing) and the results table.\n" +
            "Example: accelsim report results/roofline-attention   # after the `accelsim sweep` example that writes it")
        {
            dir, csv, redraw, rows, json,
        };
        command.SetAction(parse =>
        {
            var maxRows = parse.GetValue(rows);
            if (maxRows < 0) throw new InputException(null, "--max-rows", $"must be 0 or more, got {maxRows}");
            var result = MarkdownReport.Write(parse.GetValue(dir)!, new ReportOptions
            {
                CsvFileName = parse.GetValue(csv)!,
                RedrawPlots = parse.GetValue(redraw),
                MaxTableRows = maxRows,
            });
            if (parse.GetValue(json))
                CommonOptions.WriteJson(stdout, new { report = result.ReportPath, plots = result.Plots, skipped_plots = result.SkippedPlots });
            else
            {
                stdout.WriteLine(result.ReportPath);
                foreach (var s in result.SkippedPlots) stderr.WriteLine("plot skipped: " + s);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
