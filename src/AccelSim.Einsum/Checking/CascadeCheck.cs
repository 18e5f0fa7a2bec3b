using System.Collections.Immutable;
using System.Globalization;
using AccelSim.Core;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Einsum.Checking;

/// <summary>What to compare a workload with: another cascade (same inputs by name) or a built-in direct formula.</summary>
public sealed record CheckRequest(
    string Workload,
    string? Against = null,
    string? Reference = null,
    IReadOnlyDictionary<string, string>? Overrides = null,
    int Seed = 42,
    double Tolerance = CascadeCheck.DefaultTolerance);

/// <summary>A parameter value the check used and why (shrunk from a default, or given with --set).</summary>
public sealed record CheckSize(string Name, string Value, string Origin)
{
    public override string ToString() => $"{Name}={Value}";
}

/// <summary>One output compared: largest relative error, or the first element that differs in presence or is NaN.</summary>
public sealed record OutputComparison(string Tensor, ImmutableArray<long> Extents, double MaxRelativeError, string? Mismatch)
{
    public bool Within(double tolerance) => Mismatch is null && MaxRelativeError <= tolerance;
}

public sealed record CheckReport(
    string Workload,
    string Reference,
    ImmutableArray<CheckSize> Sizes,
    int Seed,
    long PointsExecuted,
    long? ReferencePointsExecuted,
    ImmutableArray<OutputComparison> Outputs,
    double Tolerance)
{
    public bool Passed => Outputs.All(o => o.Within(Tolerance));
}

/// <summary>
/// `accelsim check`: evaluates a cascade with the double-precision interpreter on small seeded random inputs and
/// compares its outputs with another cascade or a direct formula. Sizes shrink automatically (see <see cref="Small"/>).
/// </summary>
public static class CascadeCheck
{
    public const double DefaultTolerance = 1e-10;

    /// <summary>Upper bound on the interpreter's work (iteration points of all Einsums) at the chosen sizes.</summary>
    public const long MaxPoints = 20_000_000;

    /// <summary>
    /// Small values for common size parameters. A parameter given as a plain number larger than its small value is
    /// lowered to it unless --set gives it; formulas (kv_len: seq_len) follow what they depend on. Sizes are chosen
    /// uneven (10 queries over tiles of 4, 13 keys) so that partial tiles and unequal lengths are exercised.
    /// </summary>
    public static readonly ImmutableDictionary<string, long> Small = new Dictionary<string, long>
    {
        ["batch"] = 2, ["heads"] = 4, ["kv_heads"] = 2, ["seq_len"] = 10, ["kv_len"] = 13, ["head_dim"] = 4,
        ["tile"] = 4, ["chunk"] = 4, ["block_size"] = 3, ["window"] = 3, ["local"] = 3, ["sink"] = 2,
        ["dense_heads"] = 2, ["agents"] = 2, ["latent_dim"] = 6, ["rope_dim"] = 2, ["d_model"] = 8, ["ffn_dim"] = 10,
        ["kernel"] = 3, ["dilation"] = 2,
    }.ToImmutableDictionary();

    public static CheckReport Run(CheckRequest request)
    {
        if (request.Against is not null && request.Reference is not null)
            throw new InputException(null, "--against", "give either --against REF.yaml or --reference NAME, not both");
        if (!(request.Tolerance > 0) || !double.IsFinite(request.Tolerance))
            throw new InputException(null, "--tolerance", $"must be a positive number, got {Invariant.Num(request.Tolerance)}");
        var overrides = request.Overrides ?? ImmutableDictionary<string, string>.Empty;

        var spec = WorkloadLoader.LoadSpec(request.Workload);
        var other = request.Against is null ? null : LoadAgainst(request.Against);
        CheckOverridesAreKnown(overrides, spec, other);

        var (cascade, sizes) = BindSmall(spec, overrides);
        var inputs = Interpreter.RandomInputs(cascade, request.Seed);
        var result = Evaluate(cascade, inputs);
        var points = result.ExecutedPoints.Values.Sum();

        if (other is not null)
        {
            var (refCascade, _) = BindSmall(other, overrides);
            var refInputs = SharedInputs(cascade, inputs, refCascade, request.Against!);
            var refResult = Evaluate(refCascade, refInputs);
            var comparisons = PairOutputs(cascade, refCascade, request.Against!)
                .Select(pair => Compare(CanonicalView.Of(cascade, pair.Mine, result[pair.Mine.Name]),
                    CanonicalView.Of(refCascade, pair.Theirs, refResult[pair.Theirs.Name]), $"{Path.GetFileName(request.Against)}"))
                .ToImmutableArray();
            return new CheckReport(request.Workload, request.Against!, sizes, request.Seed, points,
                refResult.ExecutedPoints.Values.Sum(), comparisons, request.Tolerance);
        }

        var formula = ChooseFormula(spec, request.Reference);
        var output = SoleOutput(cascade);
        var expected = formula.Compute(cascade, inputs);
        var actual = CanonicalView.Of(cascade, output, result[output.Name]);
        if (!expected.Extents.SequenceEqual(actual.Extents))
            throw new InputException(SourceLocation.FileOnly(spec.File), "reference",
                $"{formula.Name} gives an output of extents [{string.Join(",", expected.Extents)}] but {output.Name} has [{string.Join(",", actual.Extents)}] (in unsplit ranks {string.Join(",", CanonicalView.Ranks(cascade, output))})");
        return new CheckReport(request.Workload, formula.Name, sizes, request.Seed, points, null,
            [Compare(actual, expected, formula.Name)], request.Tolerance);
    }

    /// <summary>The reference a workload is checked against when no flag names one.</summary>
    public static DirectFormula ChooseFormula(WorkloadSpec spec, string? requested)
    {
        if (requested is not null)
            return DirectFormulas.Find(requested) ?? throw new InputException(null, "--reference",
                $"unknown reference '{requested}'{Suggest.DidYouMean(requested, DirectFormulas.Names)} (known: {string.Join(", ", DirectFormulas.Names)})");
        if (spec.Reference is { } declared)
            return DirectFormulas.Find(declared) ?? throw new InputException(spec.ReferenceNode?.Location ?? SourceLocation.FileOnly(spec.File), "reference",
                $"unknown reference '{declared}'{Suggest.DidYouMean(declared, DirectFormulas.Names)} (known: {string.Join(", ", DirectFormulas.Names)})");
        if (spec.Attention is not null) return DirectFormulas.Find("softmax-attention")!;
        throw new InputException(SourceLocation.FileOnly(spec.File), "reference",
            $"nothing to compare with: the workload declares no reference: and no attention: section; pass --against REF.yaml or --reference NAME ({string.Join(", ", DirectFormulas.Names)})");
    }

    private static WorkloadSpec LoadAgainst(string path)
    {
        if (!File.Exists(path)) throw new InputException(null, "--against", $"file not found: {path}");
        return WorkloadLoader.LoadSpec(path);
    }

    private static void CheckOverridesAreKnown(IReadOnlyDictionary<string, string> overrides, WorkloadSpec spec, WorkloadSpec? other)
    {
        var declared = spec.Params.Select(p => p.Name).Concat(other?.Params.Select(p => p.Name) ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var name in overrides.Keys.Where(n => !declared.Contains(n)))
            throw new InputException(SourceLocation.FileOnly(spec.File), "--set " + name,
                $"unknown parameter '{name}'{Suggest.DidYouMean(name, declared)} (workload parameters: {string.Join(", ", spec.Params.Select(p => p.Name))})");
    }

    /// <summary>Binds the workload at small sizes: --set values, then <see cref="Small"/> for plain-number defaults above it.</summary>
    public static (Cascade Cascade, ImmutableArray<CheckSize> Sizes) BindSmall(WorkloadSpec spec, IReadOnlyDictionary<string, string> overrides)
    {
        var defaults = spec.Params.ToDictionary(p => p.Name, p => p.Text, StringComparer.Ordinal);
        if (spec.ModelFile is not null)
            foreach (var p in WorkloadLoader.LoadModelParams(spec.ModelFile).Where(p => defaults.ContainsKey(p.Name)))
                defaults[p.Name] = p.Text;
        var chosen = new Dictionary<string, string>(StringComparer.Ordinal);
        var sizes = ImmutableArray.CreateBuilder<CheckSize>();
        foreach (var p in spec.Params)
        {
            if (overrides.TryGetValue(p.Name, out var given))
            {
                chosen[p.Name] = given;
                sizes.Add(new CheckSize(p.Name, given, "--set"));
            }
            else if (Small.TryGetValue(p.Name, out var small)
                     && double.TryParse(defaults[p.Name], NumberStyles.Float, CultureInfo.InvariantCulture, out var literal) && literal > small)
            {
                chosen[p.Name] = Invariant.Num(small);
                sizes.Add(new CheckSize(p.Name, Invariant.Num(small), "shrunk from " + defaults[p.Name]));
            }
        }
        var cascade = WorkloadLoader.Bind(spec, chosen);
        var work = cascade.Einsums.Aggregate(0L, (a, e) => a + Math.Min(e.DenseIterationPoints, MaxPoints + 1));
        if (work > MaxPoints)
        {
            var largest = cascade.Ranks.Where(r => !r.IsPartition).OrderByDescending(r => r.Size).Take(3).Select(r => $"{r.Name}={r.Size}");
            throw new InputException(SourceLocation.FileOnly(spec.File), "--set",
                $"too large to check: over {MaxPoints:N0} iteration points at these sizes (largest ranks {string.Join(", ", largest)}); give smaller sizes with --set");
        }
        return (cascade, sizes.ToImmutable());
    }

    private static InterpreterResult Evaluate(Cascade cascade, IReadOnlyDictionary<string, DenseTensor> inputs)
    {
        try { return Interpreter.Run(cascade, inputs); }
        catch (InvalidOperationException e)
        {
            throw new InputException(SourceLocation.FileOnly(cascade.File), "einsums", $"cannot evaluate: {e.Message}");
        }
    }

    private static ImmutableDictionary<string, DenseTensor> SharedInputs(Cascade mine, IReadOnlyDictionary<string, DenseTensor> inputs, Cascade theirs, string file)
    {
        var result = ImmutableDictionary.CreateBuilder<string, DenseTensor>(StringComparer.Ordinal);
        foreach (var t in theirs.Tensors.Where(t => t.Role == TensorRole.Input))
        {
            if (!inputs.TryGetValue(t.Name, out var given))
                throw new InputException(SourceLocation.FileOnly(file), "--against",
                    $"input {t} has no input of that name in {Path.GetFileName(mine.File)} (its inputs: {string.Join(", ", inputs.Keys.Order())})");
            if (!given.Extents.SequenceEqual(t.Extents))
                throw new InputException(SourceLocation.FileOnly(file), "--against",
                    $"input {t.Name} has extents [{string.Join(",", t.Extents)}] here but [{string.Join(",", given.Extents)}] in {Path.GetFileName(mine.File)}; give both the same sizes with --set");
            result[t.Name] = given;
        }
        return result.ToImmutable();
    }

    private static List<(TensorDef Mine, TensorDef Theirs)> PairOutputs(Cascade mine, Cascade theirs, string file)
    {
        var a = mine.Tensors.Where(t => t.Role == TensorRole.Output).ToList();
        var b = theirs.Tensors.Where(t => t.Role == TensorRole.Output).ToList();
        var pairs = a.Select(x => (x, b.FirstOrDefault(y => y.Name == x.Name))).Where(p => p.Item2 is not null).Select(p => (p.x, p.Item2!)).ToList();
        if (pairs.Count == 0 && a.Count == 1 && b.Count == 1) pairs.Add((a[0], b[0]));
        if (pairs.Count == 0)
            throw new InputException(SourceLocation.FileOnly(file), "--against",
                $"no output to compare: outputs {string.Join(", ", a.Select(t => t.Name))} here, {string.Join(", ", b.Select(t => t.Name))} there");
        return pairs;
    }

    private static TensorDef SoleOutput(Cascade c)
    {
        if (c.Attention is { } info) return c.Tensor(info.Output);
        var outputs = c.Tensors.Where(t => t.Role == TensorRole.Output).ToList();
        if (outputs.Count != 1)
            throw new InputException(SourceLocation.FileOnly(c.File), "outputs",
                $"a direct formula gives one output, but the workload has {outputs.Count} ({string.Join(", ", outputs.Select(t => t.Name))}); list the one to check under outputs:");
        return outputs[0];
    }

    /// <summary>Largest |actual - expected| / max(|expected|, 1); the first presence difference or NaN is a mismatch.</summary>
    public static OutputComparison Compare(DenseTensor actual, DenseTensor expected, string expectedLabel)
    {
        if (!actual.Extents.SequenceEqual(expected.Extents))
            return new OutputComparison(actual.Name, actual.Extents, 0,
                $"extents [{string.Join(",", actual.Extents)}] differ from {expectedLabel}'s [{string.Join(",", expected.Extents)}]");
        double worst = 0;
        for (long i = 0; i < expected.Length; i++)
        {
            string Where() => $"{actual.Name}[{string.Join(",", actual.IndexOf(i))}]";
            if (actual.Present[i] != expected.Present[i])
                return new OutputComparison(actual.Name, actual.Extents, worst,
                    $"{Where()} is {(actual.Present[i] ? "present" : "empty")} but {(expected.Present[i] ? "present" : "empty")} in {expectedLabel}");
            if (!actual.Present[i]) continue;
            double a = actual.Values[i], e = expected.Values[i];
            if (!double.IsFinite(a) || !double.IsFinite(e))
                return new OutputComparison(actual.Name, actual.Extents, worst,
                    $"{Where()} is not a finite number ({(double.IsFinite(a) ? "in " + expectedLabel : "in the cascade")})");
            worst = Math.Max(worst, Math.Abs(a - e) / Math.Max(Math.Abs(e), 1));
        }
        return new OutputComparison(actual.Name, actual.Extents, worst, null);
    }
}
