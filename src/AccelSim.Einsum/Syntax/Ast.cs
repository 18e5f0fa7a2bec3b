using System.Collections.Immutable;

namespace AccelSim.Einsum.Syntax;

/// <summary>Binary operators of the expression language (arithmetic, comparison, logic).</summary>
public enum BinaryOp { Add, Sub, Mul, Div, FloorDiv, Mod, Lt, Le, Gt, Ge, Eq, Ne, And, Or }

/// <summary>Reduction operators of an extended Einsum (the "reduce" of map-reduce).</summary>
public enum ReduceOp { Sum, Max, Min }

/// <summary>
/// Untyped syntax tree of one expression: a parameter formula, an index, a filter or an Einsum right-hand side.
/// <see cref="Offset"/> is the 0-based character offset in the source text, used for error columns.
/// </summary>
public abstract record Expr(int Offset);

public sealed record NumberExpr(double Value, int Offset) : Expr(Offset);

public sealed record NameExpr(string Name, int Offset) : Expr(Offset);

/// <summary>A tensor access `T[i, j+1, ...]`.</summary>
public sealed record AccessExpr(string Tensor, ImmutableArray<Expr> Indices, int Offset) : Expr(Offset);

public sealed record UnaryExpr(char Op, Expr Operand, int Offset) : Expr(Offset);

public sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right, int Offset) : Expr(Offset);

public sealed record CallExpr(string Function, ImmutableArray<Expr> Args, int Offset) : Expr(Offset);

/// <summary>`sum(m0: body)`, `max(m0, m1: body)`: a reduction over the named index variables.</summary>
public sealed record ReduceExpr(ReduceOp Op, ImmutableArray<string> Variables, Expr Body, int Offset) : Expr(Offset);

/// <summary>`LHS = RHS`: one Einsum statement.</summary>
public sealed record EinsumStatement(AccessExpr Output, Expr Right);
