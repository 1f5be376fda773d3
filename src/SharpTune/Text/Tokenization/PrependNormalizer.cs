namespace SharpTune.Text.Tokenization;

/// <summary>Prepends a string to non-empty text; the added characters take the first character's alignment (as in HF).</summary>
internal sealed class PrependNormalizer(string prepend) : INormalizer
{
    public string Prepend { get; } = prepend;

    public string Describe() => $"Prepend({Escape.Json(Prepend)})";

    public void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare)
    {
        if (current.Length == 0 || Prepend.Length == 0) return;
        spare.Clear();
        int s = current.Start[0], e = current.End[0];
        foreach (var c in Prepend) spare.Append(c, s, e);
        spare.AppendFrom(current, 0, current.Length);
        Normalizers.Swap(ref current, ref spare);
    }
}
