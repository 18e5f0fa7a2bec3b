namespace AccelSim.Pruning;

/// <summary>One SpAtten pruning / compression technique that can be switched on or off for an ablation.</summary>
public enum Technique
{
    /// <summary>Cascade token pruning (keys/values/queries of pruned tokens gone for every later layer).</summary>
    Token,
    /// <summary>Cascade head pruning.</summary>
    Head,
    /// <summary>Local value pruning: only the top-k V rows of each query are fetched and multiplied.</summary>
    Value,
    /// <summary>Quantisation: static low-bit storage, or progressive MSB-first fetch with LSB re-fetch.</summary>
    Quant,
}

/// <summary>
/// Which techniques are enabled for one run. <see cref="None"/> is the dense baseline of the same engine;
/// structured sparsity (causal, window, block, streaming heads) is part of the workload and always applies.
/// </summary>
public sealed record TechniqueSet(bool Token, bool Head, bool Value, bool Quant)
{
    public static readonly TechniqueSet None = new(false, false, false, false);
    public static readonly TechniqueSet All = new(true, true, true, true);

    public static TechniqueSet Only(Technique technique) => technique switch
    {
        Technique.Token => None with { Token = true },
        Technique.Head => None with { Head = true },
        Technique.Value => None with { Value = true },
        Technique.Quant => None with { Quant = true },
        _ => throw new ArgumentOutOfRangeException(nameof(technique)),
    };

    public bool Has(Technique technique) => technique switch
    {
        Technique.Token => Token,
        Technique.Head => Head,
        Technique.Value => Value,
        Technique.Quant => Quant,
        _ => false,
    };

    public bool IsDense => !Token && !Head && !Value && !Quant;

    /// <summary>The CSV technique label: dense, token, head, value, quant, all, or a '+'-joined combination.</summary>
    public string Label
    {
        get
        {
            if (IsDense) return "dense";
            if (this == All) return "all";
            var parts = new List<string>();
            if (Token) parts.Add("token");
            if (Head) parts.Add("head");
            if (Value) parts.Add("value");
            if (Quant) parts.Add("quant");
            return string.Join("+", parts);
        }
    }

    /// <summary>The six ablation points of the SpAtten reproduction, in CSV order.</summary>
    public static IReadOnlyList<TechniqueSet> ReproductionSet { get; } =
    [
        None, Only(Technique.Token), Only(Technique.Head), Only(Technique.Value), Only(Technique.Quant), All,
    ];

    public static TechniqueSet Parse(string label) => label.Trim().ToLowerInvariant() switch
    {
        "dense" or "none" => None,
        "all" => All,
        var s => s.Split('+').Aggregate(None, (acc, part) => part switch
        {
            "token" => acc with { Token = true },
            "head" => acc with { Head = true },
            "value" => acc with { Value = true },
            "quant" => acc with { Quant = true },
            _ => throw new Core.InputException($"unknown technique '{part}' (expected dense, token, head, value, quant, all or a '+' combination)"),
        }),
    };
}
