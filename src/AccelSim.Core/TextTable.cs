using System.Text;

namespace AccelSim.Core;

/// <summary>A plain-text table with right-aligned numeric columns, for terminal reports.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TextTable Add(params string[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}");
        _rows.Add(cells);
        return this;
    }

    public int Count => _rows.Count;

    public override string ToString()
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        var numeric = headers.Select((_, i) => _rows.Any(r => IsNumber(r[i]) && r[i] is not ("" or "-")) && _rows.All(r => IsNumber(r[i]))).ToArray();
        var sb = new StringBuilder();
        void Line(string[] cells)
        {
            var start = sb.Length;
            for (var i = 0; i < cells.Length; i++)
            {
                if (i > 0) sb.Append("  ");
                sb.Append(numeric[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
            }
            var end = sb.Length; // trim this line's trailing spaces (not the whole text again: tables may be long)
            while (end > start && sb[end - 1] == ' ') end--;
            sb.Length = end;
            sb.Append('\n');
        }
        Line(headers);
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var r in _rows) Line(r);
        return sb.ToString();
    }

    private static bool IsNumber(string s) => s.Length == 0 || s == "-" ||
        double.TryParse(s.Replace(",", "").TrimEnd('%', 'x'), System.Globalization.NumberStyles.Float, Invariant.Culture, out _);
}
