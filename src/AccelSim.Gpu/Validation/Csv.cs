using System.Text;

namespace AccelSim.Gpu.Validation;

/// <summary>Minimal RFC 4180 CSV reading/writing (quoted fields, doubled quotes, commas and newlines in quotes).</summary>
public static class Csv
{
    /// <summary>Rows of fields with the 1-based line each row starts on.</summary>
    public static List<(int Line, string[] Fields)> Parse(string text)
    {
        var rows = new List<(int, string[])>();
        var fields = new List<string>();
        var field = new StringBuilder();
        bool inQuotes = false, any = false;
        int line = 1, rowLine = 1;
        for (int i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else inQuotes = false;
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }
                continue;
            }
            switch (ch)
            {
                case '"': inQuotes = true; any = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    if (any || field.Length > 0) { fields.Add(field.ToString()); rows.Add((rowLine, fields.ToArray())); }
                    fields.Clear(); field.Clear(); any = false; line++; rowLine = line;
                    break;
                default: field.Append(ch); any = true; break;
            }
        }
        if (any || field.Length > 0) { fields.Add(field.ToString()); rows.Add((rowLine, fields.ToArray())); }
        return rows;
    }

    public static string Escape(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;

    public static string Line(IEnumerable<string> fields) => string.Join(",", fields.Select(Escape));
}
