using AccelSim.Hardware;
using AccelSim.Mapping;
using AccelSim.Model;
using BenchmarkDotNet.Attributes;

namespace AccelSim.Benchmarks;

/// <summary>
/// Analytical-model throughput on a 3-level architecture (arch/timeloop-3level.yaml: DRAM -> 256 KiB buffer ->
/// 64-entry register file -> MAC) for a conv layer (K=C=64, P=Q=28, R=S=3): each invocation evaluates 1,024
/// pre-generated valid random mappings (random factorisations, loop orders and bypass). Evaluations per second =
/// 1,024 / mean time per invocation, per core (single thread). The hot path must show 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    private const int Batch = 1024;
    private ModelContext _ctx = null!;
    private EvalResult _result = null!;
    private CompactMapping[] _mappings = null!;

    [GlobalSetup]
    public void Setup()
    {
        var arch = ArchitectureLoader.Load(RepoFiles.Of("arch", "timeloop-3level.yaml"));
        var problem = ProblemLoader.Parse(AccelSim.Core.YNode.LoadText(
            "problem: {name: conv, dims: {K: 64, C: 64, P: 28, Q: 28, R: 3, S: 3}, " +
            "tensors: {Weights: [K, C, R, S], Inputs: [C, 'P + R', 'Q + S'], Outputs: {ranks: [K, P, Q], output: true}}}", "bench.yaml"));
        var path = CostModel.PathFor(arch, problem, null);
        _ctx = new ModelContext(path, problem);
        _result = _ctx.CreateResult();
        var rng = new Random(42);
        var list = new List<CompactMapping>();
        while (list.Count < Batch)
        {
            var m = Random(path, problem, rng);
            if (_ctx.Evaluate(m, _result)) list.Add(m);
        }
        _mappings = list.ToArray();
    }

    private static CompactMapping Random(ArchPath path, ProblemShape p, Random rng)
    {
        int L = path.LevelCount, D = p.Dims.Length;
        var m = new CompactMapping(L, D);
        for (int d = 0; d < D; d++)
        {
            long n = p.Dims[d].Size;
            for (int f = 2; n > 1; f++)
                while (n % f == 0) { m.Temporal[rng.Next(L) * D + d] *= f; n /= f; }
        }
        for (int l = 0; l < L; l++)
        {
            var order = Enumerable.Range(0, D).OrderBy(_ => rng.Next()).ToArray();
            order.CopyTo(m.Order, l * D);
            m.KeepMask[l] = l == 0 ? 7 : rng.Next(8);
        }
        return m;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "evaluate one mapping (3-level, conv 64x64x28x28x3x3)")]
    public double Evaluate()
    {
        double sum = 0;
        foreach (var m in _mappings)
        {
            _ctx.Evaluate(m, _result);
            sum += _result.EnergyPJ;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "capacity check only")]
    public int CapacityCheck()
    {
        int ok = 0;
        foreach (var m in _mappings) if (_ctx.CheckCapacity(m, _result)) ok++;
        return ok;
    }
}
