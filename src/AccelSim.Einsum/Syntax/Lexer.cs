using System.Globalization;

namespace AccelSim.Einsum.Syntax;

public enum TokenKind { Number, Ident, Op, End }

public readonly record struct Token(TokenKind Kind, string Text, int Offset, double Number = 0);

/// <summary>Thrown by the lexer/parser; the loader adds file, line and field before the user sees it.</summary>
public sealed class SyntaxException(string message, int offset) : Exception(message)
{
    public int Offset { get; } = offset;
}

public static class Lexer
{
    private static readonly string[] TwoCharOps = ["<=", ">=", "==", "!=", "//", "&&", "||"];

    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#') break; // trailing comment
            var start = i;
            if (char.IsDigit(c) || (c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.' || text[i] == '_')) i++;
                if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
                {
                    var j = i + 1;
                    if (j < text.Length && (text[j] == '+' || text[j] == '-')) j++;
                    if (j < text.Length && char.IsDigit(text[j]))
                    {
                        i = j;
                        while (i < text.Length && char.IsDigit(text[i])) i++;
                    }
                }
                var lexeme = text[start..i].Replace("_", "");
                if (!double.TryParse(lexeme, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                    throw new SyntaxException($"bad number '{text[start..i]}'", start);
                tokens.Add(new Token(TokenKind.Number, text[start..i], start, value));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Ident, text[start..i], start));
                continue;
            }
            if (i + 1 < text.Length && TwoCharOps.Contains(text.Substring(i, 2)))
            {
                tokens.Add(new Token(TokenKind.Op, text.Substring(i, 2), start));
                i += 2;
                continue;
            }
            if ("+-*/%()[],:<>=!^".Contains(c))
            {
                tokens.Add(new Token(TokenKind.Op, c.ToString(), start));
                i++;
                continue;
            }
            throw new SyntaxException($"unexpected character '{c}'", i);
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }
}
