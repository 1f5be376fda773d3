using System.Text;

namespace SharpTune.IO;

/// <summary>
/// Python's <c>json.dumps</c> writes non-finite floats as the bare words <c>NaN</c>, <c>Infinity</c> and
/// <c>-Infinity</c> (a diverged run's <c>trainer_state.json</c> holds them), which System.Text.Json rejects. This
/// rewrites each such word outside strings as the quoted string of the same spelling, which
/// <see cref="TryGetDouble"/> reads back as the non-finite number. Line numbers are unchanged.
/// </summary>
public static class PythonJsonNumbers
{
    /// <summary>Quotes the bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> words of <paramref name="json"/>; other text is unchanged.</summary>
    public static string QuoteNonFinite(string json)
    {
        if (json.IndexOf("NaN", StringComparison.Ordinal) < 0 && json.IndexOf("Infinity", StringComparison.Ordinal) < 0) return json;
        var sb = new StringBuilder(json.Length + 16);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < json.Length) sb.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; sb.Append(c); continue; }
            string? word = json.AsSpan(i).StartsWith("NaN") ? "NaN"
                : json.AsSpan(i).StartsWith("Infinity") ? "Infinity"
                : json.AsSpan(i).StartsWith("-Infinity") ? "-Infinity" : null;
            if (word is not null)
            {
                sb.Append('"').Append(word).Append('"');
                i += word.Length - 1;
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Reads a JSON number, or one of the quoted non-finite words <see cref="QuoteNonFinite"/> writes.</summary>
    public static bool TryGetDouble(System.Text.Json.JsonElement e, out double value)
    {
        switch (e.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Number:
                return e.TryGetDouble(out value);
            case System.Text.Json.JsonValueKind.String:
                switch (e.GetString())
                {
                    case "NaN": value = double.NaN; return true;
                    case "Infinity": value = double.PositiveInfinity; return true;
                    case "-Infinity": value = double.NegativeInfinity; return true;
                }
                break;
        }
        value = 0;
        return false;
    }
}
