using System.CommandLine;
using AccelSim.Core;
using AccelSim.Einsum.Checking;
using AccelSim.Einsum.Loading;

namespace AccelSim.Cli;

/// <summary>
/// `accelsim check W.yaml [--against REF.yaml | --reference NAME] [--set k=v] [--seed N] [--tolerance T]`: runs the
/// double-precision interpreter on small seeded random inputs and compares the outputs with another cascade or a
/// direct formula. Exit 0 within the tolerance, 1 outside it, 2 for bad input.
/// </summary>
public static class CheckCommand
{
    public static Command Create(TextWriter stdout)
    {
        var workload = new Argument<string>("workload") { Description = "Workload YAML (an Einsum cascade) to check" };
        var against = new Option<string?>("--against") { Description = "Another cascade to compare with (inputs shared by name)", HelpName = "REF.yaml" };
        var reference = new Option<string?>("--reference")
        {
            Description = $"A direct formula to compare with: {string.Join(", ", DirectFormulas.Names)} (default: the workload's reference:, else softmax-attention for a workload with an attention: section)",
            HelpName = "NAME",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Set a workload parameter, e.g. --set seq_len=12 (repeatable); others shrink to small sizes automatically",
            AllowMultipleArgumentsPerToken = true,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs (uniform in [-1, 1))", DefaultValueFactory = _ => 42 };
        var tolerance = new Option<double>("--tolerance")
        {
            Description = "Largest accepted relative error |a - b| / max(|b|, 1)",
            DefaultValueFactory = _ => CascadeCheck.DefaultTolerance,
        };
        var command = new Command("check",
            "Check a cascade's numerics: evaluate it in double precision on small seeded random inputs and compare its outputs with\n" +
            "another cascade or a direct formula of the paper. Exit 0 within the tolerance, 1 outside.\n" +
            "Example: accelsim check workloads/attention/attention-1pass.yaml\n" +
            "Example: accelsim check workloads/attention/attention-1pass.yaml --against workloads/attention/attention-3pass.yaml --set causal=true\n" +
            "Example: accelsim check workloads/variants/sigmoid-attention.yaml --reference sigmoid-attention --seed 7");
        command.Arguments.Add(workload);
        command.Options.Add(against);
        command.Options.Add(reference);
        command.Options.Add(set);
        command.Options.Add(seed);
        command.Options.Add(tolerance);
        command.SetAction(parse =>
        {
            var request = new CheckRequest(parse.GetValue(workload)!, parse.GetValue(against), parse.GetValue(reference),
                WorkloadLoader.ParseOverrides(parse.GetValue(set)), parse.GetValue(seed), parse.GetValue(tolerance));
            var report = CascadeCheck.Run(request);
            Write(report, stdout);
            return report.Passed ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static void Write(CheckReport r, TextWriter o)
    {
        o.WriteLine($"check {r.Workload} against {r.Reference}");
        var shrunk = r.Sizes.Where(s => s.Origin != "--set").ToList();
        var set = r.Sizes.Where(s => s.Origin == "--set").ToList();
        o.WriteLine("sizes: " + (shrunk.Count == 0 ? "workload defaults" : string.Join(" ", shrunk) + " (shrunk from the defaults)") +
                    (set.Count == 0 ? "" : "; --set " + string.Join(" ", set)) + $"; seed {r.Seed}");
        o.WriteLine($"points executed: {Invariant.Grouped(r.PointsExecuted)}" +
                    (r.ReferencePointsExecuted is { } p ? $" (reference cascade: {Invariant.Grouped(p)})" : ""));
        foreach (var c in r.Outputs)
        {
            var what = $"{c.Tensor}[{string.Join(",", c.Extents)}]: ";
            o.WriteLine(what + (c.Mismatch ?? $"max relative error {c.MaxRelativeError.ToString("0.###E+0", Invariant.Culture)}" +
                $" (tolerance {r.Tolerance.ToString("0.###E+0", Invariant.Culture)})"));
        }
        o.WriteLine(r.Passed ? "PASS" : "FAIL: outside the tolerance");
    }
}
