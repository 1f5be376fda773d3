using System.Globalization;
using System.Text;

namespace SharpTune.Text;

/// <summary>
/// Text for error messages with its invisible characters made visible, so that two values that print alike but differ
/// (a header ending in a stray carriage return, a no-break space, a byte-order mark) look different.
/// </summary>
public static class VisibleText
{
    /// <summary>
    /// <paramref name="s"/> with control characters, non-ASCII spaces, format characters (BOM, zero-width) and line
    /// separators escaped: <c>\r</c>, <c>\n</c>, <c>\t</c>, <c>\\</c>, else <c>\uXXXX</c>. Printable text is unchanged.
    /// </summary>
    public static string Escape(string s)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            string? esc = c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '\t' => "\\t",
                '\\' => "\\\\",
                _ => IsInvisible(c) ? $"\\u{(int)c:X4}" : null,
            };
            if (esc is null) { sb?.Append(c); continue; }
            sb ??= new StringBuilder(s, 0, i, s.Length + 8);
            sb.Append(esc);
        }
        return sb?.ToString() ?? s;
    }

    private static bool IsInvisible(char c) => char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => true,
        UnicodeCategory.SpaceSeparator => c != ' ',
        UnicodeCategory.Surrogate => true,
        _ => false,
    };
}
