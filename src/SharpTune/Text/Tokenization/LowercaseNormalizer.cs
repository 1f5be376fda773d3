namespace SharpTune.Text.Tokenization;

/// <summary>Lowercases each code point (Rust's char::to_lowercase: U+0130 becomes "i\u0307").</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public string Describe() => "Lowercase";

    public void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare)
    {
        spare.Clear();
        spare.EnsureCapacity(current.Length + 4);
        var s = current.Span;
        for (int i = 0; i < s.Length;)
        {
            int cp = NormalizedBuffer.CodePointAt(s, i, out int len);
            int a = current.Start[i], b = current.End[i];
            if (cp == 0x130)
            {
                spare.Append('i', a, b);
                spare.Append('\u0307', a, b);
            }
            else
            {
                int lower = cp < 0x10000 ? char.ToLowerInvariant((char)cp) : LowerSupplementary(cp);
                spare.AppendCodePoint(lower, a, b);
            }
            i += len;
        }
        Normalizers.Swap(ref current, ref spare);
    }

    private static int LowerSupplementary(int cp)
    {
        var s = char.ConvertFromUtf32(cp).ToLowerInvariant();
        return char.ConvertToUtf32(s, 0);
    }
}
