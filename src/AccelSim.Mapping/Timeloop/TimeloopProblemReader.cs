using System.Collections.Immutable;
using AccelSim.Core;

namespace AccelSim.Mapping.Timeloop;

/// <summary>Reads a Timeloop problem (legacy `data-spaces`/`read-write` or v0.4 `data_spaces`/`read_write`).</summary>
public static class TimeloopProblemReader
{
    public static bool IsTimeloop(YNode root) =>
        root.IsMapping && root.Opt("problem") is { IsMapping: true } p && p.Has("shape") && p.Has("instance");

    public static ProblemShape Read(YNode root)
    {
        var p = root.Req("problem");
        var shape = p.Req("shape");
        var instance = p.Req("instance");
        var dimNames = shape.Req("dimensions").Items.Select(i => i.Text).ToList();
        var dims = ImmutableArray.CreateBuilder<ProblemDim>();
        foreach (var d in dimNames)
        {
            var n = instance.Opt(d) ?? throw instance.Error($"no size for dimension '{d}'");
            var size = n.AsLong();
            if (size <= 0) throw n.Error($"size must be > 0, found {size}");
            dims.Add(new ProblemDim(d, size));
        }
        var dimArr = dims.ToImmutable();
        var coeffs = new Dictionary<string, long>();
        if (shape.Opt("coefficients") is { IsSequence: true } cl)
            foreach (var c in cl.Items) coeffs[c.Req("name").Text] = c.OptLong("default") ?? 1;
        foreach (var (k, v) in instance.Entries)
            if (!dimNames.Contains(k) && v.IsScalar && Invariant.TryParseLong(v.Text, out var cv)) coeffs[k] = cv;
        var spaces = shape.Opt("data-spaces") ?? shape.Opt("data_spaces") ?? throw shape.Error("missing data-spaces");
        var tensors = ImmutableArray.CreateBuilder<DataSpace>();
        foreach (var ds in spaces.Items)
        {
            var ranks = ImmutableArray.CreateBuilder<TensorRank>();
            foreach (var rank in ds.Req("projection").Items)
            {
                var terms = new Dictionary<int, long>();
                foreach (var term in rank.ItemsOrSingle)
                {
                    var parts = term.ItemsOrSingle.Select(x => x.Text).ToList();
                    int dim = -1;
                    long coeff = 1;
                    foreach (var part in parts)
                    {
                        var di = dimNames.IndexOf(part);
                        if (di >= 0) dim = di;
                        else if (coeffs.TryGetValue(part, out var c)) coeff *= c;
                        else if (Invariant.TryParseLong(part, out var lit)) coeff *= lit;
                        else throw term.Error($"unknown dimension or coefficient '{part}'");
                    }
                    if (dim < 0) throw term.Error("a projection term needs a dimension");
                    terms[dim] = terms.GetValueOrDefault(dim) + coeff;
                }
                ranks.Add(new TensorRank(terms.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key)
                    .Select(kv => new ProjectionTerm(kv.Key, kv.Value)).ToImmutableArray()));
            }
            var rw = (ds.Opt("read-write") ?? ds.Opt("read_write")) is { IsNull: false } rwn && rwn.AsBool();
            tensors.Add(new DataSpace(ds.Req("name").Text, ranks.ToImmutable(), rw));
        }
        try
        {
            return ProblemShape.Create(shape.OptString("name") ?? Path.GetFileNameWithoutExtension(root.File), dimArr, tensors.ToImmutable());
        }
        catch (InputException e) when (e.Location is null)
        {
            throw new InputException(shape.Location, e.Field, e.Problem);
        }
    }
}
