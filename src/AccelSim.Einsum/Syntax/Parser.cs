using System.Collections.Immutable;

namespace AccelSim.Einsum.Syntax;

/// <summary>
/// Precedence-climbing parser for the expression language shared by parameters, indices, filters and Einsums.
/// Grammar (lowest to highest precedence): or, and, not, comparison, + -, * / // %, unary -, ^, primary.
/// A reduction is written `max[m0](body)`, `sum[m1, m0](body)` or `min[...](...)`; inside quotes `sum(m0: body)` also works.
/// </summary>
/// <remarks>
/// Every later pass (binding, counting, interpretation) walks the tree recursively, so the parser bounds both the
/// nesting it recurses through (parentheses, calls, prefix operators, powers) and the depth of the tree it builds
/// (a flat chain `a + a + ... + a` is a left-deep tree): beyond <see cref="MaxDepth"/> levels it is an error.
/// </remarks>
public sealed class Parser
{
    /// <summary>The deepest expression accepted, in nesting levels or tree levels, whichever is larger.</summary>
    public const int MaxDepth = 256;

    private static readonly HashSet<string> ReduceNames = ["sum", "max", "min"];

    // Binding strength of the binary operators; `not` binds between `and` and the comparisons, unary minus between
    // the multiplicative operators and `^`.
    private const int OrLevel = 1, AndLevel = 2, NotLevel = 3, ComparisonLevel = 4, AdditiveLevel = 5,
        MultiplicativeLevel = 6, UnaryLevel = 7;

    private readonly List<Token> _tokens;
    private int _pos;
    private int _nesting;

    /// <summary>A parsed subtree and the number of levels of its tree.</summary>
    private readonly record struct Node(Expr Expr, int Depth);

    private Parser(string text)
    {
        _tokens = Lexer.Tokenize(text);
    }

    public static Expr ParseExpression(string text)
    {
        var p = new Parser(text);
        var e = p.ParseBinary(OrLevel);
        p.ExpectEnd();
        return e.Expr;
    }

    /// <summary>Parses `T[i, j] = expression`.</summary>
    public static EinsumStatement ParseEinsum(string text)
    {
        var p = new Parser(text);
        var lhs = p.ParsePrimary();
        if (lhs.Expr is not AccessExpr access)
            throw new SyntaxException("an Einsum must start with its output, e.g. `Z[m, n] = A[m, k] * B[k, n]`", lhs.Expr.Offset);
        if (p.Peek.Text != "=")
            throw new SyntaxException($"expected '=' after the output {access.Tensor}[...], found '{p.Peek.Text}'", p.Peek.Offset);
        p._pos++;
        var rhs = p.ParseBinary(OrLevel);
        p.ExpectEnd();
        return new EinsumStatement(access, rhs.Expr);
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

    private static SyntaxException TooDeep(int offset) =>
        new($"expression nests deeper than {MaxDepth} levels (parentheses, calls or a chain of operators); split it into smaller parameters or Einsums", offset);

    /// <summary>Enters one level of nesting before recursing (undone by <see cref="Leave"/> on success).</summary>
    private void Enter(int offset)
    {
        if (++_nesting > MaxDepth) throw TooDeep(offset);
    }

    private void Leave() => _nesting--;

    /// <summary>A node one level above its deepest child.</summary>
    private static Node Make(Expr e, int childDepth)
    {
        var depth = childDepth + 1;
        if (depth > MaxDepth) throw TooDeep(e.Offset);
        return new Node(e, depth);
    }

    private static (BinaryOp Op, int Level)? BinaryOperator(Token t) => t.Kind switch
    {
        TokenKind.Ident => t.Text switch { "or" => (BinaryOp.Or, OrLevel), "and" => (BinaryOp.And, AndLevel), _ => null },
        TokenKind.Op => t.Text switch
        {
            "||" => (BinaryOp.Or, OrLevel),
            "&&" => (BinaryOp.And, AndLevel),
            "<" => (BinaryOp.Lt, ComparisonLevel), "<=" => (BinaryOp.Le, ComparisonLevel),
            ">" => (BinaryOp.Gt, ComparisonLevel), ">=" => (BinaryOp.Ge, ComparisonLevel),
            "==" => (BinaryOp.Eq, ComparisonLevel), "!=" => (BinaryOp.Ne, ComparisonLevel),
            "+" => (BinaryOp.Add, AdditiveLevel), "-" => (BinaryOp.Sub, AdditiveLevel),
            "*" => (BinaryOp.Mul, MultiplicativeLevel), "/" => (BinaryOp.Div, MultiplicativeLevel),
            "//" => (BinaryOp.FloorDiv, MultiplicativeLevel), "%" => (BinaryOp.Mod, MultiplicativeLevel),
            _ => null,
        },
        _ => null,
    };

    /// <summary>
    /// An expression whose binary operators all bind at least as tightly as <paramref name="minLevel"/>. Chains of
    /// one level are built in a loop (left-associative); only a tighter operator on the right recurses, so the
    /// recursion here is bounded by the number of levels, not by the length of the expression.
    /// </summary>
    private Node ParseBinary(int minLevel)
    {
        var left = ParsePrefix(minLevel);
        while (BinaryOperator(Peek) is { } op && op.Level >= minLevel)
        {
            var at = Next().Offset;
            var right = ParseBinary(op.Level + 1);
            if (op.Level == ComparisonLevel && BinaryOperator(Peek) is { Level: ComparisonLevel })
                throw new SyntaxException("chained comparisons are not allowed; combine them with 'and'", Peek.Offset);
            left = Make(new BinaryExpr(op.Op, left.Expr, right.Expr, at), Math.Max(left.Depth, right.Depth));
        }
        return left;
    }

    /// <summary>Prefix `not` (when <paramref name="minLevel"/> admits it), unary minus and plus, then a power.</summary>
    private Node ParsePrefix(int minLevel)
    {
        if (minLevel <= NotLevel && Peek.Text is "not" or "!")
            return PrefixOperand('!', NotLevel);
        if (minLevel <= UnaryLevel && Peek.Kind == TokenKind.Op && Peek.Text == "-")
            return PrefixOperand('-', UnaryLevel);
        if (minLevel <= UnaryLevel && Peek.Kind == TokenKind.Op && Peek.Text == "+")
        {
            var at = Next().Offset;
            Enter(at);
            var operand = ParseBinary(UnaryLevel);
            Leave();
            return operand;
        }
        return ParsePower();
    }

    private Node PrefixOperand(char op, int level)
    {
        var at = Next().Offset;
        Enter(at);
        var operand = ParseBinary(level);
        Leave();
        return Make(new UnaryExpr(op, operand.Expr, at), operand.Depth);
    }

    /// <summary>`base ^ exponent`, right-associative; the exponent may carry a unary minus.</summary>
    private Node ParsePower()
    {
        var b = ParsePrimary();
        if (Peek.Kind != TokenKind.Op || Peek.Text != "^") return b;
        var at = Next().Offset;
        Enter(at);
        var exponent = ParseBinary(UnaryLevel);
        Leave();
        return Make(new CallExpr("pow", [b.Expr, exponent.Expr], at), Math.Max(b.Depth, exponent.Depth));
    }

    /// <summary>A full expression nested inside brackets, parentheses or an argument list.</summary>
    private Node ParseNested(int offset)
    {
        Enter(offset);
        var e = ParseBinary(OrLevel);
        Leave();
        return e;
    }

    private Node ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Number:
                return new Node(new NumberExpr(t.Number, t.Offset), 1);
            case TokenKind.Ident:
                if (t.Text is "inf" or "infinity") return new Node(new NumberExpr(double.PositiveInfinity, t.Offset), 1);
                if (t.Text is "true") return new Node(new NumberExpr(1, t.Offset), 1);
                if (t.Text is "false") return new Node(new NumberExpr(0, t.Offset), 1);
                if (ReduceNames.Contains(t.Text) && Peek.Kind == TokenKind.Op && Peek.Text == "[")
                    return ParseSubscriptReduce(t);
                if (t.Text == "topk" && Peek.Kind == TokenKind.Op && Peek.Text == "[")
                {
                    // topk[m](S[...], k): a call whose first argument names the variable selected over
                    Next();
                    if (Peek.Kind != TokenKind.Ident)
                        throw new SyntaxException($"expected an index variable in topk[...], found {Describe(Peek)}", Peek.Offset);
                    var over = Next();
                    Expect("]");
                    Expect("(");
                    var (targs, tdepth) = ParseList(")", t.Offset);
                    return Make(new CallExpr("topk", [new NameExpr(over.Text, over.Offset), .. targs], t.Offset), tdepth);
                }
                if (Peek.Kind == TokenKind.Op && Peek.Text == "[")
                {
                    Next();
                    var (indices, depth) = ParseList("]", t.Offset);
                    if (indices.Length == 0) throw new SyntaxException($"{t.Text}[] has no indices", t.Offset);
                    return Make(new AccessExpr(t.Text, indices, t.Offset), depth);
                }
                if (Peek.Kind == TokenKind.Op && Peek.Text == "(")
                {
                    Next();
                    if (ReduceNames.Contains(t.Text) && TryParseReduceHead(out var vars))
                    {
                        var body = ParseNested(t.Offset);
                        Expect(")");
                        return Make(new ReduceExpr(ReduceOpOf(t.Text), vars, body.Expr, t.Offset), body.Depth);
                    }
                    var (args, argDepth) = ParseList(")", t.Offset);
                    return Make(new CallExpr(t.Text, args, t.Offset), argDepth);
                }
                return new Node(new NameExpr(t.Text, t.Offset), 1);
            case TokenKind.Op when t.Text == "(":
                var inner = ParseNested(t.Offset);
                Expect(")");
                return inner;
            default:
                throw new SyntaxException($"expected a value, found {Describe(t)}", t.Offset);
        }
    }

    private static ReduceOp ReduceOpOf(string name) => name switch { "sum" => ReduceOp.Sum, "max" => ReduceOp.Max, _ => ReduceOp.Min };

    /// <summary>`sum[m1, m0](body)`: the YAML-friendly spelling of a reduction (no `: ` inside a plain scalar).</summary>
    private Node ParseSubscriptReduce(Token name)
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
        var body = ParseNested(name.Offset);
        Expect(")");
        return Make(new ReduceExpr(ReduceOpOf(name.Text), vars.ToImmutable(), body.Expr, name.Offset), body.Depth);
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

    /// <summary>Comma-separated expressions up to <paramref name="close"/>, and the depth of the deepest.</summary>
    private (ImmutableArray<Expr> Items, int Depth) ParseList(string close, int offset)
    {
        var items = ImmutableArray.CreateBuilder<Expr>();
        var depth = 0;
        if (Accept(close)) return (items.ToImmutable(), depth);
        do
        {
            var item = ParseNested(offset);
            items.Add(item.Expr);
            depth = Math.Max(depth, item.Depth);
        }
        while (Accept(","));
        Expect(close);
        return (items.ToImmutable(), depth);
    }
}
