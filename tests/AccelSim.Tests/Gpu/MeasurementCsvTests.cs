using AccelSim.Core;
using AccelSim.Gpu.Validation;
using AccelSim.Tests.Experiments;

namespace AccelSim.Tests.Gpu;

/// <summary>`validate --measurements`: malformed CSV quoting, files without rows and measured rates without a
/// relative error are one-line input errors (exit 2), so MAPE is never NaN.</summary>
public class MeasurementCsvTests
{
    private const string Header = "gpu,kernel,dtype,direction,batch,heads,seq_len,head_dim,causal,tflops,approx,source\n";
    private const string Good = "H100-SXM5-80GB,FlashAttention-3,bf16,fwd,1,16,4096,128,false,600,no,x\n";

    private static InputException Error(string text) =>
        Assert.Throws<InputException>(() => MeasurementReader.Parse(text, "m.csv"));

    [Fact]
    public void UnclosedOrStrayQuotesAreErrorsAtTheirLine()
    {
        var e = Error(Header + Good + "H100-SXM5-80GB,FlashAttention-3,bf16,fwd,1,16,4096,128,false,600,no,\"a source\n" + Good);
        Assert.Equal("m.csv:3:69: unclosed quote: the quoted field never ends", e.OneLine);
        e = Error(Header + "H100-SXM5-80GB,Flash\"Attention-3,bf16,fwd,1,16,4096,128,false,600,no,x\n");
        Assert.StartsWith("m.csv:2:21: quote inside an unquoted field", e.OneLine);
        e = Error(Header + "H100-SXM5-80GB,\"FlashAttention-3\"x,bf16,fwd,1,16,4096,128,false,600,no,x\n");
        Assert.StartsWith("m.csv:2:34: text after the closing quote", e.OneLine);
        // A quoted field may hold commas, doubled quotes and line breaks.
        var set = MeasurementReader.Parse(Header + Good.Replace(",x\n", ",\"a, \"\"b\"\"\nc\"\n") + Good, "m.csv");
        Assert.Equal("a, \"b\"\nc", set.Rows[0].Source);
        Assert.Equal(4, set.Rows[1].Line);
    }

    [Fact]
    public void AHeaderWithoutRowsIsAnInputError()
    {
        Assert.Equal("m.csv: no measurement rows (the file has only a header)", Error(Header).OneLine);
        Assert.Equal("m.csv: no measurement rows (the file has only a header)", Error(Header + "\n\n").OneLine);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("fast")]
    public void AMeasuredRateWithoutARelativeErrorIsOutOfRange(string tflops)
    {
        var e = Error(Header + Good + Good.Replace(",600,", "," + tflops + ","));
        Assert.Equal($"m.csv:3:10: tflops: out of range: expected a positive finite number, found '{tflops}'", e.OneLine);
    }

    [Fact]
    public void HugeIntegersAreOutOfRangeNotWrapped()
    {
        var e = Error(Header + Good.Replace(",16,4096,", ",99999999999,4096,"));
        Assert.Equal("m.csv:2:6: heads: 99999999999 is out of range (at most 2147483647)", e.OneLine);
    }

    [Fact]
    public void CliExitsTwoWithOneLine()
    {
        using var dir = new TempDir();
        foreach (var (text, expected) in new[]
                 {
                     (Header, "no measurement rows"),
                     (Header + Good.Replace(",600,", ",0,"), "tflops: out of range"),
                     (Header + Good.Replace(",x\n", ",\"x\n"), "unclosed quote"),
                 })
        {
            var path = dir.Write("m.csv", text);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = AccelSim.Cli.Cli.Run(["validate", "--measurements", path, "--arch-dir", GpuTestData.ArchDir], stdout, stderr);
            Assert.Equal(2, code);
            var err = stderr.ToString().TrimEnd('\n');
            Assert.DoesNotContain('\n', err);
            Assert.StartsWith(path, err);
            Assert.Contains(expected, err);
            Assert.DoesNotContain("NaN", stdout.ToString());
        }
    }
}
