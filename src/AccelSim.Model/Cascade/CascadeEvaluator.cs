using System.Collections.Concurrent;
using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;
using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Model.Cascade;

/// <summary>
/// Prices a whole Einsum cascade on a study architecture. It does not search: each Einsum's mapping comes from the
/// architecture's templates (its dataflow), tile sizes that must fit a buffer are solved in closed form over the
/// divisors of one rank, and the single-Einsum model (<see cref="ModelContext"/>) counts every access.
///
/// What the cascade level adds to the single-Einsum counts:
/// * Residence. Cascade inputs and outputs, and intermediates the architecture puts off chip, live in DRAM.
///   Every other intermediate stays on chip at the outermost level that keeps it (e.g. QK in the PE registers,
///   the running max RM in the global buffer): its DRAM accesses do not exist, and its producer writes it in place
///   (no fill at that level).
/// * Fusion groups. Einsums linked by on-chip intermediates form a group; the group's buffer footprint is the sum,
///   over the tensors the buffer keeps, of each tensor's largest tile. A `fit` tile (FuseMax's P1) is the largest one
///   whose footprint fits; otherwise a spill fraction sends that share of the buffered traffic to DRAM (FLAT).
/// * Schedule. Per-Einsum array times combine by the stages of the architecture's schedule (see
///   <see cref="Schedule"/>), which yields latency, per-array utilisation and load imbalance.
/// * Masks. Each Einsum's problem carries its mask (its `where:`, its inputs' supports, less the trivial points an
///   empty operand makes known), so the single-Einsum model skips its empty tiles and array time counts only the
///   steps that hold work (<see cref="AccelSim.Mapping.IterationMask"/>).
/// Thread-safe: one evaluator may price many points concurrently.
/// </summary>
public sealed class CascadeEvaluator
{
    // Parsed workload and model files, shared by every evaluator of the process (sweeps build one per architecture).
    private static readonly ConcurrentDictionary<string, WorkloadSpec> SpecCache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ImmutableArray<ParamSource>> ModelCache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Architecture> _unbounded = new(StringComparer.Ordinal);

    public CascadeArchitecture Architecture { get; }

    public CascadeEvaluator(CascadeArchitecture architecture)
    {
        Architecture = architecture;
        foreach (var s in architecture.Sections)
        {
            // The buffer's capacity is the fusion analysis's business (tiles are sized or spilled to fit it), so the
            // single-Einsum model sees it unbounded; register files keep their capacities and are checked.
            var hw = architecture.Hardware;
            var level = hw.FindLevel(s.Buffer)!;
            _unbounded[s.Key] = hw with { Storage = hw.Storage.Replace(level, level with { CapacityWords = null }) };
        }
    }

    /// <summary>
    /// Loads both sections' workloads for a model shape and sequence length (plus overrides) and prices them;
    /// <paramref name="attentionOnly"/> skips the end-to-end section.
    /// </summary>
    public CascadeReport Evaluate(string? modelFile, IReadOnlyDictionary<string, string> overrides, bool attentionOnly = false)
    {
        ImmutableArray<ParamSource>? modelParams = modelFile is null ? null : ModelCache.GetOrAdd(Path.GetFullPath(modelFile), WorkloadLoader.LoadModelParams);
        return Evaluate(modelParams, overrides, attentionOnly);
    }

    /// <summary>As <see cref="Evaluate(string?, IReadOnlyDictionary{string, string}, bool)"/>, with a model shape's parameters given directly.</summary>
    public CascadeReport Evaluate(ImmutableArray<ParamSource>? modelParams, IReadOnlyDictionary<string, string> overrides, bool attentionOnly = false)
    {
        var attention = Bind(Architecture.Attention, modelParams, overrides);
        var a = EvaluateSection(Architecture.Attention, attention);
        SectionResult? e = null;
        if (!attentionOnly && Architecture.EndToEnd is { } ee) e = EvaluateSection(ee, Bind(ee, modelParams, overrides));
        return new CascadeReport(Architecture.Name, Architecture.Label, a, e);
    }

    public AccelSim.Einsum.Ir.Cascade Bind(SectionSpec section, ImmutableArray<ParamSource>? modelParams, IReadOnlyDictionary<string, string> overrides)
    {
        var spec = SpecCache.GetOrAdd(section.WorkloadPath, WorkloadLoader.LoadSpec);
        if (modelParams is null && spec.ModelFile is { } own) modelParams = ModelCache.GetOrAdd(Path.GetFullPath(own), WorkloadLoader.LoadModelParams);
        // A workload takes the overrides it declares; the others (meant for the other section) are ignored.
        var declared = spec.Params.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var mine = overrides.Where(kv => declared.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return CascadeBinder.Bind(spec, mine, modelParams);
    }

    private sealed class EinsumState
    {
        public required EinsumProblem Problem;
        public required ArraySpec Array;
        public required ArchPath Path;
        public required ModelContext Context;
        public required MappingTemplate Template;
        public required ImmutableArray<MappingTemplate> Alternatives;
        public required int BufferLevel;
        public int Group;
    }

    public SectionResult EvaluateSection(SectionSpec section, AccelSim.Einsum.Ir.Cascade cascade)
    {
        CascadeNames.Check(section, cascade);
        var hw = _unbounded[section.Key];
        var loc = section.Location;
        var names = section.Einsums ?? cascade.Einsums.Select(e => e.Name).ToImmutableArray();
        foreach (var (einsum, _) in section.Binding)
            if (cascade.FindEinsum(einsum) is null)
                throw new InputException(loc, $"{section.Key}.binding", $"workload {cascade.Name} has no Einsum '{einsum}' (has: {string.Join(", ", cascade.Einsums.Select(e => e.Name))})");
        var einsums = names.Select(n => cascade.FindEinsum(n)
                          ?? throw new InputException(loc, $"{section.Key}.einsums", $"workload {cascade.Name} has no Einsum '{n}'")).ToList();

        IReadOnlyDictionary<string, string>? settings = Architecture.Settings?.Row(p => cascade.Parameters.TryGetValue(p, out var v) ? v : null);

        // Residence: which tensors live in DRAM.
        var produced = einsums.ToDictionary(e => e.Output.Tensor, e => e.Name, StringComparer.Ordinal);
        var consumed = new HashSet<string>(einsums.SelectMany(e => e.Inputs.Select(i => i.Tensor)), StringComparer.Ordinal);
        var tensors = einsums.SelectMany(e => e.Inputs.Select(i => i.Tensor).Prepend(e.Output.Tensor)).Distinct().ToList();
        string? Location(string t)
        {
            if (section.LocationColumn is null || settings is null) return null;
            return settings.TryGetValue(section.LocationColumn.Replace("{tensor}", t, StringComparison.Ordinal), out var v) ? v : null;
        }
        var intermediates = tensors.Where(t => produced.ContainsKey(t) && consumed.Contains(t)).ToHashSet(StringComparer.Ordinal);
        var onChip = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in intermediates)
        {
            var l = Location(t);
            if (section.Offchip.Contains(t) || l == "offchip") continue;
            onChip.Add(t);
        }
        var onChipSet = tensors.Where(t => onChip.Contains(t) || Location(t) == "onchip").ToHashSet(StringComparer.Ordinal);
        IEnumerable<string> Expand(string token) => token switch
        {
            "onchip" => onChipSet,
            "offchip" => tensors.Where(t => !onChipSet.Contains(t)),
            "intermediates" => onChip,
            "inputs" => tensors.Where(t => !produced.ContainsKey(t)),
            "outputs" => tensors.Where(t => produced.ContainsKey(t) && !consumed.Contains(t)),
            "all" => tensors,
            _ => [token],
        };

        // Symbols: rank sizes, workload parameters, numeric settings, then the section's own.
        var symbols = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in cascade.Parameters) symbols[k] = v;
        foreach (var r in cascade.Ranks) symbols[r.Name] = r.Size;
        if (settings is not null)
            foreach (var (k, v) in settings)
                if (Invariant.TryParseDouble(v, out var d)) symbols[k] = d;
        double? Lookup(string n) => symbols.TryGetValue(n, out var v) ? v : null;
        var fits = new List<FitSymbol>();
        foreach (var s in section.Symbols)
        {
            switch (s)
            {
                case ExpressionSymbol e:
                    symbols[s.Name] = e.Expression.Evaluate(Lookup, s.Location, $"symbols.{s.Name}");
                    break;
                case CaseSymbol c:
                    var key = settings is not null && settings.TryGetValue(c.Column, out var text) ? text
                        : throw new InputException(s.Location, $"symbols.{s.Name}", $"no settings column '{c.Column}' for this point");
                    if (!c.Cases.TryGetValue(key, out var expr))
                        throw new InputException(s.Location, $"symbols.{s.Name}", $"no case for {c.Column} = '{key}' (cases: {string.Join(", ", c.Cases.Keys)})");
                    symbols[s.Name] = expr.Evaluate(Lookup, s.Location, $"symbols.{s.Name}");
                    break;
                case FitSymbol f:
                    foreach (var rank in f.Ranks)
                        if (cascade.FindRank(rank) is null)
                            throw new InputException(s.Location, $"symbols.{s.Name}.fit", $"workload {cascade.Name} has no rank '{rank}'");
                    fits.Add(f);
                    break;
            }
        }

        // Einsums: problem, array, path, template, single-Einsum model.
        var states = new List<EinsumState>();
        foreach (var e in einsums)
        {
            if (!section.Binding.TryGetValue(e.Name, out var arrayName))
                throw new InputException(loc, $"{section.Key}.binding", $"Einsum '{e.Name}' is not bound to an array");
            var array = section.Array(arrayName);
            var unit = hw.Compute.First(c => c.Name == array.Compute);
            var path = hw.PathTo(unit);
            int buffer = path.IndexOf(section.Buffer);
            if (buffer < 0)
                throw new InputException(loc, $"{section.Key}.buffer", $"buffer '{section.Buffer}' is not on the path to {unit.Name}");
            var problem = EinsumProblem.From(cascade, e);
            var alternatives = TemplatesFor(section, e.Name, arrayName, settings);
            ModelContext ctx;
            try { ctx = new ModelContext(path, problem.Shape); }
            catch (InputException ex) { throw new InputException(ex.Location ?? loc, $"{section.Key}.{e.Name}", ex.Problem); }
            states.Add(new EinsumState
            {
                Problem = problem, Array = array, Path = path, Context = ctx, Template = alternatives[0], Alternatives = alternatives, BufferLevel = buffer,
            });
        }

        // Fusion groups: union-find over on-chip intermediates.
        var parent = Enumerable.Range(0, states.Count).ToArray();
        int Find(int i) => parent[i] == i ? i : parent[i] = Find(parent[i]);
        var index = states.Select((s, i) => (s.Problem.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        foreach (var t in onChip)
        {
            int p = index[produced[t]];
            for (int i = 0; i < states.Count; i++)
                if (states[i].Problem.Einsum.Inputs.Any(a => a.Tensor == t)) parent[Find(i)] = Find(p);
        }
        var groupIds = Enumerable.Range(0, states.Count).Select(Find).Distinct().ToList();
        foreach (var s in states) s.Group = groupIds.IndexOf(Find(states.IndexOf(s)));

        // The section may size its tiles for a share of the buffer (e.g. +Cascade keeps FuseMax's 16 MiB tiling on FLAT's 32 MiB).
        var capacity = Math.Min(Architecture.Hardware.FindLevel(section.Buffer)!.EffectiveCapacityWords ?? long.MaxValue,
            section.BufferBudgetWords ?? long.MaxValue);
        var groups = new List<FusionGroup>();
        var groupSymbols = new List<Dictionary<string, double>>();
        var groupSpill = new List<double>();
        for (int g = 0; g < groupIds.Count; g++)
        {
            var members = states.Where(s => s.Group == g).ToList();
            var choices = members.Count == 1 ? members[0].Alternatives : [members[0].Template];
            if (members.Count > 1 && members.Any(m => m.Alternatives.Length > 1))
                throw new InputException(loc, $"{section.Key}.use",
                    $"template alternatives need an Einsum alone in its fusion group ({string.Join(", ", members.Select(m => m.Problem.Name))} are fused)");
            Dictionary<string, double> gsym = null!;
            ImmutableDictionary<string, double>.Builder tiles = null!;
            for (int c = 0; c < choices.Length; c++)
            {
                if (members.Count == 1) members[0].Template = choices[c];
                gsym = new Dictionary<string, double>(symbols, StringComparer.Ordinal);
                tiles = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
                bool whole = true;
                var used = members.SelectMany(m => m.Template.Levels).SelectMany(l => l.Temporal.Concat(l.SpatialX).Concat(l.SpatialY))
                    .Where(l => l.Extent is not null).SelectMany(l => l.Extent!.Symbols).ToHashSet(StringComparer.Ordinal);
                foreach (var f in fits.Where(f => used.Contains(f.Name)))
                {
                    var size = f.Ranks.Aggregate(1L, (a, r) => a * cascade.Rank(r).Size);
                    var candidates = Divisors(size);
                    // Footprints grow with the tile: binary search for the largest candidate that fits.
                    int lo = 0, hi = candidates.Count - 1, best = -1;
                    while (lo <= hi)
                    {
                        int mid = (lo + hi) / 2;
                        gsym[f.Name] = candidates[mid];
                        if (Footprint(members, gsym, Expand, section, out _) <= capacity) { best = mid; lo = mid + 1; }
                        else hi = mid - 1;
                    }
                    gsym[f.Name] = candidates[Math.Max(0, best)];
                    whole &= best == candidates.Count - 1;
                    tiles[f.Name] = EffectiveExtent(members, gsym, Expand, section, f.Ranks.Select(r => cascade.Rank(r).Variable)) ?? gsym[f.Name];
                }
                if (whole) break;
            }
            var footprint = Footprint(members, gsym, Expand, section, out var buffered);
            double spill;
            if (section.Spill.Fit) spill = footprint <= capacity ? 0 : 1 - (double)capacity / footprint;
            else if (section.Spill.SettingsColumn is { } col)
                spill = settings is not null && settings.TryGetValue(col, out var sv) && Invariant.TryParseDouble(sv, out var sd) ? sd
                    : throw new InputException(section.Spill.Location, $"{section.Key}.spill", $"no numeric settings column '{col}' for this point");
            else spill = section.Spill.Fixed ?? 0;
            if (footprint > capacity && spill == 0 && !section.Spill.Fit && section.Spill.SettingsColumn is null)
                throw new InputException(loc, $"{section.Key}.buffer",
                    $"{section.Buffer} is too small for fusion group {{{string.Join(", ", members.Select(m => m.Problem.Name))}}}: " +
                    $"its smallest tiles need {Invariant.Grouped(footprint)} words, capacity {Invariant.Grouped(capacity)}");
            groups.Add(new FusionGroup(g, members.Select(m => m.Problem.Name).ToImmutableArray(),
                onChip.Where(t => members.Any(m => m.Problem.Name == produced[t])).Order(StringComparer.Ordinal).ToImmutableArray(),
                buffered, tiles.ToImmutable(), footprint, capacity, spill));
            groupSymbols.Add(gsym);
            groupSpill.Add(spill);
        }

        // Price every Einsum.
        var dram = hw.Storage.First(l => l.Parent is null);
        double dramBytesPerSecond = (dram.SharedBandwidth ?? double.PositiveInfinity) * hw.ClockHz * (dram.WordBits / 8.0);
        var costs = new List<EinsumCost>();
        var levelUse = new Dictionary<string, long>(StringComparer.Ordinal);
        var energy = new Dictionary<string, double>(StringComparer.Ordinal);
        var staged = groups.Select(_ => new HashSet<string>(StringComparer.Ordinal)).ToList();
        foreach (var s in states)
        {
            var (cm, mapping) = Compile(s, groupSymbols[s.Group], Expand, section);
            var r = s.Context.CreateResult();
            if (!s.Context.Evaluate(cm, r))
            {
                var err = CostModel.Invalid(s.Context, r, mapping);
                throw new InputException(s.Template.Location ?? loc, $"{section.Key}.mappings.{s.Template.Name} ({s.Problem.Name})", err.Problem);
            }
            var cost = Price(s, cm, r, mapping, onChip, staged[s.Group], groupSpill[s.Group], dramBytesPerSecond, energy)
                with { ResolvedMapping = mapping, Template = s.Template.Name };
            costs.Add(cost);
            for (int l = 1; l < s.Path.LevelCount; l++)
            {
                var name = s.Path.Levels[l].Name;
                levelUse[name] = Math.Max(levelUse.GetValueOrDefault(name), r.CapacityUsed[l]);
            }
        }

        var schedule = Schedule(section, costs, hw.ClockHz);
        var buffers = hw.Storage.Where(l => l.Parent is not null).Select(l =>
        {
            var original = Architecture.Hardware.FindLevel(l.Name)!;
            long required = l.Name == section.Buffer ? groups.Select(g => g.FootprintWords).DefaultIfEmpty(0).Max() : levelUse.GetValueOrDefault(l.Name);
            return new BufferRequirement(l.Name, original.EffectiveCapacityWords, required, l.WordBits);
        }).ToImmutableArray();
        var traffic = costs.Sum(c => c.DramBytes);
        var total = costs.Sum(c => c.EnergyPJ);
        return new SectionResult(section.Key, cascade.Name, section.Buffer, schedule.Latency, schedule.Compute, schedule.Memory, traffic, total,
            schedule.Busy, costs.ToImmutableArray(), groups.ToImmutableArray(), buffers, schedule.Stages,
            energy.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new EnergyPart(kv.Key, kv.Value)).ToImmutableArray());
    }

    private static ImmutableArray<MappingTemplate> TemplatesFor(SectionSpec section, string einsum, string array, IReadOnlyDictionary<string, string>? settings)
    {
        ImmutableArray<string> names = section.Use.TryGetValue(einsum, out var u) ? u
            : section.Use.TryGetValue(array, out var ua) ? ua
            : section.Templates.ContainsKey(einsum) ? [einsum]
            : section.Templates.ContainsKey(array) ? [array] : [];
        if (names.IsEmpty)
            throw new InputException(section.Location, $"{section.Key}.mappings",
                $"no mapping template for Einsum '{einsum}' (name one after the Einsum or its array '{array}', or list it under use:)");
        return [.. names.Select(n => TemplateNamed(section, einsum, n, settings))];
    }

    private static MappingTemplate TemplateNamed(SectionSpec section, string einsum, string name, IReadOnlyDictionary<string, string>? settings)
    {
        // `${column}` picks a template by a settings value, e.g. qk-${QK_stationarity}.
        while (name.IndexOf("${", StringComparison.Ordinal) is var i and >= 0)
        {
            var j = name.IndexOf('}', i);
            if (j < 0) throw new InputException(section.Location, $"{section.Key}.use.{einsum}", $"unterminated ${{ in '{name}'");
            var col = name[(i + 2)..j];
            var value = settings is not null && settings.TryGetValue(col, out var v) ? v
                : throw new InputException(section.Location, $"{section.Key}.use.{einsum}", $"no settings column '{col}' for this point");
            name = name[..i] + value + name[(j + 1)..];
        }
        return section.Templates.TryGetValue(name, out var t) ? t
            : throw new InputException(section.Location, $"{section.Key}.use.{einsum}",
                $"unknown mapping template '{name}' (have: {string.Join(", ", section.Templates.Keys.Order(StringComparer.Ordinal))})");
    }

    private static (CompactMapping Compact, AccelSim.Mapping.Mapping Mapping) Compile(EinsumState s, Dictionary<string, double> symbols,
        Func<string, IEnumerable<string>> expand, SectionSpec section)
    {
        AccelSim.Mapping.Mapping mapping;
        try
        {
            mapping = s.Template.Resolve(s.Problem, s.Path, n => symbols.TryGetValue(n, out var v) ? v : null, expand);
            return (CompactMapping.From(mapping, s.Path, s.Problem.Shape), mapping);
        }
        catch (InputException e) when (e.Location is null)
        {
            throw new InputException(s.Template.Location ?? section.Location, $"{section.Key}.mappings.{s.Template.Name} ({s.Problem.Name})", e.Problem);
        }
    }

    /// <summary>The group's buffer footprint: each tensor the buffer keeps, at its largest tile over the group.</summary>
    private static long Footprint(List<EinsumState> members, Dictionary<string, double> symbols, Func<string, IEnumerable<string>> expand,
        SectionSpec section, out ImmutableArray<string> buffered)
    {
        var tile = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in members)
        {
            var (cm, _) = Compile(s, symbols, expand, section);
            var r = s.Context.CreateResult();
            s.Context.CheckCapacity(cm, r);
            int b = s.BufferLevel, T = s.Context.TensorCount;
            for (int t = 0; t < T; t++)
            {
                if ((cm.KeepMask[b] & (1 << t)) == 0) continue;
                var name = s.Problem.Tensors[t].Tensor;
                var words = r.TileWords[b * T + t] * WordsPerElement(s, b, t);
                tile[name] = Math.Max(tile.GetValueOrDefault(name), words);
            }
        }
        buffered = tile.Keys.Order(StringComparer.Ordinal).ToImmutableArray();
        return tile.Values.Sum();
    }

    /// <summary>The extent of dimension <paramref name="dim"/> that the buffer's tile covers (after rounding to divisors).</summary>
    private static double? EffectiveExtent(List<EinsumState> members, Dictionary<string, double> symbols, Func<string, IEnumerable<string>> expand,
        SectionSpec section, IEnumerable<string> dims)
    {
        var wanted = dims.ToList();
        foreach (var s in members)
        {
            var idx = wanted.Select(s.Problem.Shape.DimIndex).Where(d => d >= 0).ToList();
            if (idx.Count == 0) continue;
            var (cm, _) = Compile(s, symbols, expand, section);
            long extent = 1;
            int D = s.Context.DimCount;
            foreach (var d in idx)
                for (int l = s.BufferLevel; l < s.Path.LevelCount; l++)
                    extent *= (long)cm.Temporal[l * D + d] * cm.SpatialX[l * D + d] * cm.SpatialY[l * D + d];
            return extent;
        }
        return null;
    }

    private static long WordsPerElement(EinsumState s, int level, int t)
    {
        var lw = s.Path.Levels[level].WordBits;
        var bits = s.Problem.Shape.Tensors[t].WordBits ?? lw;
        return Math.Max(1, (bits + lw - 1) / lw);
    }

    private static List<double> Divisors(long n)
    {
        var small = new List<double>();
        var large = new List<double>();
        for (long i = 1; i * i <= n; i++)
        {
            if (n % i != 0) continue;
            small.Add(i);
            if (i != n / i) large.Add(n / i);
        }
        large.Reverse();
        small.AddRange(large);
        return small;
    }

    /// <summary>
    /// Turns the single-Einsum counts into the Einsum's share of the cascade: DRAM traffic of DRAM-resident tensors
    /// (plus the spilled share of buffered data), on-chip energy without the accesses of on-chip intermediates above
    /// their home level and without fills at their home (their producer writes them there), and array time.
    /// A fusion group runs its Einsums tile by tile under shared outer loops, so a DRAM tensor that an earlier Einsum
    /// of the group already brought into the buffer (<paramref name="staged"/>) is read from there, not from DRAM
    /// (e.g. the 3-pass softmax reads each QK row from DRAM once, for the max, and again from the buffer).
    /// </summary>
    private static EinsumCost Price(EinsumState s, CompactMapping cm, EvalResult r, AccelSim.Mapping.Mapping mapping, HashSet<string> onChip,
        HashSet<string> staged, double spill, double dramBytesPerSecond, Dictionary<string, double> energy)
    {
        var newlyStaged = new List<string>();
        var ctx = s.Context;
        var path = s.Path;
        int L = ctx.LevelCount, T = ctx.TensorCount, B = s.BufferLevel;
        double dramRead = 0, dramWrite = 0, onChipEnergy = 0;
        var levels = new List<LevelTraffic>();
        var levelEnergy = new double[L];
        var levelReads = new double[L];
        var levelWrites = new double[L];
        for (int t = 0; t < T; t++)
        {
            var tensor = s.Problem.Tensors[t].Tensor;
            bool buffered = (cm.KeepMask[B] & (1 << t)) != 0;
            bool resident = onChip.Contains(tensor) || (buffered && staged.Contains(tensor));
            if (buffered && !onChip.Contains(tensor)) newlyStaged.Add(tensor);
            int home = -1;
            if (resident)
                for (int l = 1; l < L && home < 0; l++)
                    if ((cm.KeepMask[l] & (1 << t)) != 0) home = l;
            double bytesPerElement = (s.Problem.Shape.Tensors[t].WordBits ?? path.Levels[0].WordBits) / 8.0;
            for (int l = 0; l < L; l++)
            {
                int i = l * T + t;
                double inst = r.UtilizedInstances[l];
                if (l == 0)
                {
                    if (resident) continue;
                    double keep = buffered ? 1 - spill : 1;
                    dramRead += keep * inst * r.Reads[i] * bytesPerElement;
                    dramWrite += keep * inst * (r.Updates[i] + r.Fills[i]) * bytesPerElement;
                    continue;
                }
                if (resident && l < home) continue;
                double fills = resident && l == home ? 0 : r.Fills[i];
                // An output's first arrival at a level is its producer's write (counted as an update), not a fetch:
                // legacy Timeloop's cold fills of outputs (one per distinct point an instance sees) move no data.
                // Refills of partial sums brought back from the parent remain.
                if (s.Problem.Tensors[t].IsOutput && fills > 0) fills = Math.Max(0, fills - r.Partition[i]);
                double fillEnergy = r.Fills[i] > 0 ? r.FillEnergy[i] * fills / r.Fills[i] : 0;
                var e = r.ReadEnergy[i] + fillEnergy + r.UpdateEnergy[i];
                levelEnergy[l] += e;
                levelReads[l] += inst * r.Reads[i];
                levelWrites[l] += inst * (fills + r.Updates[i]);
                onChipEnergy += e;
            }
            // Buffered data that overflows the buffer goes to DRAM and back (FLAT's spilling).
            if (spill > 0 && buffered)
            {
                double reads = (double)r.UtilizedInstances[B] * r.Reads[B * T + t];
                double writes = (double)r.UtilizedInstances[B] * r.Updates[B * T + t];
                dramRead += spill * reads * bytesPerElement;
                dramWrite += spill * writes * bytesPerElement;
            }
        }
        staged.UnionWith(newlyStaged);
        var dram = path.Levels[0];
        double blockBytes = dram.BlockSize * (dram.WordBits / 8.0);
        double dramEnergy = dramRead / blockBytes * dram.ReadEnergy.Value + dramWrite / blockBytes * dram.UpdateEnergy.Value;
        for (int l = 1; l < L; l++)
        {
            levels.Add(new LevelTraffic(path.Levels[l].Name, levelReads[l], levelWrites[l], levelEnergy[l]));
            energy[path.Levels[l].Name] = energy.GetValueOrDefault(path.Levels[l].Name) + levelEnergy[l];
        }
        energy["DRAM"] = energy.GetValueOrDefault("DRAM") + dramEnergy;
        energy[path.Compute.Name] = energy.GetValueOrDefault(path.Compute.Name) + r.ComputeEnergy;

        double cycles = s.Array.Issue == IssuePolicy.Serial ? r.ComputeCycles : r.ComputedIterations * ChainedCyclesPerPoint(s);
        long depth = 1;
        var outputDims = s.Problem.Einsum.OutputVariables.ToHashSet();
        for (int d = 0; d < ctx.DimCount; d++)
        {
            if (outputDims.Contains(d)) continue;
            for (int l = 0; l < L; l++) depth *= (long)cm.SpatialX[l * ctx.DimCount + d] * cm.SpatialY[l * ctx.DimCount + d];
        }
        var seconds = cycles / path.Architecture.ClockHz;
        return new EinsumCost(s.Problem.Name, s.Array.Name, path.Compute.Name, s.Group, r.ComputedIterations, cycles, seconds,
            r.SpatialUtilization, depth, r.Operations, dramRead, dramWrite, (dramRead + dramWrite) / dramBytesPerSecond,
            r.ComputeEnergy, onChipEnergy, dramEnergy, levels.ToImmutableArray(), LoopNestPrinter.Print(mapping, s.Problem.Shape, r.TileWords, path))
        {
            Mask = s.Problem.Shape.Mask,
            DensePoints = s.Problem.Shape.Points,
        };
    }

    /// <summary>A chained PE processes one point per cycle of its slowest unit.</summary>
    private static double ChainedCyclesPerPoint(EinsumState s)
    {
        double worst = 0;
        foreach (var op in s.Problem.Shape.OpsPerPoint)
        {
            if (op.Count == 0) continue;
            var spec = s.Path.Compute.Find(op.Kind)!;
            worst = Math.Max(worst, op.Count * spec.Cycles);
        }
        return worst;
    }

    private sealed record ScheduleResult(double Latency, double Compute, double Memory, ImmutableDictionary<string, double> Busy,
        ImmutableArray<StageTiming> Stages);

    /// <summary>
    /// The schedule as a stage-wise max of sums. Within a stage the arrays overlap and each runs its Einsums one after
    /// the other, so the stage takes the longest array's sum; stages follow one another. A stall stage is the time the
    /// arrays wait for a spatial reduction to drain: one reduction depth (e.g. 256 rows of a column) per tile of the
    /// named Einsum, because the next Einsum needs the reduced value before it can start on that tile. Memory either
    /// overlaps the whole schedule (latency = max(compute, memory)) or bounds each stage (per_stage).
    /// </summary>
    private static ScheduleResult Schedule(SectionSpec section, List<EinsumCost> costs, double clockHz)
    {
        var byName = costs.ToDictionary(c => c.Einsum, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stages = ImmutableArray.CreateBuilder<StageTiming>();
        var busy = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var a in section.Arrays) busy[a.Name] = 0;
        double compute = 0, total = 0;
        int k = 0;
        foreach (var st in section.Schedule.Stages)
        {
            double stall = 0, mem = 0, stageCompute = 0;
            var perArray = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
            if (st.StallAfter is { } after)
            {
                if (!byName.TryGetValue(after, out var c))
                    throw new InputException(st.Location, $"{section.Key}.schedule.stall", $"unknown Einsum '{after}'");
                stall = (double)c.TemporalIterations * c.ReductionDepth / clockHz;
                stageCompute = stall;
            }
            foreach (var (array, list) in st.Work)
            {
                double sum = 0;
                foreach (var e in list)
                {
                    if (!byName.TryGetValue(e, out var c))
                        throw new InputException(st.Location, $"{section.Key}.schedule", $"unknown Einsum '{e}' (section Einsums: {string.Join(", ", byName.Keys)})");
                    if (c.Array != array)
                        throw new InputException(st.Location, $"{section.Key}.schedule", $"Einsum '{e}' is bound to array '{c.Array}', not '{array}'");
                    if (!seen.Add(e)) throw new InputException(st.Location, $"{section.Key}.schedule", $"Einsum '{e}' is scheduled twice");
                    sum += c.Seconds;
                    mem += c.MemorySeconds;
                    busy[array] += c.BusySeconds;
                }
                perArray[array] = sum;
                stageCompute = Math.Max(stageCompute, sum);
            }
            double seconds = section.Schedule.Memory == MemoryOverlap.PerStage ? Math.Max(stageCompute, mem) : stageCompute;
            stages.Add(new StageTiming(k++, perArray.ToImmutable(), stall, stageCompute, mem, seconds));
            compute += stageCompute;
            total += seconds;
        }
        var missing = byName.Keys.Where(n => !seen.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new InputException(section.Schedule.Location, $"{section.Key}.schedule", $"Einsums not scheduled: {string.Join(", ", missing)}");
        double memory = costs.Sum(c => c.MemorySeconds);
        double latency = section.Schedule.Memory == MemoryOverlap.PerStage ? total : Math.Max(compute, memory);
        return new ScheduleResult(latency, compute, memory, busy.ToImmutableDictionary(StringComparer.Ordinal), stages.ToImmutable());
    }
}
