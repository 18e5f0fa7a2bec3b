using System.Collections.Immutable;
using System.Text.RegularExpressions;
using AccelSim.Core;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Syntax;
using AccelSim.Einsum.Analysis;

namespace AccelSim.Einsum.Loading;

/// <summary>
/// Turns a <see cref="WorkloadSpec"/> plus parameter overrides into a checked, bound <see cref="Cascade"/>:
/// resolves sizes, expands split-rank aliases (m = m1*M0 + m0), infers intermediate tensor shapes, checks every
/// access, derives operation counts, and orders Einsums by dependency (running recurrences allowed).
/// </summary>
public static partial class CascadeBinder
{
    [GeneratedRegex("^[A-Z][A-Za-z0-9_]*$")]
    private static partial Regex RankName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    /// <summary>Largest bound expression (after silu/gelu/sigmoid expand), in tree levels and in tree nodes.</summary>
    public const int MaxBoundDepth = 4 * Parser.MaxDepth, MaxBoundNodes = 100_000;

    public static Cascade Bind(WorkloadSpec spec, IReadOnlyDictionary<string, string>? overrides = null,
        IReadOnlyList<ParamSource>? modelParams = null)
    {
        var scope = new ParamScope();
        foreach (var p in spec.Params) scope.Declare(p);
        if (modelParams is not null)
            foreach (var p in modelParams.Where(p => scope.IsDeclared(p.Name)))
                scope.Declare(p);
        if (overrides is not null)
            foreach (var (name, text) in overrides)
            {
                if (!scope.IsDeclared(name))
                    throw new InputException(SourceLocation.FileOnly(spec.File), "--set " + name,
                        $"unknown parameter '{name}'{Suggest.DidYouMean(name, scope.Names)} (workload parameters: {string.Join(", ", scope.Names)})");
                scope.Declare(ParamScope.CommandLine(name, text));
            }
        var ctx = new BindContext(spec, scope);
        return ctx.Run();
    }

    private sealed class BindContext(WorkloadSpec spec, ParamScope scope)
    {
        internal ParamScope Scope => scope;
        private readonly Dictionary<string, Rank> _ranks = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Rank> _rankByVariable = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (ImmutableArray<string> Ranks, int WordBits, string? Role, SourceLocation Where, string Field)> _tensorShapes = new();
        private readonly HashSet<string> _declaredTensors = new(StringComparer.Ordinal);
        private int _defaultWordBits = 16;

        public Cascade Run()
        {
            if (scope.IsDeclared("word_bits")) _defaultWordBits = CheckedInt(scope.Get("word_bits"), scope.Source("word_bits"), "word_bits");
            BindRanks();
            foreach (var name in scope.Names)
                if (_rankByVariable.ContainsKey(name))
                {
                    var src = scope.Source(name);
                    throw new InputException(ParamScope.Shift(src), src.Field,
                        $"parameter '{name}' clashes with the index variable of rank {_rankByVariable[name].Name}; rename it");
                }
            foreach (var t in spec.Tensors) DeclareTensor(t);

            var statements = spec.Einsums.Select(ParseStatement).ToList();
            _produced.UnionWith(statements.Select(st => st.Statement.Output.Tensor));
            InferTensorShapes(statements);
            var einsums = statements.Select((s, i) => BindEinsum(s.Spec, s.Statement, i)).ToList();

            CheckSingleProducer(einsums);
            var ordered = DependencyOrder.Sort(einsums, spec);
            var tensors = BuildTensors(einsums);
            var attention = spec.Attention is null ? null : BindAttention(spec.Attention, tensors);

            return new Cascade(spec.Name, spec.Description, spec.File, scope.All(),
                [.. _ranks.Values], tensors, [.. ordered.Select((e, i) => e with { Index = i })], attention, _defaultWordBits);
        }

        // ------------------------------------------------------------------ ranks

        private void BindRanks()
        {
            foreach (var r in spec.Ranks)
            {
                try { BindRank(r); }
                catch (OverflowException)
                {
                    throw new InputException(r.Node.Location, r.Node.Path,
                        $"the partitions of rank {r.Name} multiply to more than 2^63" + SetNote());
                }
            }
        }

        /// <summary>" (window = -5 from --set, tile = 64)": the parameters an expression uses and their values, or "".</summary>
        internal string SetValues(Expr e)
        {
            var names = new List<string>();
            CollectNames(e, names);
            var used = names.Distinct().Where(scope.IsDeclared)
                .Select(n => $"{n} = {Invariant.Num(scope.Get(n))}" + (scope.Source(n).Origin == "--set" ? " from --set" : "")).ToList();
            return used.Count == 0 ? "" : $" ({string.Join(", ", used)})";
        }

        /// <summary>" (with --set a=1, b=2)" naming the command-line values in effect, or "".</summary>
        private string SetNote()
        {
            var set = scope.Names.Where(n => scope.Source(n).Origin == "--set").Select(n => $"{n}={scope.Source(n).Text}").ToList();
            return set.Count == 0 ? "" : $" (with --set {string.Join(", ", set)})";
        }

        private void BindRank(RankSpec r)
        {
            var field = r.Node.Path;
            if (!RankName().IsMatch(r.Name))
                throw new InputException(r.Node.Location, field, $"rank name '{r.Name}' must start with an upper-case letter (its index variable is the lower-case name)");
            var size = EvalSize(r.SizeText, r.Node, $"size of rank {r.Name}");
            if (r.Split.IsDefaultOrEmpty)
            {
                AddRank(new Rank(r.Name, size, null, [], 1), r.Node);
                return;
            }
            if (r.Split.Length < 2)
                throw new InputException(r.Node.Location, field, "a split needs at least two partitions (outer to inner)");
            var autos = r.Split.Count(p => p.SizeText is null);
            if (autos > 1 || (autos == 1 && r.Split[0].SizeText is not null))
                throw new InputException(r.Node.Location, field, "only the outermost partition may be 'auto'");
            var sizes = new long[r.Split.Length];
            for (var i = r.Split.Length - 1; i >= 1; i--)
                sizes[i] = EvalSize(r.Split[i].SizeText!, r.Split[i].Node, $"size of partition {r.Split[i].Name}");
            var inner = sizes.Skip(1).Aggregate(1L, (a, b) => checked(a * b));
            sizes[0] = r.Split[0].SizeText is null ? (size + inner - 1) / inner
                : EvalSize(r.Split[0].SizeText!, r.Split[0].Node, $"size of partition {r.Split[0].Name}");
            if (checked(sizes[0] * inner) < size)
                throw new InputException(r.Node.Location, field,
                    $"partitions {string.Join(" x ", r.Split.Select(p => p.Name))} = {sizes[0] * inner} do not cover {r.Name} = {size}");
            AddRank(new Rank(r.Name, size, null, [.. r.Split.Select(p => p.Name)], 1), r.Node);
            long stride = 1;
            var strides = new long[sizes.Length];
            for (var i = sizes.Length - 1; i >= 0; i--) { strides[i] = stride; stride = checked(stride * sizes[i]); }
            for (var i = 0; i < r.Split.Length; i++)
            {
                if (!RankName().IsMatch(r.Split[i].Name))
                    throw new InputException(r.Split[i].Node.Location, r.Split[i].Node.Path, $"partition name '{r.Split[i].Name}' must start with an upper-case letter");
                AddRank(new Rank(r.Split[i].Name, sizes[i], r.Name, [], strides[i]), r.Split[i].Node);
            }
        }

        private void AddRank(Rank rank, YNode node)
        {
            if (_ranks.ContainsKey(rank.Name) || _rankByVariable.ContainsKey(rank.Variable))
                throw new InputException(node.Location, node.Path, $"rank {rank.Name} is defined twice");
            _ranks[rank.Name] = rank;
            _rankByVariable[rank.Variable] = rank;
        }

        private long EvalSize(string text, YNode node, string what)
        {
            var src = new ParamSource(what, text, node.Location, node.Path, 0, "workload");
            Expr expr;
            try { expr = Parser.ParseExpression(text); }
            catch (SyntaxException e) { throw new InputException(ParamScope.Shift(src, e.Offset), src.Field, e.Message); }
            var v = scope.Evaluate(expr, src, RankSizeOrNull);
            var names = new List<string>();
            CollectNames(expr, names);
            var fromSet = names.Where(n => scope.IsDeclared(n) && scope.Source(n).Origin == "--set").Distinct().ToList();
            if (fromSet.Count > 0)
                src = src with { Origin = "--set", Text = string.Join(", ", fromSet.Select(n => $"{n} = {Invariant.Num(scope.Get(n))}")) };
            return CheckedSize(v, src, what);
        }

        private double? RankSizeOrNull(string name) => _ranks.TryGetValue(name, out var r) ? r.Size : null;

        private static long CheckedSize(double v, ParamSource src, string what)
        {
            if (double.IsNaN(v) || double.IsInfinity(v) || v != Math.Floor(v))
                throw new InputException(ParamScope.Shift(src), src.Field, $"{what} must be a whole number, got {Invariant.Num(v)}" + FromSet(src));
            if (v < 1)
                throw new InputException(ParamScope.Shift(src), src.Field, $"{what} must be positive, got {Invariant.Num(v)}" + FromSet(src));
            if (v > 1e15)
                throw new InputException(ParamScope.Shift(src), src.Field, $"{what} = {Invariant.Num(v)} is too large (at most 1e15)" + FromSet(src));
            return (long)v;
        }

        private static string FromSet(ParamSource src) => src.Origin == "--set" ? $" ({src.Text} from --set)" : "";

        private static int CheckedInt(double v, ParamSource src, string what)
        {
            if (v != Math.Floor(v) || v < 1 || v > 1024)
                throw new InputException(ParamScope.Shift(src), src.Field, $"{what} must be a whole number between 1 and 1024, got {Invariant.Num(v)}");
            return (int)v;
        }

        // ------------------------------------------------------------------ tensors

        private void DeclareTensor(TensorSpec t)
        {
            if (!Identifier().IsMatch(t.Name))
                throw new InputException(t.Node.Location, t.Node.Path, $"'{t.Name}' is not a valid tensor name");
            if (!_declaredTensors.Add(t.Name))
                throw new InputException(t.Node.Location, t.Node.Path, $"tensor {t.Name} is declared twice");
            if (_ranks.ContainsKey(t.Name) || scope.IsDeclared(t.Name))
                throw new InputException(t.Node.Location, t.Node.Path, $"tensor name {t.Name} clashes with a rank or parameter");
            foreach (var r in t.Ranks)
                if (!_ranks.ContainsKey(r))
                    throw new InputException(t.Node.Location, t.Node.Path, $"unknown rank '{r}' (ranks: {string.Join(", ", _ranks.Keys)})");
            if (t.Ranks.Distinct().Count() != t.Ranks.Length)
                throw new InputException(t.Node.Location, t.Node.Path, $"tensor {t.Name} lists a rank twice");
            var bits = t.WordBits ?? _defaultWordBits;
            if (bits is < 1 or > 1024)
                throw new InputException(t.Node.Location, t.Node.Path + ".word_bits", "word_bits must be between 1 and 1024");
            _tensorShapes[t.Name] = (t.Ranks, bits, t.Role, t.Node.Location, t.Node.Path);
        }

        private sealed record ParsedStatement(EinsumSpec Spec, EinsumStatement Statement);

        private ParsedStatement ParseStatement(EinsumSpec s)
        {
            try
            {
                return new ParsedStatement(s, Parser.ParseEinsum(s.Text));
            }
            catch (SyntaxException e)
            {
                throw new InputException(At(s.TextNode, e.Offset), s.TextNode.Path, e.Message);
            }
        }

        private static SourceLocation At(YNode node, int offset) =>
            node.Location with { Column = node.Location.Column + offset };

        /// <summary>Intermediate tensors need not be declared: their ranks come from the Einsum that writes them.</summary>
        private void InferTensorShapes(List<ParsedStatement> statements)
        {
            foreach (var (s, st) in statements)
            {
                var name = st.Output.Tensor;
                if (_tensorShapes.ContainsKey(name)) continue;
                if (_ranks.ContainsKey(name) || scope.IsDeclared(name))
                    throw new InputException(s.TextNode.Location, s.TextNode.Path, $"output name {name} clashes with a rank or parameter");
                var ranks = new List<string>();
                foreach (var idx in st.Output.Indices)
                {
                    var vars = new List<string>();
                    CollectNames(idx, vars);
                    var rankVars = vars.Where(_rankByVariable.ContainsKey).Distinct().ToList();
                    if (rankVars.Count != 1)
                        throw new InputException(At(s.TextNode, idx.Offset), s.TextNode.Path,
                            $"cannot infer the rank of {name}'s index '{SliceText(s.Text, idx)}'; declare {name} under tensors:");
                    ranks.Add(_rankByVariable[rankVars[0]].Name);
                }
                _tensorShapes[name] = ([.. ranks], _defaultWordBits, null, s.TextNode.Location, s.TextNode.Path);
            }
        }

        private static string SliceText(string text, Expr e) => e.Offset < text.Length ? text[e.Offset..].Split(',', ']')[0].Trim() : "?";

        private static void CollectNames(Expr e, List<string> names)
        {
            switch (e)
            {
                case NameExpr n: names.Add(n.Name); break;
                case UnaryExpr u: CollectNames(u.Operand, names); break;
                case BinaryExpr b: CollectNames(b.Left, names); CollectNames(b.Right, names); break;
                case CallExpr c: foreach (var a in c.Args) CollectNames(a, names); break;
                case AccessExpr a: foreach (var i in a.Indices) CollectNames(i, names); break;
                case ReduceExpr r: names.AddRange(r.Variables); CollectNames(r.Body, names); break;
            }
        }

        // ------------------------------------------------------------------ einsums

        private ExtendedEinsum BindEinsum(EinsumSpec s, EinsumStatement st, int order)
        {
            var name = s.Name ?? st.Output.Tensor;
            ExtendedEinsum e;
            try { e = new EinsumBuilder(this, s, st).Build(order); }
            catch (OverflowException)
            {
                throw new InputException(s.TextNode.Location, s.TextNode.Path, $"{name}: index arithmetic overflows 64-bit integers at these sizes" + SetNote());
            }
            try { _ = e.DenseIterationPoints; }
            catch (OverflowException)
            {
                throw new InputException(s.TextNode.Location, s.TextNode.Path,
                    $"{name}: its iteration space ({string.Join(" x ", e.Iteration.Select(v => $"{v.Name}:{v.Size}"))}) has more than 2^63 points" + SetNote());
            }
            return e;
        }

        private sealed class EinsumBuilder(BindContext ctx, EinsumSpec spec, EinsumStatement st)
        {
            private readonly List<IterationVariable> _vars = [];
            private readonly Dictionary<string, AffineIndex> _aliases = new(StringComparer.Ordinal);
            private readonly List<TensorAccess> _inputs = [];
            private readonly List<BoundExpr> _implicitFilters = [];
            private Expr? _whereExpr;
            private bool _bindingWhere;

            private InputException Fail(Expr at, string message) => Fail(at.Offset, message);

            private InputException Fail(int offset, string message) =>
                new(At(spec.TextNode, offset), spec.TextNode.Path, $"{Name}: {message}");

            private InputException FailWhere(Expr at, string message) =>
                new(At(spec.WhereNode!, at.Offset), spec.WhereNode!.Path, $"{Name}: {message}");

            private string Name => spec.Name ?? st.Output.Tensor;

            public ExtendedEinsum Build(int order)
            {
                if (spec.Where is not null)
                {
                    try { _whereExpr = Parser.ParseExpression(spec.Where); }
                    catch (SyntaxException e) { throw new InputException(At(spec.WhereNode!, e.Offset), spec.WhereNode!.Path, e.Message); }
                }

                var (reduceOp, explicitVars, body) = st.Right is ReduceExpr r
                    ? ((ReduceOp?)r.Op, r.Variables, r.Body)
                    : (null, ImmutableArray<string>.Empty, st.Right);
                CheckNoNestedReduce(body);

                DiscoverVariables(explicitVars, body);

                var output = BindOutput();
                var outputVars = output.Indices.Select(i => i.SoleVariable!.Value).ToHashSet();
                var reduceVars = Enumerable.Range(0, _vars.Count).Where(v => !outputVars.Contains(v)).ToImmutableArray();
                if (!explicitVars.IsEmpty)
                {
                    foreach (var v in explicitVars)
                    {
                        var idx = _vars.FindIndex(x => x.Name == v);
                        if (idx < 0 && !_aliases.ContainsKey(v))
                            throw Fail(st.Right, $"reduces over '{v}', which is not an index variable of this Einsum");
                        if (idx >= 0 && outputVars.Contains(idx))
                            throw Fail(st.Right, $"reduces over '{v}', but '{v}' also indexes the output");
                    }
                    var named = ExpandReduceNames(explicitVars);
                    var missing = reduceVars.Where(v => !named.Contains(_vars[v].Name)).Select(v => _vars[v].Name).ToList();
                    if (missing.Count > 0)
                        throw Fail(st.Right, $"index variable(s) {string.Join(", ", missing)} appear only on the right-hand side but are not reduced; add them to the reduction or the output");
                }
                var reduce = reduceOp ?? (reduceVars.IsEmpty ? null : ReduceOp.Sum);

                var bound = BindValue(body);
                BoundExpr? filter = null;
                if (_whereExpr is not null)
                {
                    _bindingWhere = true;
                    filter = BindValueIn(_whereExpr, FailWhere);
                    _bindingWhere = false;
                    if (filter is ConstExpr always && always.Value != 0) filter = null;
                }
                foreach (var f in _implicitFilters) filter = filter is null ? f : new BinaryBound(BinaryFn.And, filter, f);

                CheckAccess(output, isWrite: true, st.Output);
                CheckExpandedSize(bound, st.Right);
                if (filter is not null) CheckExpandedSize(filter, _whereExpr ?? st.Right);
                var ops = OperationCounter.PerPoint(bound, reduce);
                double? density = null;
                if (spec.Density is { } dn)
                {
                    var d = dn.AsDouble();
                    if (!(d is > 0 and <= 1)) throw dn.Error($"density must be in (0, 1], got {Invariant.Num(d)}");
                    if (filter is null || !filter.Reads().Any())
                        throw dn.Error("density is declared only for a where: that reads a tensor (a data-dependent mask); this Einsum's mask is counted exactly");
                    density = d;
                }
                else if (filter is not null && TopKDensity(filter) is { } implied) density = implied;
                return new ExtendedEinsum(Name, order, [.. _vars], output, [.. _inputs], bound, reduce, reduceVars, filter,
                    spec.Init, ops, spec.Text.Trim() + (spec.Where is null ? "" : $"  where {spec.Where}"), spec.TextNode.Location)
                { DeclaredDensity = density };
            }

            /// <summary>
            /// The fraction a data-dependent filter keeps when it is only top-k selections (k of the selected rank's
            /// size each); null when some other part reads a tensor, whose density must be declared.
            /// </summary>
            private static double? TopKDensity(BoundExpr filter)
            {
                var data = new ExtendedEinsumConjuncts(filter).Data;
                if (data.Count == 0) return null;
                var fraction = 1.0;
                foreach (var c in data)
                {
                    var t = c switch
                    {
                        TopKExpr top => top,
                        BinaryBound { Fn: BinaryFn.Gt or BinaryFn.Ne, Left: TopKExpr top, Right: ConstExpr { Value: 0 } } => top,
                        BinaryBound { Fn: BinaryFn.Eq, Left: TopKExpr top, Right: ConstExpr { Value: 1 } } => top,
                        _ => null,
                    };
                    if (t is null) return null;
                    fraction *= (double)t.K / t.Size;
                }
                return fraction;
            }

            private sealed class ExtendedEinsumConjuncts
            {
                public List<BoundExpr> Data { get; } = [];
                public ExtendedEinsumConjuncts(BoundExpr e) => Walk(e);
                private void Walk(BoundExpr e)
                {
                    if (e is BinaryBound { Fn: BinaryFn.And } b) { Walk(b.Left); Walk(b.Right); }
                    else if (e.Reads().Any()) Data.Add(e);
                }
            }

            /// <summary>
            /// Every later pass walks a bound expression as a tree. silu and gelu use their argument twice, so nesting
            /// them doubles the tree each time: refuse trees that grow past what those walks can afford.
            /// </summary>
            private void CheckExpandedSize(BoundExpr e, Expr at)
            {
                var (depth, nodes) = Analysis.Support.Measure(e, MaxBoundDepth, MaxBoundNodes);
                if (depth > MaxBoundDepth || nodes > MaxBoundNodes)
                    throw Fail(at, "the expression expands to " + (depth > MaxBoundDepth ? $"more than {MaxBoundDepth} levels" : $"more than {MaxBoundNodes:N0} operations") +
                        " (nested silu/gelu repeat their argument); split it into several Einsums");
            }

            private HashSet<string> ExpandReduceNames(ImmutableArray<string> names)
            {
                var set = new HashSet<string>(StringComparer.Ordinal);
                foreach (var n in names)
                {
                    if (_aliases.TryGetValue(n, out var a)) foreach (var t in a.Terms) set.Add(t.VariableName);
                    else set.Add(n);
                }
                return set;
            }

            private void CheckNoNestedReduce(Expr e)
            {
                switch (e)
                {
                    case ReduceExpr r: throw Fail(r, "a reduction must be the whole right-hand side (one reduction per Einsum)");
                    case UnaryExpr u: CheckNoNestedReduce(u.Operand); break;
                    case BinaryExpr b: CheckNoNestedReduce(b.Left); CheckNoNestedReduce(b.Right); break;
                    case CallExpr c: foreach (var a in c.Args) CheckNoNestedReduce(a); break;
                }
            }

            /// <summary>
            /// Finds the index variables: those of ranks named in lower case. A split rank's own variable (m) is an
            /// alias for m1*stride + m0 when its partitions are iterated, and a loop of its own otherwise.
            /// </summary>
            private void DiscoverVariables(ImmutableArray<string> reduceVars, Expr body)
            {
                var names = new List<string>();
                foreach (var i in st.Output.Indices) CollectNames(i, names);
                names.AddRange(reduceVars);
                CollectNames(body, names);
                if (_whereExpr is not null) CollectNames(_whereExpr, names);
                var used = names.Where(ctx._rankByVariable.ContainsKey).Distinct().ToList();

                var isAlias = new HashSet<string>();
                foreach (var v in used)
                {
                    var rank = ctx._rankByVariable[v];
                    if (!rank.IsSplit) continue;
                    var parts = rank.Partitions.Select(p => ctx._ranks[p].Variable).ToList();
                    var present = parts.Where(used.Contains).ToList();
                    if (present.Count == 0) continue;
                    if (present.Count != parts.Count)
                        throw Fail(0, $"uses {v} together with {string.Join(", ", present)} but not {string.Join(", ", parts.Except(present))}; use all partitions of {rank.Name} or none");
                    isAlias.Add(v);
                }
                foreach (var v in used)
                {
                    var rank = ctx._rankByVariable[v];
                    if (rank.IsPartition)
                    {
                        var parent = ctx._ranks[rank.Parent!];
                        var siblings = parent.Partitions.Select(p => ctx._ranks[p].Variable).ToList();
                        var missing = siblings.Where(s => !used.Contains(s)).ToList();
                        if (missing.Count > 0 && used.Contains(parent.Variable))
                            throw Fail(0, $"uses {parent.Variable} with {v} but not {string.Join(", ", missing)}");
                    }
                }

                // Output variables first (in output order), then the rest in order of appearance.
                var order = new List<string>();
                foreach (var idx in st.Output.Indices)
                {
                    var n = new List<string>();
                    CollectNames(idx, n);
                    order.AddRange(n.Where(ctx._rankByVariable.ContainsKey));
                }
                order.AddRange(used);
                foreach (var v in order.Distinct())
                {
                    if (isAlias.Contains(v)) continue;
                    var rank = ctx._rankByVariable[v];
                    _vars.Add(new IterationVariable(v, rank.Name, rank.Size));
                }
                foreach (var v in isAlias)
                {
                    var rank = ctx._rankByVariable[v];
                    var terms = rank.Partitions.Select(p => ctx._ranks[p])
                        .Select(p => new AffineTerm(_vars.FindIndex(x => x.Name == p.Variable), p.Variable, p.Stride));
                    var alias = new AffineIndex(0, [.. terms]);
                    _aliases[v] = alias;
                    var covered = rank.Partitions.Select(p => ctx._ranks[p].Size).Aggregate(1L, (a, b) => checked(a * b));
                    if (covered > rank.Size) // uneven split: the last tile is partial
                        _implicitFilters.Add(new BinaryBound(BinaryFn.Lt, new IndexValueExpr(alias), new ConstExpr(rank.Size)));
                }
            }

            private TensorAccess BindOutput()
            {
                var access = BindAccess(st.Output);
                var seen = new HashSet<int>();
                for (var i = 0; i < access.Indices.Length; i++)
                {
                    var idx = access.Indices[i];
                    if (idx.SoleVariable is not { } v || idx.Constant < 0 || !seen.Add(v))
                        throw Fail(st.Output.Indices[i], $"output index '{idx}' must be a distinct index variable plus an optional non-negative constant (e.g. m1 or m1+1)");
                }
                return access;
            }

            private TensorAccess BindAccess(AccessExpr a)
            {
                if (!ctx._tensorShapes.TryGetValue(a.Tensor, out var shape))
                    throw Fail(a, $"unknown tensor '{a.Tensor}': declare it under tensors: (inputs must be declared) or write it with an Einsum");
                if (a.Indices.Length != shape.Ranks.Length)
                    throw Fail(a, $"{a.Tensor} has {shape.Ranks.Length} rank(s) [{string.Join(",", shape.Ranks)}] but is indexed with {a.Indices.Length}");
                var idx = ImmutableArray.CreateBuilder<AffineIndex>(a.Indices.Length);
                var gathers = new GatherIndex?[a.Indices.Length];
                for (var d = 0; d < a.Indices.Length; d++)
                {
                    if (a.Indices[d] is AccessExpr table)
                    {
                        // A gather: the table is read as an input of this Einsum (so it counts in footprints and
                        // dependencies); the index stands for the table's last index in analysis.
                        var lookup = BindAccess(table);
                        if (lookup.Gathers.Any(g => g is not null))
                            throw Fail(table, $"a gather index may not itself gather (in {table.Tensor}[...])");
                        if (lookup.Indices.IsEmpty)
                            throw Fail(table, $"gather table {table.Tensor} needs at least one index");
                        CheckAccess(lookup, isWrite: false, table);
                        _inputs.Add(lookup);
                        gathers[d] = new GatherIndex(_inputs.Count - 1, lookup.ToString());
                        idx.Add(lookup.Indices[^1]);
                        continue;
                    }
                    idx.Add(ToAffine(a.Indices[d]));
                    CheckRankConsistency(a, d, shape.Ranks[d]);
                }
                return new TensorAccess(a.Tensor, idx.MoveToImmutable())
                { Gathers = gathers.Any(g => g is not null) ? [.. gathers] : [] };
            }

            /// <summary>A plain index variable must iterate a rank of the same size as the tensor's rank.</summary>
            private void CheckRankConsistency(AccessExpr a, int d, string tensorRank)
            {
                if (a.Indices[d] is not NameExpr n || !ctx._rankByVariable.TryGetValue(n.Name, out var vr)) return;
                var tr = ctx._ranks[tensorRank];
                if (vr.Name != tr.Name && vr.Size != tr.Size)
                    throw Fail(a.Indices[d], $"inconsistent rank sizes: index {n.Name} iterates {vr.Name} (size {vr.Size}) but rank {d + 1} of {a.Tensor} is {tr.Name} (size {tr.Size})");
            }

            private AffineIndex ToAffine(Expr e)
            {
                var terms = new Dictionary<int, long>();
                long constant = 0;

                void Add(Expr x, long sign)
                {
                    switch (x)
                    {
                        case NumberExpr num:
                            constant = checked(constant + sign * WholeNumber(num.Value, num));
                            return;
                        case NameExpr name when _aliases.TryGetValue(name.Name, out var alias):
                            foreach (var t in alias.Terms) AddTerm(t.Variable, sign * t.Coefficient);
                            constant = checked(constant + sign * alias.Constant);
                            return;
                        case NameExpr name when _vars.FindIndex(v => v.Name == name.Name) is var vi and >= 0:
                            AddTerm(vi, sign);
                            return;
                        case UnaryExpr { Op: '-' } u:
                            Add(u.Operand, -sign);
                            return;
                        case BinaryExpr { Op: BinaryOp.Add } b:
                            Add(b.Left, sign); Add(b.Right, sign);
                            return;
                        case BinaryExpr { Op: BinaryOp.Sub } b:
                            Add(b.Left, sign); Add(b.Right, -sign);
                            return;
                        case BinaryExpr { Op: BinaryOp.Mul } b:
                            if (TryConstant(b.Left) is { } cl) { Add(b.Right, checked(sign * WholeNumber(cl, b.Left))); return; }
                            if (TryConstant(b.Right) is { } cr) { Add(b.Left, checked(sign * WholeNumber(cr, b.Right))); return; }
                            throw Fail(b, "an index may only multiply an index variable by a constant (affine index)");
                        default:
                            if (TryConstant(x) is { } c) { constant = checked(constant + sign * WholeNumber(c, x)); return; }
                            if (x is NameExpr unknown)
                                throw Fail(x, $"unknown name '{unknown.Name}' in an index (index variables: {string.Join(", ", ctx._rankByVariable.Keys)})");
                            throw Fail(x, "an index must be an affine expression of index variables (e.g. m1+1, p*stride+r)");
                    }
                }

                void AddTerm(int v, long c) => terms[v] = checked(terms.GetValueOrDefault(v) + c);

                Add(e, 1);
                return new AffineIndex(constant, [.. terms.Where(t => t.Value != 0).OrderBy(t => t.Key)
                    .Select(t => new AffineTerm(t.Key, _vars[t.Key].Name, t.Value))]);
            }

            private long WholeNumber(double v, Expr at) =>
                v == Math.Floor(v) && Math.Abs(v) < 1e15 ? (long)v : throw Fail(at, $"index constant {Invariant.Num(v)} is not a whole number");

            /// <summary>A constant: a number, a parameter, or a rank's size (its upper-case name), folded.</summary>
            private double? TryConstant(Expr e)
            {
                switch (e)
                {
                    case NumberExpr n: return n.Value;
                    case NameExpr n when ctx._ranks.TryGetValue(n.Name, out var r): return r.Size;
                    case NameExpr n when ctx.Scope.IsDeclared(n.Name): return ctx.Scope.Get(n.Name);
                    case UnaryExpr { Op: '-' } u: return TryConstant(u.Operand) is { } v ? -v : null;
                    case BinaryExpr b when b.Op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div or BinaryOp.FloorDiv or BinaryOp.Mod:
                        return TryConstant(b.Left) is { } l && TryConstant(b.Right) is { } rr ? ParamScope.Binary(b.Op, l, rr) : null;
                    case CallExpr c when c.Args.All(a => TryConstant(a) is not null) && c.Function is "ceil" or "floor" or "min" or "max" or "sqrt" or "abs":
                        var args = c.Args.Select(a => TryConstant(a)!.Value).ToArray();
                        return c.Function switch
                        {
                            "ceil" => Math.Ceiling(args[0]), "floor" => Math.Floor(args[0]), "min" => args.Min(),
                            "max" => args.Max(), "sqrt" => Math.Sqrt(args[0]), _ => Math.Abs(args[0]),
                        };
                    default: return null;
                }
            }

            private BoundExpr BindValue(Expr e) => BindValueIn(e, Fail);

            private BoundExpr BindValueIn(Expr e, Func<Expr, string, InputException> fail)
            {
                // Mask arguments out of range are errors only where the mask survives constant folding: in the
                // shipped `window == 0 or window(p, m, window)`, window = 0 switches the mask off.
                var maskArgumentErrors = new List<(BoundExpr Mask, InputException Error)>();
                BoundExpr Bind(Expr x)
                {
                    switch (x)
                    {
                        case NumberExpr n: return new ConstExpr(n.Value);
                        case NameExpr n when _aliases.ContainsKey(n.Name) || _vars.Any(v => v.Name == n.Name):
                            return new IndexValueExpr(ToAffine(n));
                        case NameExpr n when TryConstant(n) is { } c: return new ConstExpr(c);
                        case NameExpr n:
                            if (ctx._tensorShapes.ContainsKey(n.Name))
                                throw fail(n, $"tensor {n.Name} needs indices, e.g. {n.Name}[...]");
                            throw fail(n, $"unknown name '{n.Name}' (not a parameter, rank or index variable)");
                        case AccessExpr a:
                            var acc = BindAccess(a);
                            CheckAccess(acc, isWrite: false, a);
                            _inputs.Add(acc);
                            return new ReadExpr(_inputs.Count - 1);
                        case UnaryExpr u:
                            var operand = Bind(u.Operand);
                            if (operand is ConstExpr oc) return new ConstExpr(u.Op == '-' ? -oc.Value : oc.Value == 0 ? 1 : 0);
                            return new UnaryBound(u.Op == '-' ? UnaryFn.Neg : UnaryFn.Not, operand);
                        case BinaryExpr b:
                            var l = Bind(b.Left);
                            var r = Bind(b.Right);
                            if (b.Op is BinaryOp.Div or BinaryOp.FloorDiv or BinaryOp.Mod && r is ConstExpr { Value: 0 })
                                throw fail(b, "divides by zero" + ctx.SetValues(b.Right));
                            if (l is ConstExpr lc && r is ConstExpr rc)
                            {
                                var folded = ParamScope.Binary(b.Op, lc.Value, rc.Value);
                                if (double.IsNaN(folded)) throw fail(b, "this operation on constants is undefined (NaN)" + ctx.SetValues(b));
                                return new ConstExpr(folded);
                            }
                            // Fold logic with a constant side, so that `not causal or causal(p, m)` disappears when causal is off.
                            if (b.Op is BinaryOp.And or BinaryOp.Or && (l is ConstExpr || r is ConstExpr))
                            {
                                var (k, other) = l is ConstExpr kc ? (kc.Value != 0, r) : (((ConstExpr)r).Value != 0, l);
                                return b.Op == BinaryOp.And ? (k ? other : new ConstExpr(0)) : (k ? new ConstExpr(1) : other);
                            }
                            return new BinaryBound(b.Op.ToFn(), l, r);
                        case CallExpr c:
                            return BindCall(c, Bind, fail, maskArgumentErrors);
                        default:
                            throw fail(x, "unsupported expression");
                    }
                }
                var bound = Bind(e);
                if (maskArgumentErrors.Count > 0)
                {
                    var live = Nodes(bound);
                    foreach (var (mask, error) in maskArgumentErrors)
                        if (live.Contains(mask)) throw error;
                }
                return bound;
            }

            /// <summary>Every node of a bound tree, by reference (walked without recursion).</summary>
            private static HashSet<BoundExpr> Nodes(BoundExpr root)
            {
                var seen = new HashSet<BoundExpr>(ReferenceEqualityComparer.Instance);
                var work = new Stack<BoundExpr>();
                work.Push(root);
                while (work.Count > 0)
                {
                    var n = work.Pop();
                    if (!seen.Add(n)) continue;
                    switch (n)
                    {
                        case UnaryBound u: work.Push(u.Operand); break;
                        case BinaryBound bb: work.Push(bb.Left); work.Push(bb.Right); break;
                        case BlockMaskExpr m: work.Push(m.RowBlock); work.Push(m.ColBlock); break;
                        case TopKExpr t: work.Push(t.Operand); break;
                    }
                }
                return seen;
            }

            private BoundExpr BindCall(CallExpr c, Func<Expr, BoundExpr> bind, Func<Expr, string, InputException> fail,
                List<(BoundExpr Mask, InputException Error)> maskArgumentErrors)
            {
                // A constant mask argument outside its range: an error if the mask is still there after folding.
                BoundExpr CheckArgument(BoundExpr mask, Expr arg, Func<double, bool> valid, string requirement)
                {
                    if (TryConstant(arg) is { } v && !valid(v))
                        maskArgumentErrors.Add((mask, fail(arg, $"{c.Function}(): {requirement}, got {Invariant.Num(v)}{ctx.SetValues(arg)}")));
                    return mask;
                }
                static bool Whole(double v) => double.IsFinite(v) && v == Math.Floor(v);
                void Arity(int n)
                {
                    if (c.Args.Length != n) throw fail(c, $"{c.Function}() takes {n} argument(s), got {c.Args.Length}");
                }
                BoundExpr Unary(UnaryFn fn)
                {
                    Arity(1);
                    var a = bind(c.Args[0]);
                    return a is ConstExpr k ? new ConstExpr(Fold(fn, k.Value)) : new UnaryBound(fn, a);
                }
                BoundExpr Sigmoid(BoundExpr x) =>
                    new BinaryBound(BinaryFn.Div, new ConstExpr(1),
                        new BinaryBound(BinaryFn.Add, new ConstExpr(1), new UnaryBound(UnaryFn.Exp, new UnaryBound(UnaryFn.Neg, x))));
                switch (c.Function)
                {
                    case "topk":
                    {
                        if (!_bindingWhere) throw fail(c, "topk[...]() selects points and may appear only in a where:");
                        if (c.Args.Length != 3) throw fail(c, $"topk[v](values, k) takes 2 argument(s), got {c.Args.Length - 1}");
                        var over = ((NameExpr)c.Args[0]).Name;
                        var vi = _vars.FindIndex(v => v.Name == over);
                        if (vi < 0) throw fail(c.Args[0], $"topk[{over}]: '{over}' is not an index variable of this Einsum");
                        var operand = bind(c.Args[1]);
                        if (!operand.Reads().Any()) throw fail(c.Args[1], "topk[...]() selects by tensor values; its first argument must read a tensor");
                        var size = _vars[vi].Size;
                        var k = TryConstant(c.Args[2]) ?? throw fail(c.Args[2], "topk k must be a constant");
                        if (!(Whole(k) && k >= 1 && k <= size))
                            throw fail(c.Args[2], $"topk k must be a whole number in [1, {size}] (the size of {over}), got {Invariant.Num(k)}{ctx.SetValues(c.Args[2])}");
                        return new TopKExpr(operand, vi, over, (long)k, size);
                    }
                    case "exp": return Unary(UnaryFn.Exp);
                    case "log": return Unary(UnaryFn.Log);
                    case "sqrt": return Unary(UnaryFn.Sqrt);
                    case "rsqrt": return Unary(UnaryFn.Rsqrt);
                    case "abs": return Unary(UnaryFn.Abs);
                    case "sin": return Unary(UnaryFn.Sin);
                    case "cos": return Unary(UnaryFn.Cos);
                    case "max" or "min" or "pow":
                        Arity(2);
                        var fn = c.Function switch { "max" => BinaryFn.Max, "min" => BinaryFn.Min, _ => BinaryFn.Pow };
                        return new BinaryBound(fn, bind(c.Args[0]), bind(c.Args[1]));
                    case "relu":
                        Arity(1);
                        return new BinaryBound(BinaryFn.Max, bind(c.Args[0]), new ConstExpr(0));
                    case "sigmoid":
                        Arity(1);
                        return Sigmoid(bind(c.Args[0]));
                    case "silu":
                        Arity(1);
                        var sx = bind(c.Args[0]);
                        return new BinaryBound(BinaryFn.Mul, sx, Sigmoid(sx));
                    case "gelu":
                        // The sigmoid approximation gelu(x) ~ x * sigmoid(1.702 x) (Hendrycks & Gimpel, 2016, sec. 2).
                        Arity(1);
                        var gx = bind(c.Args[0]);
                        return new BinaryBound(BinaryFn.Mul, gx, Sigmoid(new BinaryBound(BinaryFn.Mul, new ConstExpr(1.702), gx)));
                    case "causal":
                        // causal(p, m[, offset]): key position m is visible from query position p (m <= p + offset).
                        if (c.Args.Length is not (2 or 3)) throw fail(c, "causal(query_index, key_index[, offset]) takes 2 or 3 arguments");
                        var q = bind(c.Args[0]);
                        if (c.Args.Length == 3) q = new BinaryBound(BinaryFn.Add, q, bind(c.Args[2]));
                        var causal = new BinaryBound(BinaryFn.Le, bind(c.Args[1]), q);
                        // A negative offset leaves the first queries with no visible key at all.
                        return c.Args.Length == 3
                            ? CheckArgument(causal, c.Args[2], v => Whole(v) && v >= 0, "the offset must be a whole number >= 0 (a negative one leaves the first queries no key)")
                            : causal;
                    case "window":
                        // window(p, m, w): |p - m| < w, written as two affine comparisons so it can be counted exactly.
                        Arity(3);
                        var d = new BinaryBound(BinaryFn.Sub, bind(c.Args[0]), bind(c.Args[1]));
                        var w = bind(c.Args[2]);
                        var window = new BinaryBound(BinaryFn.And, new BinaryBound(BinaryFn.Lt, d, w),
                            new BinaryBound(BinaryFn.Lt, new UnaryBound(UnaryFn.Neg, d), w));
                        return CheckArgument(window, c.Args[2], v => Whole(v) && v >= 1, "the width must be a whole number >= 1 (|p - m| < width keeps nothing below 1)");
                    case "blockmask":
                        Arity(4);
                        var density = TryConstant(c.Args[2]) ?? throw fail(c.Args[2], "blockmask density must be a constant");
                        var seed = TryConstant(c.Args[3]) ?? throw fail(c.Args[3], "blockmask seed must be a constant");
                        if (!(density is >= 0 and <= 1)) throw fail(c.Args[2], $"blockmask density must be in [0, 1], got {Invariant.Num(density)}{ctx.SetValues(c.Args[2])}");
                        if (!Whole(seed) || Math.Abs(seed) > 9e15) throw fail(c.Args[3], $"blockmask seed must be a whole number, got {Invariant.Num(seed)}{ctx.SetValues(c.Args[3])}");
                        BoundExpr mask = new BlockMaskExpr(bind(c.Args[0]), bind(c.Args[1]), density, (long)seed);
                        // Block coordinates are usually `index // block_size`: a block holds at least one element.
                        foreach (var block in c.Args.Take(2))
                            if (block is BinaryExpr { Op: BinaryOp.FloorDiv } div)
                                CheckArgument(mask, div.Right, v => Whole(v) && v >= 1, "the block size must be a whole number >= 1");
                        return mask;
                    default:
                        throw fail(c, $"unknown function '{c.Function}' (exp, log, sqrt, rsqrt, abs, sin, cos, max, min, pow, relu, sigmoid, silu, gelu, causal, window, blockmask)");
                }
            }

            private static double Fold(UnaryFn fn, double v) => fn switch
            {
                UnaryFn.Exp => Math.Exp(v), UnaryFn.Log => Math.Log(v), UnaryFn.Sqrt => Math.Sqrt(v),
                UnaryFn.Rsqrt => 1 / Math.Sqrt(v), UnaryFn.Abs => Math.Abs(v), UnaryFn.Sin => Math.Sin(v), UnaryFn.Cos => Math.Cos(v),
                UnaryFn.Neg => -v, _ => v == 0 ? 1 : 0,
            };

            /// <summary>Reads of cascade inputs must stay inside the tensor (unless an uneven split's filter guards them).</summary>
            private void CheckAccess(TensorAccess access, bool isWrite, AccessExpr at)
            {
                var shape = ctx._tensorShapes[access.Tensor];
                for (var d = 0; d < access.Indices.Length; d++)
                {
                    var (min, max) = access.Indices[d].Range(_vars);
                    var size = ctx._ranks[shape.Ranks[d]].Size;
                    if (min < 0 && isWrite)
                        throw Fail(at.Indices[d], $"writes {access.Tensor} at a negative index ({access.Indices[d]} can be {min})");
                    if (access.GatherAt(d) is not null)
                    {
                        if (isWrite) throw Fail(at.Indices[d], $"writes {access.Tensor} through a gather; only reads may gather");
                        continue; // checked on each value by the interpreter: the gathered rank's size is the range
                    }
                    var guarded = _implicitFilters.Count > 0 && at.Indices[d] is NameExpr ne && _aliases.ContainsKey(ne.Name);
                    if (!isWrite && !ctx.IsProduced(access.Tensor) && !guarded && (min < 0 || max >= size))
                        throw Fail(at.Indices[d], $"index {access.Indices[d]} of input {access.Tensor} ranges over [{min}, {max}] but its rank {shape.Ranks[d]} has size {size}");
                }
            }
        }

        /// <summary>Tensors some Einsum writes (reads of these may fall outside the written range: they are empty).</summary>
        private readonly HashSet<string> _produced = new(StringComparer.Ordinal);

        private bool IsProduced(string tensor) => _produced.Contains(tensor);

        private static void CheckSingleProducer(List<ExtendedEinsum> einsums)
        {
            var seen = new Dictionary<string, ExtendedEinsum>(StringComparer.Ordinal);
            foreach (var e in einsums)
            {
                if (seen.TryGetValue(e.Output.Tensor, out var first))
                    throw new InputException(e.Location, null,
                        $"{e.Name}: tensor {e.Output.Tensor} is already written by {first.Name} (line {first.Location.Line}); each tensor has one producing Einsum (use init: for a starting value)");
                seen[e.Output.Tensor] = e;
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in einsums)
                if (!names.Add(e.Name))
                    throw new InputException(e.Location, null, $"two Einsums are named {e.Name}; give one a distinct name:");
        }

        private ImmutableArray<TensorDef> BuildTensors(List<ExtendedEinsum> einsums)
        {
            var written = einsums.ToDictionary(e => e.Output.Tensor, e => e);
            var read = einsums.SelectMany(e => e.Inputs.Select(i => i.Tensor)).ToHashSet(StringComparer.Ordinal);
            var result = ImmutableArray.CreateBuilder<TensorDef>();
            foreach (var o in spec.Outputs)
                if (!written.ContainsKey(o))
                    throw new InputException(SourceLocation.FileOnly(spec.File), "outputs", $"output {o} is not written by any Einsum");
            foreach (var (name, shape) in _tensorShapes)
            {
                var isWritten = written.TryGetValue(name, out var producer);
                var isRead = read.Contains(name);
                if (!isWritten && !isRead)
                    throw new InputException(shape.Where, shape.Field, $"tensor {name} is declared but no Einsum reads or writes it");
                var role = !isWritten ? TensorRole.Input
                    : spec.Outputs.Contains(name) || shape.Role == "output" || (!isRead && spec.Outputs.IsEmpty) ? TensorRole.Output
                    : TensorRole.Intermediate;
                if (shape.Role == "input" && isWritten)
                    throw new InputException(shape.Where, shape.Field, $"{name} is declared as an input but {producer!.Name} writes it");
                var extents = shape.Ranks.Select(r => _ranks[r].Size).ToArray();
                if (producer is not null)
                    for (var d = 0; d < extents.Length; d++)
                        extents[d] = Math.Max(extents[d], producer.Output.Indices[d].Range(producer.Iteration).Max + 1);
                var tensor = new TensorDef(name, shape.Ranks, [.. extents], role, shape.WordBits);
                try { _ = tensor.Elements; }
                catch (OverflowException)
                {
                    throw new InputException(shape.Where, shape.Field,
                        $"tensor {name} ({string.Join(" x ", extents)}) has more than 2^63 elements" + SetNote());
                }
                result.Add(tensor);
            }
            return result.ToImmutable();
        }

        private AttentionInfo BindAttention(YNode node, ImmutableArray<TensorDef> tensors)
        {
            node.ExpectOnlyKeys("query", "key", "value", "output", "ranks", "causal", "window", "scale");
            string Tensor(string key)
            {
                var t = node.Req(key).Text;
                if (!tensors.Any(x => x.Name == t)) throw node.Req(key).Error($"unknown tensor '{t}'");
                return t;
            }
            var ranks = node.Req("ranks");
            ranks.ExpectOnlyKeys("batch", "heads", "kv_heads", "group", "query", "key", "head_dim", "value_dim");
            string? Rank(string key, bool required)
            {
                var n = required ? ranks.Req(key) : ranks.Opt(key);
                if (n is null || n.IsNull) return null;
                if (!_ranks.ContainsKey(n.Text)) throw n.Error($"unknown rank '{n.Text}'");
                return n.Text;
            }
            double Value(string key, double fallback)
            {
                if (node.Opt(key) is not { IsNull: false } v) return fallback;
                var src = new ParamSource(key, v.Text, v.Location, v.Path, 0, "workload");
                try { return scope.Evaluate(Parser.ParseExpression(v.Text), src, RankSizeOrNull); }
                catch (SyntaxException e) { throw new InputException(ParamScope.Shift(src, e.Offset), src.Field, e.Message); }
            }
            var window = Value("window", 0);
            return new AttentionInfo(Tensor("query"), Tensor("key"), Tensor("value"), Tensor("output"),
                Rank("query", true)!, Rank("key", true)!, Rank("head_dim", true)!, Rank("value_dim", true)!,
                Rank("batch", false), Rank("heads", false), Rank("kv_heads", false), Rank("group", false),
                Value("causal", 0) != 0, window > 0 ? (long)window : null, Value("scale", 1));
        }
    }
}
