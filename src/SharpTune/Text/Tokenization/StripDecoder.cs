namespace SharpTune.Text.Tokenization;

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a character from each token.</summary>
internal sealed class StripDecoder(string content, int start, int stop) : IDecoder
{
    public string Describe() => $"Strip(content={Escape.Json(content)}, start={start}, stop={stop})";

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (var t in tokens)
        {
            // HF works on chars (code points); content is a single char.
            var cps = new List<string>();
            for (int i = 0; i < t.Length;)
            {
                NormalizedBuffer.CodePointAt(t, i, out int len);
                cps.Add(t.Substring(i, len));
                i += len;
            }
            int a = 0;
            for (int i = 0; i < start && i < cps.Count; i++)
            {
                if (cps[i] == content) a = i + 1;
                else break;
            }
            int b = cps.Count;
            for (int i = 0; i < stop; i++)
            {
                int index = cps.Count - i - 1;
                if (index < 0) break;
                if (cps[index] == content) b = index;
                else break;
            }
            result.Add(a >= b ? "" : string.Concat(cps.GetRange(a, b - a)));
        }
        return result;
    }
}
