using AccelSim.Einsum.Ir;

namespace AccelSim.Einsum.Analysis;

/// <summary>A mask condition as a boolean formula over numbered atoms (see <see cref="MaskBuilder"/>).</summary>
internal abstract record Formula;

internal sealed record FConst(bool Value) : Formula
{
    public static readonly FConst True = new(true), False = new(false);
    public static FConst Of(bool value) => value ? True : False;
}

internal sealed record FAtom(int Index) : Formula;

internal sealed record FNot(Formula Operand) : Formula;

internal sealed record FAnd(Formula[] Parts) : Formula;

internal sealed record FOr(Formula[] Parts) : Formula;

internal abstract record Atom;

/// <summary>`sum_v Coefficients[v] * x_v + Constant &lt;= 0` with integer coefficients (every affine comparison of
/// integer indices normalises to this: `f &lt; 0` is `f + 1 &lt;= 0`, `==` is two of them, `!=` either of two).</summary>
internal sealed record LinearLe(long[] Coefficients, long Constant) : Atom
{
    public bool Uses(int v) => Coefficients[v] != 0;
}

/// <summary>
/// An atom that sees its variables only through tile functions `(a*v + k) // c` (block masks, `p // b == m // b`),
/// so it is constant on each tile; <see cref="Slotted"/> is the atom with tile function number s read as variable s.
/// </summary>
internal sealed record TileAtom(BoundExpr Slotted, int[] Slots, int[] Variables) : Atom;

/// <summary>`floor((A*v + K) / C)` with A, C &gt;= 1: piecewise constant in v.</summary>
internal readonly record struct TileFn(int Variable, long A, long K, long C)
{
    public long At(long v) => IntMath.FloorDiv(checked(A * v + K), C);
}

internal static class IntMath
{
    public static long FloorDiv(long a, long b)
    {
        var q = Math.DivRem(a, b, out var r);
        return r != 0 && (r < 0) != (b < 0) ? q - 1 : q;
    }

    public static long CeilDiv(long a, long b) => -FloorDiv(-a, b);
}

/// <summary>
/// Reads a bound mask condition as a <see cref="Formula"/> of integer affine atoms and tile atoms. Comparisons of
/// piecewise-affine values (abs, max, min, relu of affine indices) are split into their affine pieces. Returns null
/// for a condition with any other atom (e.g. `(p + m) % 3 == 0`), which is then counted point by point.
/// </summary>
internal sealed class MaskBuilder(int variables)
{
    private const int MaxPieces = 16;
    private const long MaxDenominator = 4096;

    private readonly Dictionary<TileFn, int> _slotOf = [];
    public List<Atom> Atoms { get; } = [];
    public List<TileFn> Slots { get; } = [];

    public Formula? Build(BoundExpr e)
    {
        switch (e)
        {
            case ConstExpr k: return FConst.Of(k.Value != 0);
            case UnaryBound { Fn: UnaryFn.Not } u: return Build(u.Operand) is { } f ? new FNot(f) : null;
            case BinaryBound { Fn: BinaryFn.And or BinaryFn.Or } b:
                if (Build(b.Left) is not { } l || Build(b.Right) is not { } r) return null;
                return b.Fn == BinaryFn.And ? new FAnd([l, r]) : new FOr([l, r]);
            case BinaryBound b when b.Fn is BinaryFn.Lt or BinaryFn.Le or BinaryFn.Gt or BinaryFn.Ge or BinaryFn.Eq or BinaryFn.Ne:
                return Compare(b.Fn, b.Left, b.Right) ?? Tile(e);
            default:
                // a number used as a truth value: true where it is not 0
                return Compare(BinaryFn.Ne, e, new ConstExpr(0)) ?? Tile(e);
        }
    }

    private sealed record Piece(Formula[] Guards, LinearForm Form);

    private Formula? Compare(BinaryFn fn, BoundExpr left, BoundExpr right)
    {
        if (Pieces(left) is not { } pl || Pieces(right) is not { } pr || pl.Count * pr.Count > MaxPieces) return null;
        var alternatives = new List<Formula>();
        foreach (var a in pl)
            foreach (var b in pr)
            {
                if (Linear(a.Form.Plus(b.Form, -1), fn) is not { } cmp) return null;
                alternatives.Add(a.Guards.Length + b.Guards.Length == 0 ? cmp : new FAnd([.. a.Guards, .. b.Guards, cmp]));
            }
        return alternatives.Count == 1 ? alternatives[0] : new FOr([.. alternatives]);
    }

    /// <summary>A value as affine pieces, each valid where its guards hold (the guards of the pieces partition space).</summary>
    private List<Piece>? Pieces(BoundExpr x)
    {
        if (LinearForm.TryFrom(x) is { } f) return [new Piece([], f)];
        List<Piece>? result = null;
        switch (x)
        {
            case UnaryBound { Fn: UnaryFn.Neg } u:
                result = Pieces(u.Operand)?.Select(p => p with { Form = p.Form.Times(-1) }).ToList();
                break;
            case UnaryBound { Fn: UnaryFn.Abs } u when Pieces(u.Operand) is { } inner:
                result = [];
                foreach (var p in inner)
                {
                    if (Linear(p.Form, BinaryFn.Ge) is not { } nonNegative || Linear(p.Form, BinaryFn.Lt) is not { } negative) return null;
                    result.Add(new Piece([.. p.Guards, nonNegative], p.Form));
                    result.Add(new Piece([.. p.Guards, negative], p.Form.Times(-1)));
                }
                break;
            case BinaryBound { Fn: BinaryFn.Max or BinaryFn.Min } b when Pieces(b.Left) is { } l && Pieces(b.Right) is { } r:
                result = [];
                foreach (var p in l)
                    foreach (var q in r)
                    {
                        // max: p where p >= q, else q; min: p where p <= q, else q
                        var d = p.Form.Plus(q.Form, -1);
                        if (Linear(d, b.Fn == BinaryFn.Max ? BinaryFn.Ge : BinaryFn.Le) is not { } first
                            || Linear(d, b.Fn == BinaryFn.Max ? BinaryFn.Lt : BinaryFn.Gt) is not { } second) return null;
                        result.Add(new Piece([.. p.Guards, .. q.Guards, first], p.Form));
                        result.Add(new Piece([.. p.Guards, .. q.Guards, second], q.Form));
                    }
                break;
            case BinaryBound { Fn: BinaryFn.Add or BinaryFn.Sub } b when Pieces(b.Left) is { } l && Pieces(b.Right) is { } r:
                result = [.. l.SelectMany(p => r.Select(q => new Piece([.. p.Guards, .. q.Guards], p.Form.Plus(q.Form, b.Fn == BinaryFn.Add ? 1 : -1))))];
                break;
            case BinaryBound { Fn: BinaryFn.Mul } b when LinearForm.TryFrom(b.Left) is { Coefficients.IsEmpty: true } k && Pieces(b.Right) is { } r:
                result = [.. r.Select(p => p with { Form = p.Form.Times(k.Constant) })];
                break;
            case BinaryBound { Fn: BinaryFn.Mul } b when LinearForm.TryFrom(b.Right) is { Coefficients.IsEmpty: true } k && Pieces(b.Left) is { } l:
                result = [.. l.Select(p => p with { Form = p.Form.Times(k.Constant) })];
                break;
            case BinaryBound { Fn: BinaryFn.Div, Right: ConstExpr { Value: not 0 } k } b when Pieces(b.Left) is { } l:
                result = [.. l.Select(p => p with { Form = p.Form.Times(1 / k.Value) })];
                break;
        }
        return result is { Count: <= MaxPieces } ? result : null;
    }

    /// <summary>`form (fn) 0` as integer atoms, or null when the form has no small common denominator.</summary>
    private Formula? Linear(LinearForm form, BinaryFn fn)
    {
        if (ToIntegers(form) is not var (c, k)) return null;
        if (c.All(x => x == 0))
            return FConst.Of(fn switch
            {
                BinaryFn.Lt => k < 0, BinaryFn.Le => k <= 0, BinaryFn.Gt => k > 0, BinaryFn.Ge => k >= 0,
                BinaryFn.Eq => k == 0, _ => k != 0,
            });
        var neg = c.Select(x => -x).ToArray();
        return fn switch
        {
            BinaryFn.Le => Add(c, k),
            BinaryFn.Lt => Add(c, k + 1),
            BinaryFn.Ge => Add(neg, -k),
            BinaryFn.Gt => Add(neg, -k + 1),
            BinaryFn.Eq => new FAnd([Add(c, k), Add(neg, -k)]),
            _ => new FOr([Add(c, k + 1), Add(neg, -k + 1)]),
        };
    }

    private FAtom Add(long[] coefficients, long constant)
    {
        Atoms.Add(new LinearLe(coefficients, constant));
        return new FAtom(Atoms.Count - 1);
    }

    /// <summary>The form times its smallest denominator D &lt;= 4096, as integers (D &gt; 0 keeps the comparison's sense).</summary>
    private (long[] Coefficients, long Constant)? ToIntegers(LinearForm form)
    {
        var values = form.Coefficients.Values.Append(form.Constant).ToArray();
        if (values.Any(v => !double.IsFinite(v))) return null;
        for (long d = 1; d <= MaxDenominator; d++)
        {
            if (!values.All(v => IsWhole(v * d))) continue;
            var c = new long[variables];
            foreach (var (v, x) in form.Coefficients) c[v] = (long)Math.Round(x * d);
            return (c, (long)Math.Round(form.Constant * d));
        }
        return null;
    }

    private static bool IsWhole(double v) => Math.Abs(v) < 1L << 50 && Math.Abs(v - Math.Round(v)) <= 1e-9 * Math.Max(1, Math.Abs(v));

    /// <summary>An atom constant on tiles, or null when some variable is used other than through a tile function.</summary>
    private Formula? Tile(BoundExpr e)
    {
        var slots = new List<int>();
        if (Slot(e, slots) is not { } slotted) return null;
        var distinct = slots.Distinct().Order().ToArray();
        Atoms.Add(new TileAtom(slotted, distinct, [.. distinct.Select(s => Slots[s].Variable).Distinct().Order()]));
        return new FAtom(Atoms.Count - 1);
    }

    private BoundExpr? Slot(BoundExpr x, List<int> slots)
    {
        if (x is BinaryBound { Fn: BinaryFn.FloorDiv, Right: ConstExpr c } fd && IsWhole(c.Value) && c.Value >= 1
            && TileFnOf(fd.Left, (long)c.Value) is { } fn)
            return SlotRead(fn, slots);
        if (x is not ConstExpr && LinearForm.TryFrom(x) is { } form)
        {
            if (form.Coefficients.IsEmpty) return new ConstExpr(form.Constant);
            return TileFnOf(x, 1) is { } direct ? SlotRead(direct, slots) : null;
        }
        switch (x)
        {
            case ConstExpr: return x;
            case UnaryBound u: return Slot(u.Operand, slots) is { } o ? u with { Operand = o } : null;
            case BinaryBound b: return Slot(b.Left, slots) is { } l && Slot(b.Right, slots) is { } r ? b with { Left = l, Right = r } : null;
            case BlockMaskExpr m: return Slot(m.RowBlock, slots) is { } row && Slot(m.ColBlock, slots) is { } col ? m with { RowBlock = row, ColBlock = col } : null;
            default: return null;
        }
    }

    private static TileFn? TileFnOf(BoundExpr numerator, long divisor)
    {
        if (LinearForm.TryFrom(numerator) is not { Coefficients.Count: 1 } f) return null;
        var (v, a) = f.Coefficients.First();
        return a >= 1 && IsWhole(a) && IsWhole(f.Constant) ? new TileFn(v, (long)a, (long)f.Constant, divisor) : null;
    }

    private IndexValueExpr SlotRead(TileFn fn, List<int> slots)
    {
        if (!_slotOf.TryGetValue(fn, out var s))
        {
            s = Slots.Count;
            Slots.Add(fn);
            _slotOf[fn] = s;
        }
        slots.Add(s);
        return new IndexValueExpr(new AffineIndex(0, [new AffineTerm(s, "s" + s, 1)]));
    }
}
