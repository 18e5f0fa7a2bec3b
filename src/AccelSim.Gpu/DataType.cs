using AccelSim.Core;

namespace AccelSim.Gpu;

/// <summary>Element type of Q/K/V/O (and the tensor-core input type).</summary>
public enum DataType { Fp16, Bf16, Fp8, Fp4 }

public static class DataTypes
{
    public static int Bytes(this DataType t) => t switch
    {
        DataType.Fp16 or DataType.Bf16 => 2,
        DataType.Fp8 => 1,
        _ => 1, // FP4 packs two elements per byte; rounded up for traffic accounting of scales + data
    };

    public static string Name(this DataType t) => t switch
    {
        DataType.Fp16 => "fp16",
        DataType.Bf16 => "bf16",
        DataType.Fp8 => "fp8",
        _ => "fp4",
    };

    /// <summary>Parses fp16, bf16, fp8 (e4m3/e5m2), fp4; "fp16/bf16" (same tensor rate) maps to bf16.</summary>
    public static bool TryParse(string text, out DataType type)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "fp16" or "float16" or "half" or "f16": type = DataType.Fp16; return true;
            case "bf16" or "bfloat16" or "fp16/bf16" or "bf16/fp16": type = DataType.Bf16; return true;
            case "fp8" or "e4m3" or "e5m2" or "fp8_e4m3" or "float8": type = DataType.Fp8; return true;
            case "fp4" or "nvfp4" or "mxfp4": type = DataType.Fp4; return true;
            default: type = DataType.Bf16; return false;
        }
    }

    public static DataType Parse(string text) =>
        TryParse(text, out var t) ? t : throw new InputException($"unknown dtype '{text}'{Suggest.DidYouMean(text, ["fp16", "bf16", "fp8", "fp4"])} (expected fp16, bf16, fp8 or fp4)");
}

/// <summary>Forward only, backward only, or forward followed by backward (training step of one attention layer).</summary>
public enum Direction { Forward, Backward, ForwardBackward }

public static class Directions
{
    public static string Name(this Direction d) => d switch
    {
        Direction.Forward => "fwd",
        Direction.Backward => "bwd",
        _ => "fwd+bwd",
    };

    public static bool TryParse(string text, out Direction d)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "fwd" or "forward": d = Direction.Forward; return true;
            case "bwd" or "backward": d = Direction.Backward; return true;
            case "fwd+bwd" or "fwdbwd" or "fwd_bwd" or "forward+backward" or "train": d = Direction.ForwardBackward; return true;
            default: d = Direction.Forward; return false;
        }
    }

    public static Direction Parse(string text) =>
        TryParse(text, out var d) ? d : throw new InputException($"unknown direction '{text}'{Suggest.DidYouMean(text, ["fwd", "bwd", "fwd+bwd"])} (expected fwd, bwd or fwd+bwd)");

    /// <summary>FLOP multiplier over the forward pass, following the FlashAttention papers (bwd = 2.5 x fwd).</summary>
    public static double FlopMultiplier(this Direction d) => d switch
    {
        Direction.Forward => 1.0,
        Direction.Backward => 2.5,
        _ => 3.5,
    };
}
