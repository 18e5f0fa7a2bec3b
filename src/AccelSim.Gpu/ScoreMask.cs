using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>
/// Block-granular part of a mask: block (query // RowBlock, key // ColBlock) is kept when <see cref="Keep"/> says so
/// (the IR's `blockmask(...)` and the block-diagonal terms that go with it, evaluated by the IR's own predicate).
/// </summary>
public sealed record BlockPattern(long RowBlock, long ColBlock, Func<long, long, bool> Keep, string Text);

/// <summary>
/// The (query, key) pairs of one head that are scored: a band around the diagonal,
/// <see cref="MinOffset"/> &lt;= key - query &lt;= <see cref="MaxOffset"/> (a null side is open), optionally thinned by a
/// <see cref="BlockPattern"/>. This is the IR's definition: `causal(p, m, o)` is key - query &lt;= o, and
/// `window(p + o, m, w)` is |p + o - m| &lt; w, i.e. o - (w - 1) &lt;= key - query &lt;= o + (w - 1), symmetric unless a
/// causal bound cuts it to the trailing w keys. Every tile-skipping decision and every count of the GPU models uses
/// these counts, so what a kernel skips and what `analyze` counts cannot disagree.
/// </summary>
public sealed record ScoreMask(long QueryLen, long KvLen, long? MinOffset, long? MaxOffset, BlockPattern? Blocks)
{
    /// <summary>The mask of the measurement rows: causal (bottom-right aligned) and/or a window of <paramref name="window"/> keys.</summary>
    public static ScoreMask Of(long queryLen, long kvLen, bool causal, long? window)
    {
        var offset = kvLen - queryLen;
        long? max = causal ? offset : window is { } w ? offset + w - 1 : null;
        long? min = window is { } w2 ? offset - (w2 - 1) : null;
        return new ScoreMask(queryLen, kvLen, min, max, null).Normalised();
    }

    /// <summary>Drops band sides that no (query, key) pair of the plane can violate.</summary>
    public ScoreMask Normalised() => this with
    {
        MaxOffset = MaxOffset is { } max && max >= KvLen - 1 ? null : MaxOffset,
        MinOffset = MinOffset is { } min && min <= -(QueryLen - 1) ? null : MinOffset,
    };

    public bool IsDense => MinOffset is null && MaxOffset is null && Blocks is null;

    /// <summary>The masks a kernel must skip to run only the visible tiles: causal, window, block.</summary>
    public IReadOnlyList<string> Kinds
    {
        get
        {
            var kinds = new List<string>();
            if (MinOffset is not null) kinds.Add(MaskKinds.Window);
            else if (MaxOffset is not null) kinds.Add(MaskKinds.Causal);
            if (Blocks is not null) kinds.Add(MaskKinds.Block);
            return kinds;
        }
    }

    /// <summary>First visible key of a query row (clamped to [0, KvLen]).</summary>
    public long Lo(long query) => MinOffset is { } min ? Math.Clamp(query + min, 0, KvLen) : 0;

    /// <summary>One past the last visible key of a query row (clamped to [0, KvLen]).</summary>
    public long HiExclusive(long query) => MaxOffset is { } max ? Math.Clamp(query + max + 1, 0, KvLen) : KvLen;

    /// <summary>Whether the band is empty everywhere (a lower bound above the upper one).</summary>
    public bool BandEmpty => MinOffset is { } min && MaxOffset is { } max && min > max;

    /// <summary>Visible pairs of the band (blocks ignored) in queries [q0, q1] x keys [k0, k1] (inclusive, clamped to the plane).</summary>
    public long BandCount(long q0, long q1, long k0, long k1)
    {
        q0 = Math.Max(0, q0); q1 = Math.Min(QueryLen - 1, q1);
        k0 = Math.Max(0, k0); k1 = Math.Min(KvLen - 1, k1);
        if (q0 > q1 || k0 > k1 || BandEmpty) return 0;
        var rows = q1 - q0 + 1;
        var width = k1 - k0 + 1;
        // F(t) = #{pairs with key - query <= t} = sum over rows of clamp(query + t - k0 + 1, 0, width).
        long UpTo(long t) => SumClamp(q0 + t - k0 + 1, rows, width);
        var upper = MaxOffset is { } max ? UpTo(max) : rows * width;
        var below = MinOffset is { } min ? UpTo(min - 1) : 0;
        return upper - below;
    }

    /// <summary>Visible pairs (band and blocks) in queries [q0, q1] x keys [k0, k1].</summary>
    public long Count(long q0, long q1, long k0, long k1)
    {
        if (Blocks is not { } b) return BandCount(q0, q1, k0, k1);
        q0 = Math.Max(0, q0); q1 = Math.Min(QueryLen - 1, q1);
        k0 = Math.Max(0, k0); k1 = Math.Min(KvLen - 1, k1);
        long total = 0;
        for (var rb = q0 / b.RowBlock; rb <= q1 / b.RowBlock; rb++)
        {
            long r0 = Math.Max(q0, rb * b.RowBlock), r1 = Math.Min(q1, rb * b.RowBlock + b.RowBlock - 1);
            for (var cb = k0 / b.ColBlock; cb <= k1 / b.ColBlock; cb++)
            {
                long c0 = Math.Max(k0, cb * b.ColBlock), c1 = Math.Min(k1, cb * b.ColBlock + b.ColBlock - 1);
                var n = BandCount(r0, r1, c0, c1);
                if (n > 0 && b.Keep(rb, cb)) total += n;
            }
        }
        return total;
    }

    /// <summary>Visible pairs of one head.</summary>
    public long Total() => Count(0, QueryLen - 1, 0, KvLen - 1);

    /// <summary>
    /// Visible pairs of packed rows [r0, r1] x keys [k0, k1], where row r is query r / <paramref name="pack"/> (GQA
    /// decode packs the query heads of a group into the rows of one tile).
    /// </summary>
    public long PackedCount(long r0, long r1, int pack, long k0, long k1)
    {
        if (pack == 1) return Count(r0, r1, k0, k1);
        long q0 = r0 / pack, q1 = r1 / pack;
        if (q0 == q1) return (r1 - r0 + 1) * Count(q0, q0, k0, k1);
        var total = ((q0 + 1) * pack - r0) * Count(q0, q0, k0, k1) + (r1 - q1 * pack + 1) * Count(q1, q1, k0, k1);
        if (q1 > q0 + 1) total += pack * Count(q0 + 1, q1 - 1, k0, k1);
        return total;
    }

    /// <summary>sum over k in [0, n) of clamp(c + k, 0, w).</summary>
    private static long SumClamp(long c, long n, long w)
    {
        if (n <= 0 || w <= 0) return 0;
        long last = c + n - 1;
        long total = 0;
        long a = Math.Max(c, 1), b = Math.Min(last, w - 1);
        if (a <= b) total += (a + b) * (b - a + 1) / 2;
        var saturated = last - Math.Max(c, w) + 1;
        if (saturated > 0) total += saturated * w;
        return total;
    }

    public override string ToString()
    {
        if (IsDense) return "dense";
        var parts = new List<string>();
        if (MinOffset is not null || MaxOffset is not null)
            parts.Add($"{(MinOffset is { } min ? Invariant.Num(min) + " <= " : "")}key - query{(MaxOffset is { } max ? " <= " + Invariant.Num(max) : "")}");
        if (Blocks is { } b) parts.Add($"{b.RowBlock}x{b.ColBlock} blocks kept by {b.Text}");
        return string.Join(", ", parts);
    }
}

/// <summary>Names of the masks a kernel family can skip (arch/gpu/kernels.yaml `implements.masks`).</summary>
public static class MaskKinds
{
    public const string Causal = "causal";
    public const string Window = "window";
    public const string Block = "block";

    public static readonly string[] All = [Causal, Window, Block];
}
