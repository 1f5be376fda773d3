namespace SharpTune.Text.Tokenization;

/// <summary>
/// NFC, NFD, NFKC or NFKD. Alignment follows Hugging Face: outputs are matched to inputs in sequence by how
/// many inputs each consumes (see <see cref="UnicodeNormalization.NormalizeSegment"/>).
/// </summary>
internal sealed class UnicodeNormalizer(UnicodeNormalizationForm form) : INormalizer
{
    [ThreadStatic] private static List<int>? _input;
    [ThreadStatic] private static List<int>? _inputAt;
    [ThreadStatic] private static List<int>? _output;
    [ThreadStatic] private static List<int>? _weights;

    public UnicodeNormalizationForm Form { get; } = form;

    public string Describe() => Form.ToString();

    public void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare)
    {
        var s = current.Span;
        bool stable = true;
        for (int i = 0; i < s.Length;)
        {
            int cp = NormalizedBuffer.CodePointAt(s, i, out int len);
            if (!UnicodeNormalization.IsStable(cp, Form)) { stable = false; break; }
            i += len;
        }
        if (stable) return;

        var input = _input ??= new List<int>(16);
        var inputAt = _inputAt ??= new List<int>(16);
        var output = _output ??= new List<int>(16);
        var weights = _weights ??= new List<int>(16);
        spare.Clear();
        spare.EnsureCapacity(s.Length + 16);
        int pos = 0;
        while (pos < s.Length)
        {
            // One segment: a code point and the following ones that may combine with it.
            input.Clear();
            inputAt.Clear();
            int segEnd = pos;
            while (segEnd < s.Length)
            {
                int cp = NormalizedBuffer.CodePointAt(s, segEnd, out int len);
                if (input.Count > 0 && UnicodeNormalization.StartsSegment(cp)) break;
                input.Add(cp);
                inputAt.Add(segEnd);
                segEnd += len;
            }
            if (input.Count == 1 && UnicodeNormalization.IsStable(input[0], Form))
            {
                spare.AppendFrom(current, pos, segEnd);
            }
            else
            {
                UnicodeNormalization.NormalizeSegment(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(input), Form, output, weights);
                int consumed = 0;
                for (int j = 0; j < output.Count; j++)
                {
                    // Consuming outputs take the next input's range; insertions the previous one's.
                    int at = inputAt[Math.Clamp(weights[j] > 0 ? consumed : consumed - 1, 0, input.Count - 1)];
                    consumed += weights[j];
                    spare.AppendCodePoint(output[j], current.Start[at], current.End[at]);
                }
            }
            pos = segEnd;
        }
        Normalizers.Swap(ref current, ref spare);
    }
}
