namespace SharpTune.Text.Tokenization;

/// <summary>
/// HF's ByteLevel post-processor: with <c>trim_offsets</c>, offsets shrink to exclude the leading/trailing spaces
/// ('Ġ') of each token, keeping one added prefix space on the first token when <c>add_prefix_space</c>.
/// </summary>
internal sealed class ByteLevelPostProcessor(bool trimOffsets, bool addPrefixSpace) : IPostProcessor
{
    public int AddedTokenCount => 0;

    public string Describe() => $"ByteLevel(trim_offsets={trimOffsets}, add_prefix_space={addPrefixSpace})";

    public void Process(TokenSink tokens, bool addSpecialTokens, Tokenizer tokenizer)
    {
        if (!trimOffsets) return;
        for (int i = 0; i < tokens.Count; i++)
        {
            var token = tokenizer.IdToToken(tokens.Ids[i]);
            if (token is null) continue;
            int leading = 0;
            while (leading < token.Length && IsSpace(token[leading])) leading++;
            int trailing = 0;
            while (trailing < token.Length && IsSpace(token[token.Length - 1 - trailing])) trailing++;
            if (leading == 0 && trailing == 0) continue;
            // HF trims after converting offsets to code points, so step over code points of the original text.
            var text = tokens.Text;
            int s = tokens.Starts[i], e = tokens.Ends[i];
            if (leading > 0)
            {
                bool isFirst = i == 0 || s == 0;
                if (isFirst && addPrefixSpace && leading == 1) leading = 0;
                for (int k = 0; k < leading && s < e; k++) s += s + 1 < text.Length && char.IsHighSurrogate(text[s]) && char.IsLowSurrogate(text[s + 1]) ? 2 : 1;
                s = Math.Min(s, e);
            }
            if (trailing > 0)
            {
                int back = e, k = 0;
                for (; k < trailing && back > 0; k++) back -= back >= 2 && char.IsLowSurrogate(text[back - 1]) && char.IsHighSurrogate(text[back - 2]) ? 2 : 1;
                if (k == trailing) e = Math.Max(back, s);
            }
            tokens.Starts[i] = s;
            tokens.Ends[i] = e;
        }
    }

    private static bool IsSpace(char c) => c == '\u0120' || char.IsWhiteSpace(c);
}
