using AccelSim.Core;
using AccelSim.Einsum.Analysis;
using AccelSim.Einsum.Interpretation;
using AccelSim.Einsum.Ir;
using AccelSim.Einsum.Loading;

namespace AccelSim.Tests.Einsum;

/// <summary>Recurrences: exact pass counts for loops around traversals, and `init:` counted as executed.</summary>
public class RecurrenceTests
{
    private static Cascade Bind(string yaml, Dictionary<string, string>? set = null) =>
        WorkloadLoader.Bind(WorkloadSpec.Parse(YNode.LoadText(yaml, "recurrence.yaml")), set);

    // Power iteration: each step needs the previous step's normalised vector, whose norm is a full reduction.
    private const string PowerIteration = """
        name: power-iteration
        params:
          n: 4
          steps: 5
        ranks:
          T: steps
          P: n
          M: n
        tensors:
          A: [P, M]
        outputs: [X]
        einsums:
          - Y[t,p] = A[p,m] * X[t,m]
          - N[t] = sum[p](Y[t,p] * Y[t,p])
          - expr: X[t+1,m] = Y[t,m] / N[t]
            init: 1
        """;

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(20, 21)]
    [InlineData(300, 301)]
    public void AStepThatNeedsTheLastStepsReductionAddsOnePassPerStep(int steps, int passes)
    {
        // Y[t] streams X[t] during the pass that writes it; X[t+1] needs Y[t] complete: one more pass per step.
        var r = PassAnalysis.Analyze(Bind(PowerIteration, new() { ["steps"] = steps.ToString() }));
        Assert.Equal(passes, r.Single(p => p.Rank == "M").Passes);
        Assert.Equal(steps, r.Single(p => p.Rank == "P").Passes);
    }

    [Fact]
    public void TheOnePassRecurrenceStaysOnePassAtAnyLength()
    {
        foreach (var len in new[] { "1024", "65536" })
        {
            var c = WorkloadLoader.Load(RepoPaths.Of("workloads", "attention", "attention-1pass.yaml"), new Dictionary<string, string> { ["seq_len"] = len });
            Assert.Equal(1, PassAnalysis.Analyze(c).Single(p => p.Rank == "M").Passes);
        }
    }

    [Fact]
    public void AReductionThatFeedsItsOwnTraversalIsALocatedError()
    {
        const string yaml = """
            name: impossible
            params: {n: 4}
            ranks: {P: n, M: n}
            tensors:
              A: [P, M]
            outputs: [Y]
            einsums:
              - N[p] = sum[m](Y[p,m])
              - Y[p,m+1] = Y[p,m] * A[p,m] / N[p]
            """;
        var c = Bind(yaml);
        var e = Assert.Throws<InputException>(() => PassAnalysis.Analyze(c));
        Assert.Contains("no number of passes", e.Message);
    }

    /// <summary>
    /// Brute force: the steps of the loop over T, Einsum by Einsum, scheduled greedily pass by pass. A step may run in
    /// a pass once every step it reads has run: in an earlier pass, or in this one when the value is streamed along M
    /// (a map over m, read at m) rather than a reduction over M (complete only at the end of its pass).
    /// </summary>
    private static int OraclePasses(int steps, bool[] reduces, List<int>[] reads, bool stateReduces)
    {
        var n = reduces.Length;
        var pass = new int[n, steps];
        var left = n * steps;
        for (var k = 1; ; k++)
        {
            bool progress;
            do
            {
                progress = false;
                for (var s = 0; s < steps; s++)
                    for (var i = 0; i < n; i++)
                    {
                        if (pass[i, s] != 0) continue;
                        var deps = reads[i].Select(j => (j, s)).ToList();
                        if (i == 0 && s > 0) deps.Add((n - 1, s - 1)); // the state written at t+1
                        bool Ready((int J, int S) d) =>
                            pass[d.J, d.S] != 0 && (pass[d.J, d.S] < k || (pass[d.J, d.S] == k && !reduces[d.J]));
                        if (!deps.All(Ready)) continue;
                        pass[i, s] = k;
                        left--;
                        progress = true;
                    }
            } while (progress);
            if (left == 0) return k;
            Assert.True(k < 10 * n * steps, "oracle did not finish");
        }
    }

    [Fact]
    public void PassCountsEqualABruteForceScheduleOfTheSteps()
    {
        var rng = new Random(14);
        for (var trial = 0; trial < 120; trial++)
        {
            var n = rng.Next(2, 6);
            var steps = rng.Next(1, 7);
            var reduces = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0).ToArray();
            var reads = new List<int>[n];
            var lines = new List<string>();
            string Name(int i) => i == n - 1 ? "R" : $"X{i}";
            string Access(int j, string t) => reduces[j] ? $"{Name(j)}[{t},p]" : $"{Name(j)}[{t},p,m]";
            for (var i = 0; i < n; i++)
            {
                reads[i] = i == 0 ? [] : [i - 1];
                for (var j = 0; j < i - 1; j++) if (rng.Next(3) == 0) reads[i].Add(j);
                var terms = new List<string> { "A[p,m]" };
                terms.AddRange(reads[i].Select(j => Access(j, "t")));
                if (i == 0) terms.Add(Access(n - 1, "t"));
                var t = i == n - 1 ? "t+1" : "t";
                var lhs = reduces[i] ? $"{Name(i)}[{t},p]" : $"{Name(i)}[{t},p,m]";
                var body = string.Join(" * ", terms);
                var expr = reduces[i] ? $"{lhs} = sum[m]({body})" : $"{lhs} = {body}";
                lines.Add(i == n - 1 ? $"  - expr: {expr}\n    init: 1" : $"  - {expr}");
            }
            var yaml = $"name: random-recurrence\nparams: {{steps: {steps}}}\nranks: {{T: steps, P: 2, M: 3}}\n" +
                       $"tensors:\n  A: [P, M]\noutputs: [R]\neinsums:\n{string.Join("\n", lines)}\n";
            var cascade = Bind(yaml);
            var expected = OraclePasses(steps, reduces, reads, reduces[n - 1]);
            var actual = PassAnalysis.Analyze(cascade).Single(p => p.Rank == "M").Passes;
            Assert.True(expected == actual, $"trial {trial}: expected {expected} passes, analysis says {actual}\n{yaml}");
        }
    }

    [Fact]
    public void InitValuesAreCountedWhereTheInterpreterExecutesThem()
    {
        // B holds its init value where the mask removes a point, so C multiplies at every point, masked or not.
        const string yaml = """
            name: init-counts
            params: {n: 8}
            ranks: {P: n, M: n}
            tensors:
              A: [P, M]
            outputs: [C, D]
            einsums:
              - expr: B[p,m] = A[p,m] * 2
                where: m <= p
                init: 0
              - C[p,m] = B[p,m] * A[p,m]
              - expr: S[p] = sum[m](A[p,m])
                where: m < p
                init: 0
              - D[p] = S[p] * 3
            """;
        var c = Bind(yaml);
        var report = CascadeAnalyzer.Analyze(c);
        var run = Interpreter.Run(c, Interpreter.RandomInputs(c, 1));
        Assert.Equal(36, report.Einsum("B").Points);
        Assert.Equal(64, report.Einsum("C").Points);
        Assert.Equal(8, report.Einsum("D").Points); // S[0] reduces over nothing: it holds init
        foreach (var e in c.Einsums) Assert.Equal(run.ExecutedPoints[e.Name], report.Einsum(e.Name).Points);
    }

    [Fact]
    public void ChunkedDeltaNetInWyFormBindsAndMatchesTheTokenByTokenDeltaRule()
    {
        var path = RepoPaths.Of("workloads", "variants", "deltanet-chunked.yaml");
        foreach (var args in new[] { new[] { "check", path }, ["check", path, "--set", "seq_len=12", "--set", "chunk=4", "--seed", "5"] })
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            Assert.True(AccelSim.Cli.Cli.Run(args, stdout, stderr) == 0, stdout + stderr.ToString());
            Assert.Contains("PASS", stdout.ToString());
        }
        // Over E, each chunk's state update needs W S[c] reduced over E first: one more pass per chunk.
        var c = WorkloadLoader.Load(path, new Dictionary<string, string> { ["seq_len"] = "1024", ["chunk"] = "64" });
        var passes = PassAnalysis.Analyze(c);
        Assert.Equal(1, passes.Single(p => p.Rank == "M").Passes);
        Assert.Equal(1024 / 64 + 1, passes.Single(p => p.Rank == "E").Passes);
    }
}
