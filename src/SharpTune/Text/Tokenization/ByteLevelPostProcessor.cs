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
            int s = tokens.Starts[i], e = tokens.Ends[i];
            if (leading > 0)
            {
                bool isFirst = i == 0 || s == 0;
                if (isFirst && addPrefixSpace && leading == 1) leading = 0;
                s = Math.Min(s + leading, e);
            }
            if (trailing > 0 && e >= trailing) e = Math.Max(e - trailing, s);
            tokens.Starts[i] = s;
            tokens.Ends[i] = e;
        }
    }

    private static bool IsSpace(char c) => c == '\u0120' || char.IsWhiteSpace(c);
}
