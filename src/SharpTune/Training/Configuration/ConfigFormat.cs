using System.Globalization;

namespace SharpTune.Training.Configuration;

/// <summary>Formats configuration values as YAML-like text (for <c>--print-config</c> and messages).</summary>
public static class ConfigFormat
{
    /// <summary>A value as one line: <c>null</c>, <c>true</c>, <c>8</c>, <c>0.0001</c>, <c>text</c>, <c>[a, b]</c>.</summary>
    public static string Value(object? v) => v switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        // As Python prints floats: 3.0, 0.0001, 1e-08.
        double d => d == Math.Floor(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e"),
        string s => s,
        IEnumerable<string> list => "[" + string.Join(", ", list) + "]",
        _ => v.ToString() ?? "",
    };
}

/// <summary>Finds the closest valid name to a misspelt key (Levenshtein distance).</summary>
public static class KeySuggester
{
    /// <summary>The candidate nearest to <paramref name="name"/> (ties: the first in order).</summary>
    public static string Closest(string name, IEnumerable<string> candidates)
    {
        string best = "";
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(name, c);
            if (d < bestDistance) { best = c; bestDistance = d; }
        }
        return best;
    }

    /// <summary>Levenshtein edit distance (insert, delete, substitute).</summary>
    public static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}

/// <summary>Parses SharpTune's duration syntax for <c>max_time</c>.</summary>
public static class DurationParser
{
    /// <summary>
    /// Seconds of <c>90m</c>, <c>1.5h</c>, <c>45s</c>, <c>2d</c> or a plain number of seconds; null when the text is
    /// not a duration.
    /// </summary>
    public static double? TryParseSeconds(string text)
    {
        var t = text.Trim();
        if (t.Length == 0) return null;
        double unit = 1;
        switch (char.ToLowerInvariant(t[^1]))
        {
            case 's': unit = 1; t = t[..^1]; break;
            case 'm': unit = 60; t = t[..^1]; break;
            case 'h': unit = 3600; t = t[..^1]; break;
            case 'd': unit = 86400; t = t[..^1]; break;
        }
        return double.TryParse(t.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v * unit : null;
    }
}
