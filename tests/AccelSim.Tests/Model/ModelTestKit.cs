using System.Collections.Immutable;
using AccelSim.Hardware;
using AccelSim.Mapping;

namespace AccelSim.Tests.Model;

/// <summary>Small architectures, problems and a seeded random mapping generator shared by the model tests.</summary>
public static class ModelTestKit
{
    public static StorageLevel Level(string name, string? parent, long? capacity, int instances = 1, int meshX = -1, int block = 1, string cls = "sram") =>
        new(name, cls, parent, capacity, 16, block, null, null, null, instances, meshX < 0 ? instances : meshX, 1, null,
            new Sourced(1, null), new Sourced(2, null), new Sourced(3, null), Sourced.Zero, Sourced.Zero);

    public static ComputeUnit Pe(string parent, int instances = 1, int meshX = -1) =>
        new("PE", parent, instances, meshX < 0 ? instances : meshX,
            ImmutableDictionary<string, Sourced>.Empty.Add("mac", new Sourced(1, null)),
            ImmutableArray.Create(new ComputeOperation("mac", 1, ImmutableArray.Create(new ActionCount("mac", 1)), null)),
            Sourced.Zero, Sourced.Zero);

    public static ArchPath Path(params object[] parts)
    {
        var levels = parts.OfType<StorageLevel>().ToImmutableArray();
        var pe = parts.OfType<ComputeUnit>().Single();
        var arch = new Architecture("test", 1e9, 45, levels, ImmutableArray.Create(pe));
        return arch.PathTo(pe);
    }

    /// <summary>2 to 4 levels, with and without fan-out on X and Y.</summary>
    public static IReadOnlyList<(string Name, ArchPath Path)> Architectures() => new[]
    {
        ("2-level", Path(Level("DRAM", null, null, cls: "dram"), Level("RF", "DRAM", 24), Pe("RF"))),
        ("3-level-x4", Path(Level("DRAM", null, null, cls: "dram"), Level("GLB", "DRAM", 200), Level("RF", "GLB", 16, 4), Pe("RF", 4))),
        ("3-level-xy", Path(Level("DRAM", null, null, cls: "dram"), Level("GLB", "DRAM", 300, 2), Level("RF", "GLB", 24, 4, 2), Pe("RF", 8, 4))),
        ("4-level", Path(Level("DRAM", null, null, cls: "dram"), Level("L2", "DRAM", 400), Level("L1", "L2", 64, 2), Level("L0", "L1", 12, 4, 2), Pe("L0", 4, 2))),
    };

    public static ProblemShape Parse(string yaml) => ProblemLoader.Parse(Core.YNode.LoadText(yaml, "test.yaml"));

    public static IReadOnlyList<(string Name, ProblemShape Problem)> Problems() => new[]
    {
        ("gemm", Parse("problem: {name: gemm, dims: {M: 4, N: 4, K: 6}, tensors: {A: [M, K], B: [K, N], Z: {ranks: [M, N], output: true}}}")),
        ("attention-qk", Parse("problem: {name: qk, dims: {B: 2, H: 2, M: 4, P: 4, E: 2}, tensors: {Q: [B, H, P, E], K: [B, H, M, E], QK: {ranks: [B, H, M, P], output: true}}}")),
        ("attention-av", Parse("problem: {name: av, dims: {B: 2, H: 1, M: 4, P: 4, F: 2}, tensors: {A: [B, H, M, P], V: [B, H, M, F], AV: {ranks: [B, H, P, F], output: true}}}")),
        ("conv-strided", Parse("problem: {name: conv, dims: {K: 2, C: 2, P: 4, Q: 2, R: 3, S: 2}, coefficients: {stride: 2}, tensors: {W: [K, C, R, S], I: [C, 'P*stride + R', 'Q + S'], O: {ranks: [K, P, Q], output: true}}}")),
        ("conv-dilated", Parse("problem: {name: conv, dims: {K: 2, C: 1, P: 6, R: 3}, tensors: {W: [K, C, R], I: [C, 'P + 2*R'], O: {ranks: [K, P], output: true}}}")),
    };

    private static List<int> Primes(long n)
    {
        var f = new List<int>();
        for (int p = 2; n > 1; p++)
            while (n % p == 0) { f.Add(p); n /= p; }
        return f;
    }

    /// <summary>A random mapping: each prime factor of each dimension goes to a random level and loop kind that fits.</summary>
    public static CompactMapping RandomMapping(ArchPath path, ProblemShape p, Random rng)
    {
        int L = path.LevelCount, D = p.Dims.Length, T = p.Tensors.Length;
        var m = new CompactMapping(L, D);
        var usedX = new long[L];
        var usedY = new long[L];
        Array.Fill(usedX, 1);
        Array.Fill(usedY, 1);
        for (int d = 0; d < D; d++)
            foreach (var prime in Primes(p.Dims[d].Size))
            {
                int l = rng.Next(L);
                double u = rng.NextDouble();
                if (u < 0.35 && usedX[l] * prime <= path.FanoutX(l)) { m.SpatialX[l * D + d] *= prime; usedX[l] *= prime; }
                else if (u < 0.55 && usedY[l] * prime <= path.FanoutY(l)) { m.SpatialY[l * D + d] *= prime; usedY[l] *= prime; }
                else m.Temporal[l * D + d] *= prime;
            }
        for (int l = 0; l < L; l++)
        {
            var order = Enumerable.Range(0, D).OrderBy(_ => rng.Next()).ToArray();
            for (int k = 0; k < D; k++) m.Order[l * D + k] = order[k];
            int mask = 0;
            for (int t = 0; t < T; t++) if (l == 0 || rng.NextDouble() < 0.7) mask |= 1 << t;
            m.KeepMask[l] = mask;
        }
        return m;
    }
}
