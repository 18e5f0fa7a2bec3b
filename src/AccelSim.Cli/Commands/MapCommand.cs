using System.CommandLine;
using AccelSim.Core;
using AccelSim.Einsum.Loading;
using AccelSim.Hardware;
using AccelSim.Mapper;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;
using Spectre.Console;

namespace AccelSim.Cli.Commands;

/// <summary>
/// `accelsim map --arch A --workload W [--constraints C ...] [--einsum NAME] [--objective edp] [--search guided]
/// [--budget N] [--timeout S] [--seed N] [--threads N] [--save mapping.yaml] [--json]`: searches each Einsum's
/// map-space for the best mapping. Logic lives in AccelSim.Mapper; this file parses options and prints.
/// </summary>
public static class MapCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var arch = new Option<string>("--arch") { Description = "Architecture YAML (AccelSim arch/*.yaml, or a Timeloop architecture)", Required = true };
        var workload = new Option<string>("--workload") { Description = "Problem YAML (AccelSim or Timeloop) or an Einsum workload cascade (workloads/**.yaml)", Required = true };
        var constraints = new Option<string[]>("--constraints")
        {
            Description = "Map-space constraints: AccelSim `constraints:` or Timeloop `mapspace_constraints:`/`architecture_constraints:` YAML (repeatable)",
            AllowMultipleArgumentsPerToken = true,
        };
        var einsum = new Option<string?>("--einsum") { Description = "Which Einsum of a cascade to map (default: every Einsum the architecture can run)" };
        var objective = new Option<string>("--objective") { Description = "What to minimise: edp, cycles, energy, dram, or a lexicographic list such as cycles,energy", DefaultValueFactory = _ => "edp" };
        var search = new Option<string>("--search") { Description = "Strategy: guided (default), exhaustive (proves the optimum), random", DefaultValueFactory = _ => "guided" };
        var budget = new Option<long?>("--budget") { Description = $"Evaluations (mappings priced) at most; default {Invariant.Grouped(GuidedSearch.DefaultBudget)} for guided, {Invariant.Grouped(RandomSearch.DefaultBudget)} for random, none for exhaustive" };
        var timeout = new Option<double?>("--timeout") { Description = "Stop after this many seconds (the result then depends on machine speed)" };
        var seed = new Option<long>("--seed") { Description = "Random seed; the same inputs and seed give the same output for any --threads", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: all cores)", DefaultValueFactory = _ => 0 };
        var save = new Option<string?>("--save") { Description = "Write the best mapping as mapping YAML (several Einsums: FILE.NAME.yaml each)" };
        var json = new Option<bool>("--json") { Description = "Print JSON: cycles, energy_pJ, evaluations, the mapping and the full cost report" };
        var set = new Option<string[]>("--set")
        {
            Description = "LEVEL.FIELD=VALUE or clock_hz=VALUE changes the architecture; NAME=VALUE sets a workload parameter",
            AllowMultipleArgumentsPerToken = true,
        };
        var model = new Option<string?>("--model") { Description = "Model shape file for the workload's parameters (e.g. workloads/models/bert-base.yaml)" };
        var ert = new Option<string?>("--ert") { Description = "Accelergy ERT (timeloop-*.ERT.yaml) giving energies for a Timeloop architecture" };
        var compute = new Option<string?>("--compute") { Description = "Compute unit to map onto (default: the first that performs the Einsum's operations)" };
        var command = new Command("map",
            "Search the map-space of each Einsum for the best mapping (loop tiling, order, parallelism, bypass) and print it with its statistics.\n" +
            "Example: accelsim map --arch arch/timeloop-3level.yaml --workload workloads/attention/attention-1pass.yaml --einsum QK " +
            "--set seq_len=256 --objective edp --budget 20000 --seed 1 --save results/qk-mapping.yaml");
        foreach (var o in new Option[] { arch, workload, constraints, einsum, objective, search, budget, timeout, seed, threads, save, json, set, model, ert, compute })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            if (parse.GetValue(save) is { } saveTo) OutputPaths.FileToWrite(saveTo, "--save");
            var sets = parse.GetValue(set) ?? Array.Empty<string>();
            var archFile = parse.GetValue(arch)!;
            if (!File.Exists(archFile)) throw new InputException(null, "--arch", $"file not found: {archFile}");
            if (!SpecFiles.IsSpatialArchitecture(archFile))
                throw new InputException(SourceLocation.FileOnly(archFile), "architecture", "the mapper needs a spatial-array architecture (AccelSim or Timeloop YAML)");
            var loaded = SpecFiles.LoadArchitecture(archFile, parse.GetValue(ert));
            var notes = new List<string>();
            if (loaded.Note is { } n) notes.Add(n);
            var architecture = ArchitectureOverrides.Apply(loaded.Architecture, sets.Where(SpatialEvaluation.IsArchitectureSetting));
            var workloadSets = sets.Where(s => !SpatialEvaluation.IsArchitectureSetting(s)).ToList();
            var problems = LoadProblems(parse.GetValue(workload)!, parse.GetValue(einsum), workloadSets, parse.GetValue(model), architecture,
                parse.GetValue(compute), notes);
            var obj = Objective.Parse(parse.GetValue(objective)!);
            var strategy = SearchStrategies.Create(parse.GetValue(search)!).Name;
            var b = parse.GetValue(budget);
            if (b is <= 0) throw new InputException(null, "--budget", $"must be > 0, found {b}");
            var to = parse.GetValue(timeout);
            if (to is { } t && !(t > 0 && t <= TimeSpan.MaxValue.TotalSeconds)) throw new InputException(null, "--timeout", $"must be > 0 and finite, found {Invariant.Num(t)} seconds");
            var nThreads = parse.GetValue(threads);
            if (nThreads < 0) throw new InputException(null, "--threads", $"must be >= 0, found {nThreads}");
            var constraintFiles = parse.GetValue(constraints) ?? Array.Empty<string>();
            var einsumNames = constraintFiles.Length > 0 ? CascadeEinsums(parse.GetValue(workload)!, workloadSets, parse.GetValue(model)) : null;
            var spatialTargets = loaded.Timeloop?.SpatialTargets;
            // Every input is read before the first warning, so bad input prints its one error line and nothing else.
            var constraintsPerProblem = problems.Select(p => ConstraintsLoader.LoadAll(constraintFiles, p, spatialTargets, einsumNames)).ToList();
            foreach (var (p, c) in problems.Zip(constraintsPerProblem))
                _ = new MapSpace(CostModel.PathFor(architecture, p, parse.GetValue(compute)), p, c); // checks the constraints against the levels

            var withoutEnergy = problems.SelectMany(p => CostModel.PathFor(architecture, p, parse.GetValue(compute))
                .ComponentsWithoutEnergy(p.OpsPerPoint.Where(o => o.Count > 0).Select(o => o.Kind))).ToList();
            if (loaded.EnergyWarning(withoutEnergy) is { } energyWarning)
            {
                bool objectiveGiven = parse.GetResult(objective) is { Implicit: false };
                if (obj.EnergyMetric is { } needsEnergy && objectiveGiven)
                    throw new InputException(null, "--objective", $"{Objective.Name(needsEnergy)} needs energies, but there is {energyWarning}; " +
                                                                   "use --objective cycles (or dram)");
                stderr.WriteLine("warning: " + energyWarning);
                if (obj.EnergyMetric is not null)
                {
                    // The default objective (edp) cannot be computed without energies: search for cycles instead, and say so.
                    obj = Objective.Parse("cycles");
                    stderr.WriteLine("warning: the default objective edp needs energies; minimising cycles instead");
                }
            }

            var results = new List<MapResult>();
            // Ctrl+C stops the search gracefully: the best mapping found so far is printed (marked "cancelled").
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                if (cancel.IsCancellationRequested) return; // a second Ctrl+C ends the process
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                foreach (var (problem, cons) in problems.Zip(constraintsPerProblem))
                {
                    if (cancel.IsCancellationRequested) break;
                    var request = new MapRequest(architecture, problem, cons, obj, strategy, b, to is { } s ? TimeSpan.FromSeconds(s) : null,
                        parse.GetValue(seed), nThreads, parse.GetValue(compute));
                    MapResult result;
                    try { result = RunWithProgress(request, stderr, cancel.Token); }
                    catch (SearchFailedException e)
                    {
                        stderr.WriteLine($"error: {problem.Name}: {e.Message}");
                        return ExitCodes.Failure;
                    }
                    stderr.WriteLine($"{problem.Name}: {Invariant.Grouped(result.Outcome.Evaluations)} mappings priced, " +
                                     $"{Invariant.Grouped(result.Outcome.Rejected)} rejected before pricing, {Invariant.Sig(result.Elapsed.TotalSeconds, 3)} s " +
                                     $"({Invariant.Grouped((long)(result.Outcome.Evaluations / Math.Max(1e-9, result.Elapsed.TotalSeconds)))}/s, {result.Threads} threads)");
                    results.Add(result);
                }
            }
            finally { Console.CancelKeyPress -= onCancel; }
            if (results.Count == 0) throw new OperationCanceledException();
            if (parse.GetValue(save) is { } savePath)
                foreach (var r in results)
                {
                    var path = results.Count == 1 ? savePath
                        : Path.Combine(Path.GetDirectoryName(savePath) ?? "", $"{Path.GetFileNameWithoutExtension(savePath)}.{r.Report.Problem}{Path.GetExtension(savePath)}");
                    if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
                    File.WriteAllText(path, MapReportWriter.MappingYaml(r));
                    stderr.WriteLine($"saved {path}");
                }
            if (parse.GetValue(json)) stdout.Write(MapReportWriter.Json(results, notes) + "\n");
            else
                for (int i = 0; i < results.Count; i++)
                {
                    if (i > 0) stdout.WriteLine();
                    stdout.Write(MapReportWriter.Text(results[i], i == 0 ? notes : null));
                }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One problem, or every Einsum of a cascade the chosen compute unit can run (the others are noted).</summary>
    /// <summary>Every Einsum of a cascade workload (for `einsum:` in constraint files); null for a single-problem file.</summary>
    private static IReadOnlyCollection<string>? CascadeEinsums(string file, IReadOnlyList<string> sets, string? modelFile)
    {
        var root = YNode.LoadFile(file);
        if (ProblemLoader.IsOurFormat(root) || AccelSim.Mapping.Timeloop.TimeloopProblemReader.IsTimeloop(root)) return null;
        return WorkloadLoader.Load(file, WorkloadLoader.ParseOverrides(sets), modelFile).Einsums.Select(e => e.Name).ToList();
    }

    private static List<ProblemShape> LoadProblems(string file, string? einsum, IReadOnlyList<string> sets, string? modelFile,
        Architecture arch, string? computeName, List<string> notes)
    {
        if (!File.Exists(file)) throw new InputException(null, "--workload", $"file not found: {file}");
        var root = YNode.LoadFile(file);
        bool single = ProblemLoader.IsOurFormat(root) || AccelSim.Mapping.Timeloop.TimeloopProblemReader.IsTimeloop(root);
        if (single || einsum is not null) return new List<ProblemShape> { SpatialEvaluation.LoadProblem(file, einsum, sets, modelFile) };
        var cascade = WorkloadLoader.Load(file, WorkloadLoader.ParseOverrides(sets), modelFile);
        var list = new List<ProblemShape>();
        foreach (var e in cascade.Einsums)
        {
            var problem = EinsumProblems.FromEinsum(e, cascade);
            var kinds = problem.OpsPerPoint.Where(o => o.Count > 0).Select(o => o.Kind).ToList();
            var cu = arch.SelectCompute(computeName, kinds);
            var missing = kinds.Where(k => cu.Find(k) is null).ToList();
            if (missing.Count > 0)
            {
                notes.Add($"skipped {e.Name}: compute unit '{cu.Name}' cannot perform {string.Join(", ", missing)}");
                continue;
            }
            list.Add(problem);
        }
        if (list.Count == 0)
            throw new InputException(SourceLocation.FileOnly(file), "--einsum", $"the architecture can run none of the cascade's Einsums ({string.Join("; ", notes)})");
        return list;
    }

    /// <summary>A live progress bar on an interactive terminal; nothing while redirected or under CI.</summary>
    private static MapResult RunWithProgress(MapRequest request, TextWriter stderr, CancellationToken cancel)
    {
        var ci = Environment.GetEnvironmentVariable("CI");
        bool underCi = !string.IsNullOrEmpty(ci) && ci != "false" && ci != "0";
        bool interactive = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && !underCi;
        if (!interactive) return MapSearch.Run(request, cancel: cancel);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        MapResult? result = null;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"{request.Problem.Name}: {request.Search}"));
                task.IsIndeterminate = request.Budget is null && request.Search == "exhaustive";
                result = MapSearch.Run(request, p =>
                {
                    if (p.Expected is { } total && total > 0)
                    {
                        task.MaxValue = total;
                        task.Value = Math.Min(total, p.Evaluations);
                    }
                    task.Description = Markup.Escape($"{request.Problem.Name}: {request.Search}, {Invariant.Grouped(p.Evaluations)} priced" +
                                                     (double.IsFinite(p.BestPrimary) ? $", best {Invariant.Sig(p.BestPrimary)}" : ""));
                }, cancel);
                task.StopTask();
            });
        return result!;
    }
}
