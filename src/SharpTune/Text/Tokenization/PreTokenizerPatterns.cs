namespace SharpTune.Text.Tokenization;

/// <summary>The fixed patterns behind HF's Digits, Punctuation, Whitespace and WhitespaceSplit pre-tokenizers.</summary>
internal static class PreTokenizerPatterns
{
    /// <summary>Rust's char::is_numeric (Nd, Nl, No).</summary>
    public static readonly ISplitPattern Numeric = new CharPredicatePattern(CharClass.IsNumber);

    /// <summary>ASCII punctuation (Rust's is_ascii_punctuation, which includes symbols) or a Unicode P* character.</summary>
    public static readonly ISplitPattern Punctuation = new CharPredicatePattern(cp =>
        (cp < 128 && char.IsAsciiLetterOrDigit((char)cp) == false && cp > 32 && cp < 127) || (CharClass.Of(cp) & CharClass.Punctuation) != 0);

    /// <summary>Rust's char::is_whitespace.</summary>
    public static readonly ISplitPattern WhitespaceChar = new CharPredicatePattern(CharClass.IsSpace);

    /// <summary><c>\w+|[^\w\s]+</c>, inverted: the runs are kept, whitespace between them is the "match" to remove.</summary>
    public static readonly ISplitPattern WordsOrSymbols = new WordRunPattern();

    private sealed class WordRunPattern : ISplitPattern
    {
        private static bool IsWord(int cp) => (CharClass.Of(cp) & (CharClass.Letter | CharClass.Number | CharClass.Mark | CharClass.Connector)) != 0;

        public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output)
        {
            if (text.IsEmpty) { output.Add((0, 0, true)); return; }
            int i = 0;
            while (i < text.Length)
            {
                int cp = NormalizedBuffer.CodePointAt(text, i, out int len);
                int kind = CharClass.IsSpace(cp) ? 0 : IsWord(cp) ? 1 : 2;
                int j = i + len;
                while (j < text.Length)
                {
                    int c2 = NormalizedBuffer.CodePointAt(text, j, out int l2);
                    int k2 = CharClass.IsSpace(c2) ? 0 : IsWord(c2) ? 1 : 2;
                    if (k2 != kind) break;
                    j += l2;
                }
                // Whitespace runs are reported as matches (to be removed); word/symbol runs as kept pieces.
                output.Add((i, j, kind == 0));
                i = j;
            }
        }
    }
}
