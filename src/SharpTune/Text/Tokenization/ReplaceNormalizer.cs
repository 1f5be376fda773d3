namespace SharpTune.Text.Tokenization;

/// <summary>
/// Replaces every match of a pattern with a string. The new characters take the alignment of the last unit of
/// the text they replace (HF's transform_range with insertions); an empty match inserts nothing.
/// </summary>
internal sealed class ReplaceNormalizer(ISplitPattern pattern, string content, string description) : INormalizer
{
    [ThreadStatic] private static List<(int, int, bool)>? _matches;

    public string Describe() => description;

    public void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare)
    {
        var matches = _matches ??= new List<(int, int, bool)>(16);
        matches.Clear();
        pattern.FindMatches(current.Span, matches);
        bool any = false;
        foreach (var m in matches) if (m.Item3 && m.Item2 > m.Item1) { any = true; break; }
        if (!any) return;
        spare.Clear();
        spare.EnsureCapacity(current.Length + 16);
        foreach (var (s, e, isMatch) in matches)
        {
            if (!isMatch || e == s) { spare.AppendFrom(current, s, e); continue; }
            int a = current.Start[e - 1], b = current.End[e - 1];
            foreach (var c in content) spare.Append(c, a, b);
        }
        Normalizers.Swap(ref current, ref spare);
    }

    /// <summary>Replaces in a plain string (used by the Replace decoder).</summary>
    public string ReplaceIn(string text)
    {
        var matches = new List<(int, int, bool)>();
        pattern.FindMatches(text, matches);
        var sb = new System.Text.StringBuilder(text.Length);
        foreach (var (s, e, isMatch) in matches) sb.Append(isMatch ? content : text.AsSpan(s, e - s));
        return sb.ToString();
    }
}
