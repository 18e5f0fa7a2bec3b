using AccelSim.Core;

namespace AccelSim.Model.Cascade;

/// <summary>
/// A small arithmetic expression over named symbols, used in cascade architecture files for tile sizes and factors:
/// numbers, symbols (rank sizes such as P or E, workload parameters, settings columns, solved tiles), + - * /,
/// parentheses, min(a, b) and max(a, b). Parsed once, evaluated per point.
/// </summary>
public sealed class SymbolExpression
{
    private abstract record Node;
    private sealed record Num(double Value) : Node;
    private sealed record Sym(string Name) : Node;
    private sealed record Bin(char Op, Node Left, Node Right) : Node;
    private sealed record Call(string Function, Node A, Node B) : Node;

    private readonly Node _root;

    public string Text { get; }

    private SymbolExpression(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>Symbols the expression reads.</summary>
    public IReadOnlyList<string> Symbols
    {
        get
        {
            var list = new List<string>();
            void Walk(Node n)
            {
                switch (n)
                {
                    case Sym s: if (!list.Contains(s.Name)) list.Add(s.Name); break;
                    case Bin b: Walk(b.Left); Walk(b.Right); break;
                    case Call c: Walk(c.A); Walk(c.B); break;
                }
            }
            Walk(_root);
            return list;
        }
    }

    public bool IsSymbol(out string name)
    {
        name = _root is Sym s ? s.Name : "";
        return _root is Sym;
    }

    /// <summary>Parses <paramref name="text"/>; a syntax error is reported at <paramref name="at"/>.</summary>
    public static SymbolExpression Parse(string text, YNode? at = null)
    {
        int pos = 0;
        InputException Fail(string problem) =>
            at?.Error($"{problem} in expression '{text}'") ?? new InputException(null, null, $"{problem} in expression '{text}'");

        void Skip()
        {
            while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++;
        }

        Node Primary()
        {
            Skip();
            if (pos >= text.Length) throw Fail("unexpected end");
            var c = text[pos];
            if (c == '(')
            {
                pos++;
                var inner = Sum();
                Skip();
                if (pos >= text.Length || text[pos] != ')') throw Fail("missing ')'");
                pos++;
                return inner;
            }
            if (c == '-')
            {
                pos++;
                return new Bin('-', new Num(0), Primary());
            }
            if (char.IsDigit(c) || c == '.')
            {
                int start = pos;
                while (pos < text.Length && (char.IsDigit(text[pos]) || text[pos] is '.' or 'e' or 'E' ||
                                             (text[pos] is '+' or '-' && pos > start && text[pos - 1] is 'e' or 'E'))) pos++;
                if (!Invariant.TryParseDouble(text[start..pos], out var v)) throw Fail($"bad number '{text[start..pos]}'");
                return new Num(v);
            }
            if (char.IsLetter(c) || c == '_')
            {
                int start = pos;
                while (pos < text.Length && (char.IsLetterOrDigit(text[pos]) || text[pos] == '_')) pos++;
                var name = text[start..pos];
                Skip();
                if (pos < text.Length && text[pos] == '(')
                {
                    if (name is not ("min" or "max")) throw Fail($"unknown function '{name}' (have: min, max)");
                    pos++;
                    var a = Sum();
                    Skip();
                    if (pos >= text.Length || text[pos] != ',') throw Fail($"{name} takes two arguments");
                    pos++;
                    var b = Sum();
                    Skip();
                    if (pos >= text.Length || text[pos] != ')') throw Fail("missing ')'");
                    pos++;
                    return new Call(name, a, b);
                }
                return new Sym(name);
            }
            throw Fail($"unexpected '{c}'");
        }

        Node Product()
        {
            var left = Primary();
            while (true)
            {
                Skip();
                if (pos < text.Length && text[pos] is '*' or '/')
                {
                    var op = text[pos++];
                    left = new Bin(op, left, Primary());
                }
                else return left;
            }
        }

        Node Sum()
        {
            var left = Product();
            while (true)
            {
                Skip();
                if (pos < text.Length && text[pos] is '+' or '-')
                {
                    var op = text[pos++];
                    left = new Bin(op, left, Product());
                }
                else return left;
            }
        }

        if (string.IsNullOrWhiteSpace(text)) throw Fail("empty expression");
        var root = Sum();
        Skip();
        if (pos != text.Length) throw Fail($"unexpected '{text[pos]}'");
        return new SymbolExpression(text.Trim(), root);
    }

    /// <summary>Evaluates with <paramref name="lookup"/> (null result = unknown symbol, reported with the known ones).</summary>
    public double Evaluate(Func<string, double?> lookup, SourceLocation? location = null, string? field = null)
    {
        double Eval(Node n) => n switch
        {
            Num x => x.Value,
            Sym s => lookup(s.Name) ?? throw new InputException(location, field, $"unknown symbol '{s.Name}' in '{Text}'"),
            Bin b => b.Op switch
            {
                '+' => Eval(b.Left) + Eval(b.Right),
                '-' => Eval(b.Left) - Eval(b.Right),
                '*' => Eval(b.Left) * Eval(b.Right),
                _ => Eval(b.Right) is var d && d != 0 ? Eval(b.Left) / d
                    : throw new InputException(location, field, $"division by zero in '{Text}'"),
            },
            Call c => c.Function == "min" ? Math.Min(Eval(c.A), Eval(c.B)) : Math.Max(Eval(c.A), Eval(c.B)),
            _ => throw new InvalidOperationException(),
        };
        return Eval(_root);
    }

    public override string ToString() => Text;
}
