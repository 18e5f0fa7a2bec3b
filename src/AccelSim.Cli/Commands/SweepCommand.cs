using System.CommandLine;
using System.Runtime.InteropServices;
using AccelSim.Core;
using AccelSim.Experiments.Reports;
using AccelSim.Experiments.Sweeps;

namespace AccelSim.Cli;

/// <summary>`accelsim sweep SWEEP.yaml --out DIR`: runs every point of a sweep in parallel into DIR/results.csv.</summary>
public static class SweepCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<EvaluatorRegistry> registry)
    {
        var file = new Argument<string>("sweep") { Description = "Sweep YAML (see workloads/sweeps/ and docs/sweeps.md)" };
        var outOption = CommonOptions.Out("Output folder for results.csv and sweep.json (default: results/<sweep name>)");
        var jobs = new Option<int>("--jobs", "-j")
        {
            Description = "Worker threads (default: every core)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var shard = new Option<string?>("--shard") { Description = "Run only shard I of N (0-based), points I, I+N, I+2N, ...; merge shards with `accelsim merge`", HelpName = "I/N" };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted run in --out (same sweep), skipping finished points" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing results.csv in --out" };
        var report = new Option<bool>("--report") { Description = "Write DIR/report.md with plots when the sweep completes" };
        var progress = new Option<string>("--progress")
        {
            Description = "Progress display: auto (bar on a terminal, plain lines when redirected or CI=true), bar, plain or none",
            DefaultValueFactory = _ => "auto",
        };
        progress.AcceptOnlyFromAmong("auto", "bar", "plain", "none");
        var set = CommonOptions.Set();
        var json = CommonOptions.Json();

        var command = new Command("sweep",
            "Run a parameter sweep in parallel, streaming one CSV row per point to DIR/results.csv.\n" +
            "A killed run continues with --resume; --shard I/N runs a slice for a cluster job array.\n" +
            "Example: accelsim sweep workloads/sweeps/roofline-attention.yaml --out results/roofline-attention --report\n" +
            "Example: accelsim sweep workloads/sweeps/roofline-gemm.yaml --out results/roofline-gemm/shard-0 --shard 0/2   # half the points\n" +
            "Example: accelsim sweep workloads/sweeps/roofline-gemm.yaml --out results/roofline-gemm/shard-1 --shard 1/2   # the other half: `accelsim merge` joins them")
        {
            file, outOption, jobs, shard, resume, force, report, progress, set, json,
        };

        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (parse.GetValue(resume) && parse.GetValue(force))
                throw new InputException(null, "--resume", "--resume and --force contradict each other; pick one");
            var engines = registry();
            var spec = SweepSpecParser.Load(path, engines, CommonOptions.ParseSets(parse, set));
            var evaluator = engines.Get(spec.Engine, spec.EngineLocation);
            var outDir = OutputPaths.Folder(parse.GetValue(outOption) ?? Path.Combine("results", spec.Name), "--out");
            var shardSpec = parse.GetValue(shard) is { } s ? ShardSpec.Parse(s) : null;
            // Held until the command ends (the report is written into the folder too); the OS releases it if
            // this process dies, so a later --resume needs no cleanup.
            using var folderLock = ResultsFolderLock.Acquire(outDir);
            var options = new SweepRunOptions(outDir)
            {
                HeldLock = folderLock,
                Jobs = parse.GetValue(jobs),
                Shard = shardSpec,
                Resume = parse.GetValue(resume),
                Force = parse.GetValue(force),
            };

            using var cancel = new CancellationTokenSource();
            using var signals = StopOnSignals(cancel, stderr);
            using ISweepProgress display = parse.GetValue(progress) switch
            {
                "none" => SilentProgress.Instance,
                "plain" => new PlainProgress(stderr, TimeSpan.FromSeconds(10)),
                "bar" => new TerminalProgress(stderr),
                _ => SweepProgressFactory.Create(stderr, CommonOptions.IsInteractive(stderr)),
            };
            var result = SweepRunner.Run(spec, evaluator, options, display, cancel.Token);

            string? reportPath = null;
            if (result.Completed && parse.GetValue(report)) reportPath = MarkdownReport.Write(outDir).ReportPath;

            if (parse.GetValue(json))
                CommonOptions.WriteJson(stdout, new
                {
                    sweep = spec.Name,
                    spec.Engine,
                    results = result.ResultsPath,
                    points = spec.PointCount,
                    shard = shardSpec?.ToString(),
                    shard_points = result.ShardPoints,
                    already_done = result.AlreadyDone,
                    result.Evaluated,
                    result.Failed,
                    result.Completed,
                    result.Interrupted,
                    result.Aborted,
                    seconds = result.Elapsed.TotalSeconds,
                    points_per_second = result.PointsPerSecond,
                    input_failed = result.InputFailed,
                    failed_rows_retried = result.FailedRowsRetried,
                    first_error = result.FirstError,
                    first_input_error = result.FirstInputFailure?.ToString(),
                    report = reportPath,
                });
            else
                stdout.WriteLine(
                    $"{spec.Name}: {Invariant.Grouped(result.Evaluated)} points in {PlainProgress.Duration(result.Elapsed.TotalSeconds)} " +
                    $"({PlainProgress.Rate(result.PointsPerSecond)} points/s on {options.Jobs} jobs)" +
                    (result.AlreadyDone > 0 ? $", {Invariant.Grouped(result.AlreadyDone)} done before" : "") +
                    $"; {Invariant.Grouped(result.AlreadyDone + result.Evaluated)}/{Invariant.Grouped(result.ShardPoints)} rows in {result.ResultsPath}" +
                    (reportPath is null ? "" : $"; report {reportPath}"));

            // Bad input in any point is the user's to fix: exit 2 with that point's own located line (the lowest
            // such point), whether the sweep stopped early or finished the other points. Exit 1 is left for internal
            // failures and interruptions.
            if (result.Interrupted)
            {
                var shardArg = shardSpec is null ? "" : $" --shard {shardSpec}";
                stderr.WriteLine($"interrupted: {Invariant.Grouped(result.AlreadyDone + result.Evaluated)} of {Invariant.Grouped(result.ShardPoints)} points are in {result.ResultsPath}; " +
                                 $"continue with: accelsim sweep {path} --out {outDir}{shardArg} --resume");
                return ExitCodes.Failure;
            }
            if (result.FirstInputFailure is { } bad)
            {
                stderr.WriteLine($"{bad.Message} ({FailureContext(result, bad)})");
                return ExitCodes.BadInput;
            }
            if (result.Aborted)
            {
                stderr.WriteLine($"stopped: the first {Invariant.Grouped(result.Failed)} points all failed, so the sweep itself is probably wrong; first error: {result.FirstError}");
                return ExitCodes.Failure;
            }
            if (result.Failed > 0)
            {
                stderr.WriteLine($"{Invariant.Grouped(result.Failed)} points failed (their error is in the `error` column); first: {result.FirstError}");
                return ExitCodes.Failure;
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Where a point's error comes from and what the run did about it, e.g. "point 0 of the sweep; the first
    /// 16 points all failed; 84 points not run" or "point 3 of the sweep; 2 of 6 points failed, see the error column
    /// of DIR/results.csv".</summary>
    private static string FailureContext(SweepRunResult result, PointFailure failure)
    {
        var where = $"point {Invariant.Num(failure.Index)} of the sweep";
        var notRun = result.ShardPoints - result.AlreadyDone - result.Evaluated - (result.Aborted ? result.Failed : 0);
        if (result.Aborted && notRun > 0)
            return $"{where}; the first {Invariant.Grouped(result.Failed)} points all failed; {Invariant.Grouped(notRun)} points not run";
        var counts = $"{where}; {Invariant.Grouped(result.Failed)} of {Invariant.Grouped(result.ShardPoints)} points failed";
        // An aborted run writes no rows: there is no error column to point to.
        return result.Aborted ? counts : counts + $", see the error column of {result.ResultsPath}";
    }

    /// <summary>Ctrl-C and SIGTERM (Slurm/Kubernetes pre-emption) stop the sweep cleanly: finished rows are kept
    /// and the run can be resumed. A second Ctrl-C terminates at once.</summary>
    private static IDisposable StopOnSignals(CancellationTokenSource cancel, TextWriter stderr)
    {
        var registrations = new List<PosixSignalRegistration>();
        void Handle(PosixSignalContext context)
        {
            if (cancel.IsCancellationRequested) return; // second signal: default handling terminates
            context.Cancel = true;
            stderr.WriteLine($"{context.Signal}: stopping after the points in flight; finished rows are kept (signal again to abort)");
            cancel.Cancel();
        }
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                registrations.Add(PosixSignalRegistration.Create(signal, Handle));
            }
            catch (PlatformNotSupportedException)
            {
                // SIGTERM is not available everywhere (e.g. some Windows hosts); Ctrl-C still is.
            }
        }
        return new Registrations(registrations);
    }

    private sealed class Registrations(List<PosixSignalRegistration> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in items) r.Dispose();
        }
    }
}
