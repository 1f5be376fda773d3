namespace SharpTune.Text.Tokenization;

/// <summary>
/// A normalizer step. It reads the current buffer; when it changes the text it writes the result, with
/// alignment, into the spare buffer and swaps the two.
/// </summary>
internal interface INormalizer
{
    void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare);

    /// <summary>A one-line description for <c>tokenizer info</c>.</summary>
    string Describe();
}

/// <summary>Helpers shared by normalizers.</summary>
internal static class Normalizers
{
    /// <summary>Normalizes a whole string (used for the patterns of normalized added tokens).</summary>
    public static string Apply(INormalizer? normalizer, string text)
    {
        if (normalizer is null) return text;
        var cur = new NormalizedBuffer();
        var spare = new NormalizedBuffer();
        cur.AppendOriginal(text, 0);
        normalizer.Normalize(ref cur, ref spare);
        return cur.Span.ToString();
    }

    public static void Swap(ref NormalizedBuffer a, ref NormalizedBuffer b)
    {
        (a, b) = (b, a);
        b.Clear();
    }
}
