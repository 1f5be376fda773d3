namespace SharpTune.Text.Tokenization;

/// <summary>Removes leading and/or trailing whitespace.</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public string Describe() => $"Strip(left={left}, right={right})";

    public void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare)
    {
        var s = current.Span;
        int a = 0, b = s.Length;
        if (left) while (a < b && char.IsWhiteSpace(s[a])) a++;
        if (right) while (b > a && char.IsWhiteSpace(s[b - 1])) b--;
        if (a == 0 && b == s.Length) return;
        spare.Clear();
        spare.AppendFrom(current, a, b);
        Normalizers.Swap(ref current, ref spare);
    }
}
