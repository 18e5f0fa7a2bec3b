using System.Collections.Immutable;

namespace AccelSim.Einsum.Syntax;

/// <summary>
/// Recursive-descent parser for the expression language shared by parameters, indices, filters and Einsums.
/// Grammar (lowest to highest precedence): or, and, not, comparison, + -, * / // %, unary -, ^, primary.
/// A reduction is written `max[m0](body)`, `sum[m1, m0](body)` or `min[...](...)`; inside quotes `sum(m0: body)` also works.
/// </summary>
public sealed class Parser
{
    private static readonly HashSet<string> ReduceNames = ["sum", "max", "min"];
    private readonly List<Token> _tokens;
    private int _pos;

    private Parser(string text)
    {
        _tokens = Lexer.Tokenize(text);
    }

    public static Expr ParseExpression(string text)
    {
        var p = new Parser(text);
        var e = p.ParseOr();
        p.ExpectEnd();
        return e;
    }

    /// <summary>Parses `T[i, j] = expression`.</summary>
    public static EinsumStatement ParseEinsum(string text)
    {
        var p = new Parser(text);
        var lhs = p.ParsePrimary();
        if (lhs is not AccessExpr access)
            throw new SyntaxException("an Einsum must start with its output, e.g. `Z[m, n] = A[m, k] * B[k, n]`", lhs.Offset);
        if (p.Peek.Text != "=")
            throw new SyntaxException($"expected '=' after the output {access.Tensor}[...], found '{p.Peek.Text}'", p.Peek.Offset);
        p._pos++;
        var rhs = p.ParseOr();
        p.ExpectEnd();
        return new EinsumStatement(access, rhs);
    }

    private Token Peek => _tokens[_pos];

    private Token Next() => _tokens[_pos++];

    private bool Accept(string op)
    {
        if (Peek.Kind is TokenKind.Op or TokenKind.Ident && Peek.Text == op) { _pos++; return true; }
        return false;
    }

    private void Expect(string op)
    {
        if (!Accept(op))
            throw new SyntaxException($"expected '{op}', found {Describe(Peek)}", Peek.Offset);
    }

    private void ExpectEnd()
    {
        if (Peek.Kind != TokenKind.End)
            throw new SyntaxException($"unexpected {Describe(Peek)}", Peek.Offset);
    }

    private static string Describe(Token t) => t.Kind == TokenKind.End ? "end of expression" : $"'{t.Text}'";

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Peek.Text is "or" or "||")
        {
            var at = Next().Offset;
            left = new BinaryExpr(BinaryOp.Or, left, ParseAnd(), at);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Peek.Text is "and" or "&&")
        {
            var at = Next().Offset;
            left = new BinaryExpr(BinaryOp.And, left, ParseNot(), at);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Peek.Text is "not" or "!")
        {
            var at = Next().Offset;
            return new UnaryExpr('!', ParseNot(), at);
        }
        return ParseComparison();
    }

    private Expr ParseComparison()
    {
        var left = ParseAdditive();
        BinaryOp? op = Peek.Text switch
        {
            "<" => BinaryOp.Lt, "<=" => BinaryOp.Le, ">" => BinaryOp.Gt, ">=" => BinaryOp.Ge,
            "==" => BinaryOp.Eq, "!=" => BinaryOp.Ne, _ => null,
        };
        if (op is null || Peek.Kind != TokenKind.Op) return left;
        var at = Next().Offset;
        var right = ParseAdditive();
        if (Peek.Kind == TokenKind.Op && Peek.Text is "<" or "<=" or ">" or ">=" or "==" or "!=")
            throw new SyntaxException("chained comparisons are not allowed; combine them with 'and'", Peek.Offset);
        return new BinaryExpr(op.Value, left, right, at);
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Peek.Kind == TokenKind.Op && Peek.Text is "+" or "-")
        {
            var t = Next();
            left = new BinaryExpr(t.Text == "+" ? BinaryOp.Add : BinaryOp.Sub, left, ParseMultiplicative(), t.Offset);
        }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Peek.Kind == TokenKind.Op && Peek.Text is "*" or "/" or "//" or "%")
        {
            var t = Next();
            var op = t.Text switch { "*" => BinaryOp.Mul, "/" => BinaryOp.Div, "//" => BinaryOp.FloorDiv, _ => BinaryOp.Mod };
            left = new BinaryExpr(op, left, ParseUnary(), t.Offset);
        }
        return left;
    }

    private Expr ParseUnary()
    {
        if (Peek.Kind == TokenKind.Op && Peek.Text == "-")
        {
            var at = Next().Offset;
            return new UnaryExpr('-', ParseUnary(), at);
        }
        if (Peek.Kind == TokenKind.Op && Peek.Text == "+")
        {
            Next();
            return ParseUnary();
        }
        return ParsePower();
    }

    private Expr ParsePower()
    {
        var b = ParsePrimary();
        if (Peek.Kind == TokenKind.Op && Peek.Text == "^")
        {
            var at = Next().Offset;
            return new CallExpr("pow", [b, ParseUnary()], at);
        }
        return b;
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Number:
                return new NumberExpr(t.Number, t.Offset);
            case TokenKind.Ident:
                if (t.Text is "inf" or "infinity") return new NumberExpr(double.PositiveInfinity, t.Offset);
                if (t.Text is "true") return new NumberExpr(1, t.Offset);
                if (t.Text is "false") return new NumberExpr(0, t.Offset);
                if (ReduceNames.Contains(t.Text) && Peek.Kind == TokenKind.Op && Peek.Text == "[")
                    return ParseSubscriptReduce(t);
                if (Peek.Kind == TokenKind.Op && Peek.Text == "[")
                {
                    Next();
                    var indices = ParseList("]");
                    if (indices.Length == 0) throw new SyntaxException($"{t.Text}[] has no indices", t.Offset);
                    return new AccessExpr(t.Text, indices, t.Offset);
                }
                if (Peek.Kind == TokenKind.Op && Peek.Text == "(")
                {
                    Next();
                    if (ReduceNames.Contains(t.Text) && TryParseReduceHead(out var vars))
                    {
                        var body = ParseOr();
                        Expect(")");
                        var op = t.Text switch { "sum" => ReduceOp.Sum, "max" => ReduceOp.Max, _ => ReduceOp.Min };
                        return new ReduceExpr(op, vars, body, t.Offset);
                    }
                    var args = ParseList(")");
                    return new CallExpr(t.Text, args, t.Offset);
                }
                return new NameExpr(t.Text, t.Offset);
            case TokenKind.Op when t.Text == "(":
                var inner = ParseOr();
                Expect(")");
                return inner;
            default:
                throw new SyntaxException($"expected a value, found {Describe(t)}", t.Offset);
        }
    }

    /// <summary>`sum[m1, m0](body)`: the YAML-friendly spelling of a reduction (no `: ` inside a plain scalar).</summary>
    private Expr ParseSubscriptReduce(Token name)
    {
        Next(); // '['
        var vars = ImmutableArray.CreateBuilder<string>();
        do
        {
            if (Peek.Kind != TokenKind.Ident)
                throw new SyntaxException($"expected an index variable in {name.Text}[...], found {Describe(Peek)}", Peek.Offset);
            vars.Add(Next().Text);
        } while (Accept(","));
        Expect("]");
        Expect("(");
        var body = ParseOr();
        Expect(")");
        var op = name.Text switch { "sum" => ReduceOp.Sum, "max" => ReduceOp.Max, _ => ReduceOp.Min };
        return new ReduceExpr(op, vars.ToImmutable(), body, name.Offset);
    }

    /// <summary>Looks ahead for `v1, v2 :`, the head of a reduction; consumes it when present.</summary>
    private bool TryParseReduceHead(out ImmutableArray<string> vars)
    {
        var save = _pos;
        var names = ImmutableArray.CreateBuilder<string>();
        while (Peek.Kind == TokenKind.Ident)
        {
            names.Add(Next().Text);
            if (Accept(":")) { vars = names.ToImmutable(); return true; }
            if (!Accept(",")) break;
        }
        _pos = save;
        vars = [];
        return false;
    }

    private ImmutableArray<Expr> ParseList(string close)
    {
        var items = ImmutableArray.CreateBuilder<Expr>();
        if (Accept(close)) return items.ToImmutable();
        do items.Add(ParseOr());
        while (Accept(","));
        Expect(close);
        return items.ToImmutable();
    }
}
