using System.Globalization;
using System.Text.Json;
using AccelSim.Experiments.FuseMax;
using AccelSim.Pruning;
using AccelSim.Pruning.Engine;
using AccelSim.Pruning.Study;

namespace AccelSim.Tests.Engines;

/// <summary>
/// Issue 12, the front door: `eval` answers for the study architectures (their cascade mapping applied to the workload
/// given) and for SpAtten (the workload's pruning: section), and the fusemax sweep engine prices the sweep's cascade.
/// </summary>
public class FrontDoorTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => CliRunner.Run(args);

    private static JsonElement Json(params string[] args)
    {
        var (code, output, err) = Cli([.. args, "--json"]);
        Assert.True(code == 0, err);
        return JsonDocument.Parse(output).RootElement;
    }

    private static string Attention(string file) => RepoPaths.Of("workloads", "attention", file);
    private static string StudyArch(string name) => RepoPaths.Of("arch", "fusemax", name + ".yaml");
    private static readonly string Bert = RepoPaths.Of("workloads", "models", "bert-base.yaml");

    /// <summary>The one stderr line of a bad-input run: exit 2, `FILE:LINE:COL: ` of <paramref name="file"/>.</summary>
    private static string LocatedError((int Code, string Out, string Err) r, string file)
    {
        Assert.Equal(2, r.Code);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Matches(@"^[^:]+:\d+:\d+: ", lines[0]);
        Assert.StartsWith(file, lines[0]);
        return lines[0];
    }

    [Fact]
    public void FuseMaxEvalPrintsTheReproduceFuseMaxRow()
    {
        var json = Json("eval", "--arch", StudyArch("fusemax"), "--workload", Attention("attention-1pass-prescaled.yaml"),
            "--model", Bert, "--set", "seq_len=16384");
        var latency = json.GetProperty("latency_s").GetDouble();
        var energy = json.GetProperty("energy_pJ").GetDouble();

        // A fresh in-process reproduction of that point ...
        FuseMaxStudy.ClearCache();
        var point = FuseMaxStudy.Run(RepoPaths.Root, ["fusemax"], [("BERT", "bert-base.yaml")], [16384]).Single();
        Assert.Equal(point.Report.Attention.LatencySeconds, latency);
        Assert.Equal(point.Report.Attention.EnergyPJ, energy);
        // ... and the committed reference row of results/fusemax/attention.csv.
        var rows = File.ReadAllLines(RepoPaths.Of("results", "fusemax", "attention.csv"));
        var header = rows[0].Split(',');
        var row = rows.Select(r => r.Split(',')).Single(r => r[0] == "BERT" && r[1] == "16384" && r[2] == "fusemax");
        Assert.Equal(double.Parse(row[Array.IndexOf(header, "latency_s")], CultureInfo.InvariantCulture), latency);
        Assert.Equal(double.Parse(row[Array.IndexOf(header, "energy_pJ")], CultureInfo.InvariantCulture), energy);
    }

    [Theory]
    [InlineData("fusemax", "attention-1pass-prescaled.yaml", 12)]
    [InlineData("stall", "attention-1pass-prescaled.yaml", 12)]
    [InlineData("cascade", "attention-1pass-prescaled.yaml", 12)]
    [InlineData("flat", "attention-3pass-prescaled.yaml", 6)]
    [InlineData("unfused", "attention-3pass-prescaled.yaml", 6)]
    public void EveryStudyArchitectureAnswersEvalWithTheCascadeEnginesResult(string arch, string workload, int einsums)
    {
        var json = Json("eval", "--arch", StudyArch(arch), "--workload", Attention(workload), "--model", Bert, "--set", "seq_len=4096");
        var study = FuseMaxStudy.EvaluatePoint(StudyArch(arch), Bert, 4096, attentionOnly: true).Attention;
        Assert.Equal("cascade", json.GetProperty("engine").GetString());
        Assert.Equal(study.LatencySeconds, json.GetProperty("latency_s").GetDouble());
        Assert.Equal(study.EnergyPJ, json.GetProperty("energy_pJ").GetDouble());
        Assert.Equal(study.TrafficBytes, json.GetProperty("traffic_bytes").GetDouble());
        foreach (var a in new[] { "2d", "1d" })
        {
            var u = json.GetProperty("utilization").GetProperty(a).GetDouble();
            Assert.InRange(u, 0, 1);
            Assert.Equal(study.Utilization(a), u);
        }
        Assert.Equal(einsums, json.GetProperty("einsums").GetArrayLength());
        Assert.Contains(json.GetProperty("buffers").EnumerateArray(), b => b.GetProperty("level").GetString() == "L3" && b.GetProperty("required_words").GetDouble() > 0);

        var (code, text, err) = Cli("eval", "--arch", StudyArch(arch), "--workload", Attention(workload), "--model", Bert, "--set", "seq_len=4096");
        Assert.True(code == 0, err);
        Assert.Contains("latency", text);
        Assert.Contains("QK", text);
    }

    /// <summary>The 1-pass prescaled cascade with QK scaled inside the Einsum: the same names, one multiply more per point.</summary>
    private static string ScaledInsideQk() => RepoPaths.TempYaml(File.ReadAllText(Attention("attention-1pass-prescaled.yaml"))
        .Replace("name: attention-1pass-prescaled", "name: qk-scaled-inside")
        .Replace("QK[b,h,m1,m0,p] = Q[b,h,p,e] * K[b,h,m,e]", "QK[b,h,m1,m0,p] = Q[b,h,p,e] * K[b,h,m,e] * 0.125"), "qk-scaled.yaml");

    [Fact]
    public void TheCascadeGivenIsTheCascadePricedNotTheArchitecturesOwn()
    {
        var own = Json("eval", "--arch", StudyArch("fusemax"), "--workload", Attention("attention-1pass-prescaled.yaml"));
        var other = Json("eval", "--arch", StudyArch("fusemax"), "--workload", ScaledInsideQk());
        Assert.Equal("qk-scaled-inside", other.GetProperty("workload").GetString());
        double QkSeconds(JsonElement j) => j.GetProperty("einsums").EnumerateArray().Single(e => e.GetProperty("einsum").GetString() == "QK").GetProperty("seconds").GetDouble();
        Assert.True(QkSeconds(other) > QkSeconds(own));
        Assert.True(other.GetProperty("energy_pJ").GetDouble() > own.GetProperty("energy_pJ").GetDouble());

        // Parameters reach the given cascade: a longer sequence costs more.
        var longer = Json("eval", "--arch", StudyArch("fusemax"), "--workload", Attention("attention-1pass-prescaled.yaml"), "--set", "seq_len=4096");
        Assert.True(longer.GetProperty("latency_s").GetDouble() > own.GetProperty("latency_s").GetDouble());
    }

    [Fact]
    public void AMappingNamingAnEinsumTheWorkloadLacksIsALocatedError()
    {
        var line = LocatedError(Cli("eval", "--arch", StudyArch("flat"), "--workload", Attention("attention-1pass-prescaled.yaml")), StudyArch("flat"));
        Assert.Contains("workload attention-1pass-prescaled has no Einsum 'MX'", line);
    }

    [Fact]
    public void AWorkloadEinsumTheMappingLeavesUnboundIsALocatedError()
    {
        // attention-1pass.yaml scales the query in its own Einsum QS, which FuseMax's binding does not place.
        var line = LocatedError(Cli("eval", "--arch", StudyArch("fusemax"), "--workload", Attention("attention-1pass.yaml")), StudyArch("fusemax"));
        Assert.Contains("binds to no array: QS", line);
        Assert.Contains("attention.binding", line);
    }

    [Fact]
    public void OptionsTheEngineDoesNotReadAreRefusedOnOneLine()
    {
        var (code, _, err) = Cli("eval", "--arch", StudyArch("fusemax"), "--workload", Attention("attention-1pass-prescaled.yaml"), "--kernel", "fa3");
        Assert.Equal(2, code);
        Assert.StartsWith("--kernel: engine cascade", err.Trim());
        Assert.DoesNotContain('\n', err.Trim());
    }

    // ---- SpAtten ----

    private static readonly string Spatten = RepoPaths.Of("arch", "spatten.yaml");

    [Fact]
    public void SpattenEvalPricesTheWorkloadsPruningAsReproduceSpattenWould()
    {
        var pruned = Attention("attention-3pass-pruned.yaml");
        var json = Json("eval", "--arch", Spatten, "--workload", pruned, "--model", Bert, "--set", "batch=1");
        Assert.Equal("spatten", json.GetProperty("engine").GetString());
        Assert.Equal(12, json.GetProperty("layers").GetInt32());

        // The same cascade as a `cascade:` benchmark of a SpAtten benchmark file (how `reproduce spatten` builds it; the
        // benchmark's name seeds the simulated top-k timing, so it is the workload's name).
        var bench = RepoPaths.TempYaml($"""
            format: accelsim-spatten-benchmarks 1
            benchmarks:
              - {"{"}name: attention-3pass-pruned, cascade: {pruned}, set: {"{"}heads: 12, head_dim: 64, batch: 1{"}"}, layers: 12{"}"}
            """, "bench.yaml");
        var study = SpattenStudy.Run(SpattenStudy.LoadBenchmarks([bench]), SpattenArch.LoadFile(Spatten), [TechniqueSet.None, TechniqueSet.All]);
        var all = study.Row("attention-3pass-pruned", "all").Result;
        var dense = study.Row("attention-3pass-pruned", "dense").Result;
        Assert.Equal(all.LatencySeconds, json.GetProperty("latency_s").GetDouble());
        Assert.Equal(all.EnergyPj, json.GetProperty("energy_pJ").GetDouble());
        Assert.Equal(all.DramBytes, json.GetProperty("dram_bytes").GetDouble());
        Assert.Equal(dense.DramBytes, json.GetProperty("dense").GetProperty("dram_bytes").GetDouble());
        Assert.True(json.GetProperty("dram_reduction").GetDouble() > 1);
    }

    [Fact]
    public void SpattenTakesTheCascadesCausalMask()
    {
        double Latency(string causal) => Json("eval", "--arch", Spatten, "--workload", Attention("attention-3pass-pruned.yaml"),
            "--set", "seq_len=512", "--set", "causal=" + causal, "--model", Bert, "--set", "batch=1").GetProperty("latency_s").GetDouble();
        Assert.True(Latency("true") < 0.6 * Latency("false"));
    }

    [Theory]
    [InlineData("layers/transformer-layer.yaml", "no 'attention:' section")]
    [InlineData("attention/gqa-1pass.yaml", "shares K/V across query heads")]
    public void SpattenRefusesCascadesItCannotImplementOnOneLine(string workload, string why)
    {
        var (code, _, err) = Cli("eval", "--arch", Spatten, "--workload", RepoPaths.Of("workloads", workload));
        Assert.Equal(2, code);
        Assert.Contains(why, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void SpattenRefusesACascadeThatIsNotSoftmaxAttention()
    {
        // Linear attention: no exponentials, no row maximum.
        var linear = RepoPaths.TempYaml(File.ReadAllText(Attention("attention-3pass.yaml"))
            .Replace("  - MX[b,h,p] = max[m](QK[b,h,m,p])\n", "")
            .Replace("SN[b,h,m,p] = exp(QK[b,h,m,p] - MX[b,h,p])", "SN[b,h,m,p] = relu(QK[b,h,m,p])"), "linear.yaml");
        var (code, _, err) = Cli("eval", "--arch", Spatten, "--workload", linear);
        Assert.Equal(2, code);
        Assert.Contains("SpAtten implements softmax attention", err);
        Assert.Contains("no exponentials", err);
    }

    // ---- sweeps: the sweep's workload is the cascade priced ----

    private static (int Code, string[] Rows, string Err) Sweep(string yaml)
    {
        var file = RepoPaths.TempYaml(yaml, "sweep.yaml");
        var dir = Path.Combine(Path.GetDirectoryName(file)!, "out");
        var (code, _, err) = Cli("sweep", file, "--out", dir, "--jobs", "1", "--progress", "none");
        var results = Path.Combine(dir, "results.csv");
        return (code, File.Exists(results) ? File.ReadAllLines(results) : [], err);
    }

    [Fact]
    public void AFuseMaxSweepPricesEachCascadeItNames()
    {
        var (code, rows, err) = Sweep($"""
            name: cascades
            engine: fusemax
            arch: {StudyArch("fusemax")}
            workload:
              prescaled: {Attention("attention-1pass-prescaled.yaml")}
              scaled-inside: {ScaledInsideQk()}
            options: {"{"}model: {Bert}, attention_only: true{"}"}
            parameters:
              grid:
                workload.params.seq_len: [4096]
            metrics: [latency_s, energy_pJ]
            """);
        Assert.True(code == 0, err);
        var header = rows[0].Split(',');
        var data = rows.Skip(1).Select(r => r.Split(',')).ToDictionary(r => r[Array.IndexOf(header, "workload")]);
        Assert.Equal(2, data.Count);
        double Energy(string w) => double.Parse(data[w][Array.IndexOf(header, "energy_pJ")], CultureInfo.InvariantCulture);
        Assert.NotEqual(Energy("prescaled"), Energy("scaled-inside"));
        // The shipped cascade's row is the study's number for that point.
        Assert.Equal(FuseMaxStudy.EvaluatePoint(StudyArch("fusemax"), Bert, 4096, attentionOnly: true).Attention.EnergyPJ, Energy("prescaled"));
    }

    [Fact]
    public void TheOneAndThreePassCascadesGetDifferentRowsOnTheArchitecturesThatMapThem()
    {
        string Row(string arch, string workload)
        {
            var (code, rows, err) = Sweep($"""
                name: one
                engine: fusemax
                arch: {StudyArch(arch)}
                workload: {Attention(workload)}
                options: {"{"}model: {Bert}{"}"}
                parameters:
                  grid:
                    workload.params.seq_len: [4096]
                metrics: [latency_s, energy_pJ]
                """);
            Assert.True(code == 0, err);
            return rows[1][rows[1].IndexOf(",4096,", StringComparison.Ordinal)..];
        }
        Assert.NotEqual(Row("fusemax", "attention-1pass-prescaled.yaml"), Row("unfused", "attention-3pass-prescaled.yaml"));
    }

    [Fact]
    public void ASweepNamingACascadeTheMappingDoesNotCoverStopsBeforeRunningWithALocatedLine()
    {
        var (code, rows, err) = Sweep($"""
            name: mismatch
            engine: fusemax
            arch: {StudyArch("fusemax")}
            workload:
              one: {Attention("attention-1pass-prescaled.yaml")}
              three: {Attention("attention-3pass-prescaled.yaml")}
            parameters:
              grid:
                workload.params.seq_len: [4096]
            metrics: [latency_s]
            """);
        Assert.Equal(2, code);
        Assert.Empty(rows);
        var line = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
        Assert.Matches(@"fusemax\.yaml:\d+:\d+: ", line);
        Assert.Contains("workload attention-3pass-prescaled has no Einsum", line);
    }
}
