using System.Collections.Immutable;
using AccelSim.Core;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Syntax;

namespace AccelSim.Einsum.Loading;

/// <summary>Where a parameter's value came from, so errors can point at the right file and line.</summary>
public sealed record ParamSource(string Name, string Text, SourceLocation Location, string Field, int ColumnShift, string Origin);

/// <summary>
/// The named parameters of a workload (`seq_len: 4096`, `scale: 1 / sqrt(head_dim)`), each a formula over the
/// others, evaluated lazily with cycle detection. Overrides (`--set`, model files) replace declared formulas only.
/// </summary>
public sealed class ParamScope
{
    private readonly Dictionary<string, ParamSource> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Expr> _parsed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _evaluating = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public IReadOnlyList<string> Names => _order;

    public void Declare(ParamSource source)
    {
        if (!_sources.ContainsKey(source.Name)) _order.Add(source.Name);
        _sources[source.Name] = source;
        _parsed[source.Name] = Parse(source);
        _values.Clear();
    }

    public bool IsDeclared(string name) => _sources.ContainsKey(name);

    public ParamSource Source(string name) => _sources[name];

    public double Get(string name)
    {
        if (_values.TryGetValue(name, out var v)) return v;
        Resolve(name);
        return _values[name];
    }

    /// <summary>
    /// Evaluates a parameter after the parameters it names, depth first with an explicit stack: a chain of formulas
    /// (p2: p1 + 1, p1: p0 + 1, ...) may be as long as the file, so it must not become a chain of nested calls.
    /// </summary>
    private void Resolve(string name)
    {
        var stack = new Stack<string>();
        stack.Push(name);
        _evaluating.Add(name);
        try
        {
            while (stack.Count > 0)
            {
                var top = stack.Peek();
                string? pending = null;
                foreach (var dep in DeclaredNames(_parsed[top]))
                {
                    if (_values.ContainsKey(dep)) continue;
                    if (_evaluating.Contains(dep))
                    {
                        var src = _sources[dep];
                        throw new InputException(Shift(src), src.Field, $"parameter '{dep}' depends on itself");
                    }
                    pending = dep;
                    break;
                }
                if (pending is not null)
                {
                    _evaluating.Add(pending);
                    stack.Push(pending);
                    continue;
                }
                var value = Evaluate(_parsed[top], _sources[top]); // every parameter it names is known now
                var where = _sources[top];
                if (!double.IsFinite(value))
                    throw new InputException(Shift(where), where.Field,
                        $"'{where.Text}' evaluates to {Invariant.Num(value)}; a parameter must be a finite number");
                _values[top] = value;
                _evaluating.Remove(top);
                stack.Pop();
            }
        }
        finally
        {
            _evaluating.Clear();
        }
    }

    /// <summary>The declared parameters an expression refers to, in order of appearance.</summary>
    private IEnumerable<string> DeclaredNames(Expr e)
    {
        var names = new List<string>();
        var work = new Stack<Expr>();
        work.Push(e);
        while (work.Count > 0)
        {
            switch (work.Pop())
            {
                case NameExpr n when _sources.ContainsKey(n.Name): names.Add(n.Name); break;
                case UnaryExpr u: work.Push(u.Operand); break;
                case BinaryExpr b: work.Push(b.Right); work.Push(b.Left); break;
                case CallExpr c: for (var i = c.Args.Length - 1; i >= 0; i--) work.Push(c.Args[i]); break;
            }
        }
        return names;
    }

    public ImmutableDictionary<string, double> All() =>
        _order.ToImmutableDictionary(n => n, Get, StringComparer.Ordinal);

    private static Expr Parse(ParamSource src)
    {
        try
        {
            return Parser.ParseExpression(src.Text);
        }
        catch (SyntaxException e)
        {
            throw new InputException(Shift(src, e.Offset), src.Field, e.Message);
        }
    }

    /// <summary>Where in its file a character of a parameter's text is; null for a value given on the command line.</summary>
    internal static SourceLocation? Shift(ParamSource src, int offset = 0) =>
        string.IsNullOrEmpty(src.Location.File) ? null
        : src.Location.Line > 0 ? src.Location with { Column = src.Location.Column + src.ColumnShift + offset }
        : src.Location;

    /// <summary>The source of a `--set name=value` override: no file position, the option as its field.</summary>
    public static ParamSource CommandLine(string name, string text) =>
        new(name, text, new SourceLocation("", 0, 0), "--set " + name, 0, "--set");

    /// <summary>Evaluates a scalar formula; names resolve to parameters (or through <paramref name="extra"/>).</summary>
    public double Evaluate(Expr e, ParamSource where, Func<string, double?>? extra = null)
    {
        InputException Fail(int offset, string message) => new(Shift(where, offset), where.Field, message);

        double Eval(Expr x) => x switch
        {
            NumberExpr n => n.Value,
            NameExpr n => extra?.Invoke(n.Name) ?? (_sources.ContainsKey(n.Name)
                ? Get(n.Name)
                : throw Fail(n.Offset, $"unknown parameter '{n.Name}'" + Known())),
            UnaryExpr { Op: '-' } u => -Eval(u.Operand),
            UnaryExpr u => Eval(u.Operand) == 0 ? 1 : 0,
            BinaryExpr b => Binary(b.Op, Eval(b.Left), Eval(b.Right)),
            CallExpr c => Call(c),
            AccessExpr a => throw Fail(a.Offset, $"a tensor access {a.Tensor}[...] cannot appear in a parameter"),
            ReduceExpr r => throw Fail(r.Offset, "a reduction cannot appear in a parameter"),
            _ => throw Fail(e.Offset, "unsupported expression"),
        };

        double Call(CallExpr c)
        {
            var a = c.Args.Select(Eval).ToArray();
            double Need(int n) => a.Length == n ? 0 : throw Fail(c.Offset, $"{c.Function}() takes {n} argument(s), got {a.Length}");
            switch (c.Function)
            {
                case "sqrt": Need(1); return Math.Sqrt(a[0]);
                case "rsqrt": Need(1); return 1 / Math.Sqrt(a[0]);
                case "exp": Need(1); return Math.Exp(a[0]);
                case "log": Need(1); return Math.Log(a[0]);
                case "log2": Need(1); return Math.Log2(a[0]);
                case "ceil": Need(1); return Math.Ceiling(a[0]);
                case "floor": Need(1); return Math.Floor(a[0]);
                case "round": Need(1); return Math.Round(a[0], MidpointRounding.AwayFromZero);
                case "abs": Need(1); return Math.Abs(a[0]);
                case "sin": Need(1); return Math.Sin(a[0]);
                case "cos": Need(1); return Math.Cos(a[0]);
                case "pow": Need(2); return Math.Pow(a[0], a[1]);
                case "min": return a.Length > 0 ? a.Min() : throw Fail(c.Offset, "min() needs arguments");
                case "max": return a.Length > 0 ? a.Max() : throw Fail(c.Offset, "max() needs arguments");
                default: throw Fail(c.Offset, $"unknown function '{c.Function}' in a parameter");
            }
        }

        return Eval(e);
    }

    private string Known() => _order.Count == 0 ? "" : $" (parameters: {string.Join(", ", _order)})";

    internal static double Binary(BinaryOp op, double a, double b) =>
        AccelSim.Einsum.Interpretation.ScalarEvaluator.Apply(op.ToFn(), a, b);
}
