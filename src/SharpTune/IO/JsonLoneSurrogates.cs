using System.Text;

namespace SharpTune.IO;

/// <summary>
/// JSON may spell lone UTF-16 surrogates (<c>"\ud800"</c>), which JavaScript and Python accept but
/// System.Text.Json rejects. Since text cannot carry them into UTF-8 anyway, SharpTune reads each lone
/// surrogate escape as U+FFFD — what Hugging Face's tokenizers sees when given such a string.
/// </summary>
public static class JsonLoneSurrogates
{
    /// <summary>Rewrites lone <c>\uD800</c>-<c>\uDFFF</c> escapes in JSON text to <c>\uFFFD</c>; other text is unchanged.</summary>
    public static string Replace(string json)
    {
        if (json.IndexOf("\\u", StringComparison.OrdinalIgnoreCase) < 0) return json;
        StringBuilder? sb = null;
        int copied = 0;
        for (int i = 0; i < json.Length; i++)
        {
            if (json[i] != '\\') continue;
            if (i + 1 < json.Length && json[i + 1] != 'u') { i++; continue; } // skip the escaped char (handles \\u)
            if (!TryHex(json, i + 2, out int unit)) continue;
            bool high = unit is >= 0xD800 and <= 0xDBFF, low = unit is >= 0xDC00 and <= 0xDFFF;
            if (high && json.Length >= i + 12 && json[i + 6] == '\\' && json[i + 7] == 'u'
                && TryHex(json, i + 8, out int next) && next is >= 0xDC00 and <= 0xDFFF)
            {
                i += 11;
                continue;
            }
            if (high || low)
            {
                sb ??= new StringBuilder(json.Length);
                sb.Append(json, copied, i - copied).Append("\\ufffd");
                copied = i + 6;
            }
            i += 5;
        }
        if (sb is null) return json;
        return sb.Append(json, copied, json.Length - copied).ToString();
    }

    private static bool TryHex(string s, int at, out int value)
    {
        value = 0;
        if (at + 4 > s.Length) return false;
        for (int k = 0; k < 4; k++)
        {
            int d = HexDigit(s[at + k]);
            if (d < 0) return false;
            value = value * 16 + d;
        }
        return true;
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
