using System.CommandLine;
using AccelSim.Model;

namespace AccelSim.Cli.Commands;

/// <summary>`accelsim import timeloop ARCH PROB [MAP] --out DIR [--ert ERT]`: Timeloop specs to AccelSim's formats.</summary>
public static class ImportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var import = new Command("import", "Import specifications from other tools.\n" +
            "Example: accelsim import timeloop tests/AccelSim.Tests/Reference/timeloop/03-model-conv1d+oc-3level/v0.4/arch/3level.arch.yaml tests/AccelSim.Tests/Reference/timeloop/03-model-conv1d+oc-3level/v0.4/prob/conv1d+oc.prob.yaml --out runs/imported");
        var arch = new Argument<string>("arch") { Description = "Timeloop architecture YAML (legacy v0.2/v0.3 or v0.4)" };
        var prob = new Argument<string>("problem") { Description = "Timeloop problem YAML" };
        var map = new Argument<string?>("mapping") { Description = "Timeloop mapping YAML (optional)", Arity = ArgumentArity.ZeroOrOne };
        var outDir = new Option<string>("--out") { Description = "Directory to write arch.yaml, problem.yaml and mapping.yaml", Required = true };
        var ert = new Option<string?>("--ert") { Description = "Accelergy ERT with the component energies (timeloop-*.ERT.yaml)" };
        var timeloop = new Command("timeloop",
            "Convert Timeloop architecture / problem / mapping YAML to AccelSim's formats.\n" +
            "Example: accelsim import timeloop tests/AccelSim.Tests/Reference/timeloop/03-model-conv1d+oc-3level/v0.4/arch/3level.arch.yaml tests/AccelSim.Tests/Reference/timeloop/03-model-conv1d+oc-3level/v0.4/prob/conv1d+oc.prob.yaml " +
            "tests/AccelSim.Tests/Reference/timeloop/03-model-conv1d+oc-3level/v0.4/map/conv1d+oc-3level.map.yaml --ert tests/AccelSim.Tests/Reference/timeloop/03-model-conv1d+oc-3level/v0.4/ref-output/no-bypass/timeloop-model.ERT.yaml --out runs/imported");
        timeloop.Arguments.Add(arch);
        timeloop.Arguments.Add(prob);
        timeloop.Arguments.Add(map);
        timeloop.Options.Add(outDir);
        timeloop.Options.Add(ert);
        timeloop.SetAction(parse =>
        {
            OutputPaths.Folder(parse.GetValue(outDir)!, "--out");
            var written = TimeloopImport.Run(parse.GetValue(arch)!, parse.GetValue(prob)!, parse.GetValue(map), parse.GetValue(outDir)!, parse.GetValue(ert));
            foreach (var n in written.Notes) stdout.WriteLine("note: " + n);
            foreach (var f in written.Files) stdout.WriteLine("wrote " + f);
            return ExitCodes.Ok;
        });
        import.Subcommands.Add(timeloop);
        return import;
    }
}
