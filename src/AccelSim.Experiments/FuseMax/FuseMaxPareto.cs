using System.Text;
using AccelSim.Core;
using AccelSim.Model.Cascade;

namespace AccelSim.Experiments.FuseMax;

/// <summary>FuseMax at one PE-array size: the buffer it needs, latency, and area.</summary>
public sealed record ParetoPoint(string Model, int PeDim, double BufferBytes, double TrafficBytes, double MemorySeconds,
    double Compute2DSeconds, double Compute1DSeconds, double LatencySeconds, double Array2DAreaUm2, double AreaUm2);

/// <summary>
/// The study's area-latency trade-off (its Fig. 12): FuseMax with a d x d 2D array and a d-PE 1D array,
/// d = 16 ... 512, at 256K tokens. As in the study, the global buffer is the smallest power of two (bytes) that holds
/// the smallest tiles and keeps the schedule from being memory bound (DRAM time &lt;= 1D array time); its area scales
/// linearly with capacity from the 16 MiB CACTI figure. Area = every compute unit and storage level of the hardware.
/// </summary>
public static class FuseMaxPareto
{
    public static readonly int[] PeDims = [16, 32, 64, 128, 256, 512];
    public const long SeqLen = 262144;

    public static IReadOnlyList<ParetoPoint> Run(string root, IReadOnlyList<(string Name, string File)>? models = null)
    {
        var arch = FuseMaxStudy.ArchPath(root, "fusemax");
        var baseHw = CascadeArchitectureLoader.Load(arch).Hardware;
        var l3 = baseHw.FindLevel("L3")!;
        double areaPerWord = l3.AreaUm2.Value / (l3.CapacityWords ?? 1);
        var points = new List<ParetoPoint>();
        foreach (var (model, file) in models ?? FuseMaxStudy.Models)
        {
            foreach (var d in PeDims)
            {
                // Smallest power-of-two buffer that fits, then doubled until the schedule is compute bound.
                for (long bytes = 1024; bytes <= (1L << 36); bytes *= 2)
                {
                    string[] set = [$"PE2D.mesh={d}", $"L3.capacity_words={bytes / 2}"];
                    CascadeReport r;
                    // The key tile M0 follows the array (the study partitions M by the PE dimension).
                    var tile = new Dictionary<string, string> { ["tile"] = Invariant.Num(d) };
                    try { r = FuseMaxStudy.EvaluatePoint(arch, FuseMaxStudy.ModelPath(root, file), SeqLen, set, tile, attentionOnly: true); }
                    catch (InputException) { continue; }
                    var a = r.Attention;
                    var oneD = a.ArrayBusySeconds.GetValueOrDefault("1d");
                    if (a.MemorySeconds > oneD) continue;
                    var hw = FuseMaxStudy.Evaluator(arch, set).Architecture.Hardware;
                    double area = 0, array2d = 0;
                    foreach (var c in hw.Compute) area += c.AreaUm2.Value * c.Instances;
                    foreach (var l in hw.Storage)
                        area += l.Name == "L3" ? areaPerWord * (l.CapacityWords ?? 0) : l.AreaUm2.Value * l.Instances;
                    array2d = hw.Compute.First(c => c.Name == "PE2D") is var pe ? pe.AreaUm2.Value * pe.Instances : 0;
                    array2d += hw.FindLevel("RF2D") is { } rf ? rf.AreaUm2.Value * rf.Instances : 0;
                    points.Add(new ParetoPoint(model, d, bytes, a.TrafficBytes, a.MemorySeconds, a.ArrayBusySeconds.GetValueOrDefault("2d"),
                        oneD, a.LatencySeconds, array2d, area));
                    break;
                }
            }
        }
        return points;
    }

    public static string Csv(IReadOnlyList<ParetoPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine("accel,model,PE_dim,buffer_bytes,traffic,mem_lat,comp_2d_lat,comp_1d_lat,latency,array_2d_area,area");
        foreach (var p in points)
            sb.AppendLine(string.Join(",", "fusemax", p.Model, Invariant.Num(p.PeDim), Invariant.Num(p.BufferBytes), Invariant.Num(p.TrafficBytes),
                Invariant.Num(p.MemorySeconds), Invariant.Num(p.Compute2DSeconds), Invariant.Num(p.Compute1DSeconds), Invariant.Num(p.LatencySeconds),
                Invariant.Num(p.Array2DAreaUm2), Invariant.Num(p.AreaUm2)));
        return sb.ToString();
    }
}
