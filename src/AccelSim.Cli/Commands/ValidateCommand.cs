using System.CommandLine;
using AccelSim.Gpu.Validation;

namespace AccelSim.Cli.Commands;

/// <summary>`accelsim validate`: predicts every row of a GPU attention measurement CSV and reports the errors.</summary>
public static class ValidateCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var measurements = new Option<string>("--measurements")
        {
            Description = "CSV with columns gpu,kernel,dtype,direction,batch,heads,seq_len,head_dim,causal,tflops,approx,source",
            Required = true,
        };
        var outDir = new Option<string?>("--out") { Description = "directory for validation.csv and parity.png (default: no files)" };
        var archDir = new Option<string>("--arch-dir") { Description = "directory of GPU specs", DefaultValueFactory = _ => "arch/gpu" };
        var command = new Command("validate",
            "Predict every row of a GPU attention measurement file; print MAPE and worst point per GPU x kernel family.\n" +
            "Example: accelsim validate --measurements arch/gpu/measurements/published-attention.csv --out runs/gpu-validation   # results/gpu-validation holds the committed run");
        command.Options.Add(measurements);
        command.Options.Add(outDir);
        command.Options.Add(archDir);
        command.SetAction(parse =>
        {
            if (parse.GetValue(outDir) is { } outTo) OutputPaths.Folder(outTo, "--out");
            var set = MeasurementReader.Load(parse.GetValue(measurements)!);
            var gpus = Validator.LoadGpus(parse.GetValue(archDir)!);
            var summary = Validator.Run(set, gpus);
            var text = Validator.ToText(summary);
            stdout.Write(text);
            if (parse.GetValue(outDir) is { } dir)
            {
                var csvPath = Path.Combine(dir, "validation.csv");
                var pngPath = Path.Combine(dir, "parity.png");
                var textPath = Path.Combine(dir, "summary.txt");
                try
                {
                    Directory.CreateDirectory(dir);
                    File.WriteAllText(csvPath, Validator.ToCsv(set, summary));
                    ParityPlot.Save(summary, pngPath);
                    File.WriteAllText(textPath, text);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new AccelSim.Core.InputException(AccelSim.Core.SourceLocation.FileOnly(dir), "--out",
                        "cannot write the validation files: " + e.Message.ReplaceLineEndings(" "));
                }
                stdout.WriteLine($"wrote {csvPath}, {pngPath} and {textPath}");
            }
            return ExitCodes.Ok; // Validator.Run refuses a file with no row to predict
        });
        return command;
    }
}
