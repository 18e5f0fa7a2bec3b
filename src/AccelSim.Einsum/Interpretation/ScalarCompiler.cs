using System.Linq.Expressions;
using System.Reflection;
using AccelSim.Einsum.Ir;
using X = System.Linq.Expressions.Expression;

namespace AccelSim.Einsum.Interpretation;

/// <summary>Compiles tensor-free expressions (masks) to delegates, so masks can be counted point by point quickly.</summary>
public static class ScalarCompiler
{
    private static readonly MethodInfo Keep = typeof(BlockMaskExpr).GetMethod(nameof(BlockMaskExpr.Keep))!;
    private static readonly MethodInfo Floor = typeof(Math).GetMethod(nameof(Math.Floor), [typeof(double)])!;
    private static readonly MethodInfo ApplyUnary = typeof(ScalarEvaluator).GetMethod(nameof(ScalarEvaluator.Apply), [typeof(UnaryFn), typeof(double)])!;
    private static readonly MethodInfo ApplyBinary = typeof(ScalarEvaluator).GetMethod(nameof(ScalarEvaluator.Apply), [typeof(BinaryFn), typeof(double), typeof(double)])!;

    public static Func<long[], bool> CompilePredicate(BoundExpr e)
    {
        var point = X.Parameter(typeof(long[]), "point");
        return X.Lambda<Func<long[], bool>>(Truth(Build(e, point)), point).Compile();
    }

    private static X Build(BoundExpr e, ParameterExpression point)
    {
        switch (e)
        {
            case ConstExpr c:
                return X.Constant(c.Value);
            case IndexValueExpr i:
                X sum = X.Constant(i.Index.Constant);
                foreach (var t in i.Index.Terms)
                    sum = X.Add(sum, X.Multiply(X.Constant(t.Coefficient), X.ArrayIndex(point, X.Constant(t.Variable))));
                return X.Convert(sum, typeof(double));
            case UnaryBound u:
                return X.Call(ApplyUnary, X.Constant(u.Fn), Build(u.Operand, point));
            case BinaryBound b:
                var l = Build(b.Left, point);
                var r = Build(b.Right, point);
                return b.Fn switch
                {
                    BinaryFn.Add => X.Add(l, r),
                    BinaryFn.Sub => X.Subtract(l, r),
                    BinaryFn.Mul => X.Multiply(l, r),
                    BinaryFn.Lt => Bool(X.LessThan(l, r)),
                    BinaryFn.Le => Bool(X.LessThanOrEqual(l, r)),
                    BinaryFn.Gt => Bool(X.GreaterThan(l, r)),
                    BinaryFn.Ge => Bool(X.GreaterThanOrEqual(l, r)),
                    BinaryFn.Eq => Bool(X.Equal(l, r)),
                    BinaryFn.Ne => Bool(X.NotEqual(l, r)),
                    BinaryFn.And => Bool(X.AndAlso(Truth(l), Truth(r))),
                    BinaryFn.Or => Bool(X.OrElse(Truth(l), Truth(r))),
                    _ => X.Call(ApplyBinary, X.Constant(b.Fn), l, r),
                };
            case BlockMaskExpr m:
                var row = X.Convert(X.Call(Floor, Build(m.RowBlock, point)), typeof(long));
                var col = X.Convert(X.Call(Floor, Build(m.ColBlock, point)), typeof(long));
                return Bool(X.Call(Keep, row, col, X.Constant(m.Density), X.Constant(m.Seed)));
            default:
                throw new InvalidOperationException("a mask cannot read a tensor");
        }
    }

    private static X Bool(X condition) => X.Condition(condition, X.Constant(1.0), X.Constant(0.0));

    private static X Truth(X value) => X.NotEqual(value, X.Constant(0.0));
}
