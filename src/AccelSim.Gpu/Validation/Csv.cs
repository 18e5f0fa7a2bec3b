using System.Text;
using AccelSim.Core;

namespace AccelSim.Gpu.Validation;

/// <summary>Strict RFC 4180 CSV reading/writing (quoted fields, doubled quotes, commas and newlines in quotes).</summary>
public static class Csv
{
    /// <summary>
    /// Rows of fields with the 1-based line each row starts on. Malformed quoting is a one-line input error at
    /// <paramref name="file"/>:LINE:COL: a quote that is never closed, a quote inside an unquoted field, or text
    /// between a closing quote and the next comma.
    /// </summary>
    public static List<(int Line, string[] Fields)> Parse(string text, string file = "<csv>")
    {
        var rows = new List<(int, string[])>();
        var fields = new List<string>();
        var field = new StringBuilder();
        bool inQuotes = false, closedQuote = false, any = false;
        int line = 1, rowLine = 1, column = 0;
        int quoteLine = 0, quoteColumn = 0;
        InputException Error(int atLine, int atColumn, string problem) => new(new SourceLocation(file, atLine, atColumn), null, problem);
        for (int i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            column++;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; column++; }
                    else { inQuotes = false; closedQuote = true; }
                }
                else
                {
                    if (ch == '\n') { line++; column = 0; }
                    field.Append(ch);
                }
                continue;
            }
            if (closedQuote && ch is not (',' or '\n' or '\r'))
                throw Error(line, column, $"text after the closing quote of a field ('{ch}'); quote the whole field");
            switch (ch)
            {
                case '"':
                    if (field.Length > 0) throw Error(line, column, "quote inside an unquoted field; quote the whole field and double the quote");
                    inQuotes = true; any = true; quoteLine = line; quoteColumn = column;
                    break;
                case ',': fields.Add(field.ToString()); field.Clear(); any = true; closedQuote = false; break;
                case '\r': break;
                case '\n':
                    if (any || field.Length > 0) { fields.Add(field.ToString()); rows.Add((rowLine, fields.ToArray())); }
                    fields.Clear(); field.Clear(); any = false; closedQuote = false; line++; rowLine = line; column = 0;
                    break;
                default: field.Append(ch); any = true; break;
            }
        }
        if (inQuotes) throw Error(quoteLine, quoteColumn, "unclosed quote: the quoted field never ends");
        if (any || field.Length > 0) { fields.Add(field.ToString()); rows.Add((rowLine, fields.ToArray())); }
        return rows;
    }

    public static string Escape(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;

    public static string Line(IEnumerable<string> fields) => string.Join(",", fields.Select(Escape));
}
