using System.Text;

namespace SharpTune.Data.Csv;

/// <summary>
/// JSON string escaping to UTF-8 bytes in the style of Python's <c>json.dumps(ensure_ascii=False)</c>: only the
/// quote, the backslash and control characters are escaped; everything else (like <c>≈</c> or <c>é</c>) stays as is.
/// </summary>
internal static class JsonText
{
    /// <summary>The escaped UTF-8 bytes of <paramref name="text"/>, without the surrounding quotes.</summary>
    public static byte[] Escape(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return new UTF8Encoding(false).GetBytes(sb.ToString());
    }
}
