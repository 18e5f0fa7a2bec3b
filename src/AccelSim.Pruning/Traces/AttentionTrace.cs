using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using AccelSim.Core;
using AccelSim.Pruning.Spec;

namespace AccelSim.Pruning.Traces;

/// <summary>The dense attention probabilities of one (step, layer, head): <see cref="Rows"/> queries by <see cref="Cols"/> keys.</summary>
public sealed record ProbabilityBlock(int Step, int Layer, int Head, int Rows, int Cols, ImmutableArray<double> Values)
{
    public double this[int row, int col] => Values[row * Cols + col];
}

/// <summary>
/// Attention-probability trace (format `accelsim-attention-trace 1`, documented in workloads/spatten/traces/README.md):
/// the dense softmax probabilities of every (step, layer, head), plus optional per-head output magnitudes
/// (sum of |attention output|) that drive head importance. Summarisation traces have one step whose blocks are
/// tokens x tokens; generation traces have one block row per step against prompt + step keys.
/// </summary>
public sealed record AttentionTrace(
    AttentionModel Model,
    TaskShape Task,
    string Source,
    ImmutableDictionary<(int Step, int Layer, int Head), ProbabilityBlock> Blocks,
    ImmutableDictionary<(int Step, int Layer, int Head), double> HeadMagnitudes)
{
    public const string Magic = "accelsim-attention-trace 1";

    public int Steps => Task is GenerationTask g ? g.GenerateTokens : 1;

    public ProbabilityBlock Block(int step, int layer, int head) =>
        Blocks.TryGetValue((step, layer, head), out var b)
            ? b
            : throw new InputException($"trace for model '{Model.Name}' has no probabilities for step {step}, layer {layer}, head {head}");

    public bool HasHeadMagnitudes => HeadMagnitudes.Count > 0;

    public double HeadMagnitude(int step, int layer, int head) =>
        HeadMagnitudes.TryGetValue((step, layer, head), out var m)
            ? m
            : throw new InputException($"trace for model '{Model.Name}' has no head magnitude for step {step}, layer {layer}, head {head} (needed for head pruning in trace mode)");

    // ---------------- writing ----------------

    public void Write(TextWriter w)
    {
        w.Write(Magic + "\n");
        w.Write("# Dense attention probabilities; one 'probs' header per (step, layer, head), then one line per query row.\n");
        w.Write($"model {Model.Name} {Model.Layers} {Model.Heads} {Model.HeadDim}\n");
        w.Write(Task switch
        {
            SummarizationTask s => $"task summarization {s.Tokens}\n",
            GenerationTask g => $"task generation {g.PromptTokens} {g.GenerateTokens}\n",
            _ => throw new InvalidOperationException(),
        });
        w.Write("source " + Source.ReplaceLineEndings(" ") + "\n");
        foreach (var key in Blocks.Keys.OrderBy(k => k.Step).ThenBy(k => k.Layer).ThenBy(k => k.Head))
        {
            var b = Blocks[key];
            w.Write($"probs {b.Step} {b.Layer} {b.Head} {b.Rows} {b.Cols}\n");
            var line = new StringBuilder();
            for (var r = 0; r < b.Rows; r++)
            {
                line.Clear();
                for (var c = 0; c < b.Cols; c++)
                {
                    if (c > 0) line.Append(' ');
                    line.Append(b[r, c].ToString("G6", CultureInfo.InvariantCulture));
                }
                w.Write(line.Append('\n').ToString());
            }
            if (HeadMagnitudes.TryGetValue(key, out var mag))
                w.Write($"headmag {b.Step} {b.Layer} {b.Head} {mag.ToString("G9", CultureInfo.InvariantCulture)}\n");
        }
    }

    public string WriteToString()
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        Write(sw);
        return sw.ToString();
    }

    // ---------------- reading ----------------

    public static AttentionTrace ReadFile(string path)
    {
        if (!File.Exists(path)) throw new InputException(SourceLocation.FileOnly(path), null, "trace file not found");
        using var reader = new StreamReader(path);
        return Read(reader, path);
    }

    public static AttentionTrace Read(TextReader reader, string fileName)
    {
        var lineNo = 0;
        string? Next()
        {
            while (true)
            {
                var l = reader.ReadLine();
                lineNo++;
                if (l is null) return null;
                var t = l.Trim();
                if (t.Length == 0 || t.StartsWith('#')) continue;
                return t;
            }
        }
        InputException Err(string problem) => new(new SourceLocation(fileName, lineNo, 1), null, problem);
        int Int(string s, string what)
        {
            if (!Invariant.TryParseLong(s, out var v) || v < 0 || v > int.MaxValue) throw Err($"{what}: expected a non-negative integer, found '{s}'");
            return (int)v;
        }

        var first = Next();
        if (first != Magic) throw Err($"not an attention trace (first line must be '{Magic}')");

        AttentionModel? model = null;
        TaskShape? task = null;
        var source = "";
        var blocks = ImmutableDictionary.CreateBuilder<(int, int, int), ProbabilityBlock>();
        var mags = ImmutableDictionary.CreateBuilder<(int, int, int), double>();
        for (var line = Next(); line is not null; line = Next())
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (parts[0])
            {
                case "model":
                    if (parts.Length != 5) throw Err("model: expected 'model NAME LAYERS HEADS HEAD_DIM'");
                    model = new AttentionModel(parts[1], Int(parts[2], "layers"), Int(parts[3], "heads"), Int(parts[4], "head_dim"));
                    if (model.Layers == 0 || model.Heads == 0 || model.HeadDim == 0) throw Err("model: sizes must be positive");
                    break;
                case "task":
                    task = parts switch
                    {
                        [_, "summarization", var n] => new SummarizationTask(Int(n, "tokens")),
                        [_, "generation", var p, var g] => new GenerationTask(Int(p, "prompt"), Int(g, "steps")),
                        _ => throw Err("task: expected 'task summarization TOKENS' or 'task generation PROMPT STEPS'"),
                    };
                    break;
                case "source":
                    source = line.Length > 7 ? line[7..] : "";
                    break;
                case "probs":
                {
                    if (model is null || task is null) throw Err("probs before the model and task lines");
                    if (parts.Length != 6) throw Err("probs: expected 'probs STEP LAYER HEAD ROWS COLS'");
                    int step = Int(parts[1], "step"), layer = Int(parts[2], "layer"), head = Int(parts[3], "head");
                    int rows = Int(parts[4], "rows"), cols = Int(parts[5], "cols");
                    if (layer >= model.Layers || head >= model.Heads) throw Err($"probs: layer {layer} / head {head} outside the model");
                    var expected = ExpectedShape(task, step);
                    if ((rows, cols) != expected)
                        throw Err($"probs: block is {rows}x{cols} but step {step} of this task needs {expected.Rows}x{expected.Cols}");
                    var values = new double[rows * cols];
                    for (var r = 0; r < rows; r++)
                    {
                        var row = Next() ?? throw Err($"probs: trace ends inside block (step {step}, layer {layer}, head {head})");
                        var nums = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (nums.Length != cols) throw Err($"probs: row has {nums.Length} values, expected {cols}");
                        for (var c = 0; c < cols; c++)
                        {
                            if (!Invariant.TryParseDouble(nums[c], out var p) || p < 0 || p > 1 + 1e-6 || double.IsNaN(p))
                                throw Err($"probs: '{nums[c]}' is not a probability in [0, 1]");
                            values[r * cols + c] = p;
                        }
                    }
                    if (!blocks.TryAdd((step, layer, head), new ProbabilityBlock(step, layer, head, rows, cols, [.. values])))
                        throw Err($"probs: duplicate block for step {step}, layer {layer}, head {head}");
                    break;
                }
                case "headmag":
                {
                    if (parts.Length != 5) throw Err("headmag: expected 'headmag STEP LAYER HEAD VALUE'");
                    if (!Invariant.TryParseDouble(parts[4], out var m) || m < 0 || double.IsNaN(m))
                        throw Err($"headmag: '{parts[4]}' is not a non-negative number");
                    mags[(Int(parts[1], "step"), Int(parts[2], "layer"), Int(parts[3], "head"))] = m;
                    break;
                }
                default:
                    throw Err($"unknown record '{parts[0]}' (expected model, task, source, probs or headmag)");
            }
        }
        if (model is null || task is null) throw Err("trace has no model or task line");
        var trace = new AttentionTrace(model, task, source, blocks.ToImmutable(), mags.ToImmutable());
        for (var s = 0; s < trace.Steps; s++)
            for (var l = 0; l < model.Layers; l++)
                for (var h = 0; h < model.Heads; h++)
                    if (!trace.Blocks.ContainsKey((s, l, h)))
                        throw new InputException(SourceLocation.FileOnly(fileName), null, $"trace is missing probabilities for step {s}, layer {l}, head {h}");
        return trace;
    }

    private static (int Rows, int Cols) ExpectedShape(TaskShape task, int step) => task switch
    {
        SummarizationTask s when step == 0 => (s.Tokens, s.Tokens),
        GenerationTask g when step < g.GenerateTokens => (1, g.ContextAt(step)),
        _ => (-1, -1),
    };
}
