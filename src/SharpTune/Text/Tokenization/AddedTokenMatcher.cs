namespace SharpTune.Text.Tokenization;

/// <summary>
/// Finds added tokens in text like Hugging Face's AddedVocabulary: leftmost-longest, non-overlapping matches
/// over a trie (what its Aho-Corasick automaton reports), then <c>single_word</c>, <c>lstrip</c> and
/// <c>rstrip</c> applied as in its find_matches.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly List<Dictionary<char, int>> _children = [new()];
    private readonly List<int> _terminal = [-1];
    private readonly bool[] _firstChar = new bool[0x10000];
    private readonly AddedToken[] _tokens;

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> entries)
    {
        var tokens = new List<AddedToken>();
        foreach (var (pattern, token) in entries)
        {
            if (pattern.Length == 0) continue;
            int node = 0;
            foreach (var c in pattern)
            {
                if (!_children[node].TryGetValue(c, out int child))
                {
                    child = _children.Count;
                    _children.Add(new Dictionary<char, int>());
                    _terminal.Add(-1);
                    _children[node][c] = child;
                }
                node = child;
            }
            if (_terminal[node] < 0) // the first of duplicate patterns wins
            {
                _terminal[node] = tokens.Count;
                tokens.Add(token);
            }
            _firstChar[pattern[0]] = true;
        }
        _tokens = [.. tokens];
    }

    public bool IsEmpty => _tokens.Length == 0;

    /// <summary>Appends the matches in <paramref name="text"/>, in order, with strip/single-word rules applied.</summary>
    public void FindMatches(ReadOnlySpan<char> text, List<AddedTokenMatch> output)
    {
        if (_tokens.Length == 0) return;
        int startOffset = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (!_firstChar[text[i]]) { i++; continue; }
            int node = 0, best = -1, bestEnd = -1;
            for (int j = i; j < text.Length; j++)
            {
                if (!_children[node].TryGetValue(text[j], out node)) break;
                if (_terminal[node] >= 0) { best = _terminal[node]; bestEnd = j + 1; }
            }
            if (best < 0) { i++; continue; }
            int start = i, stop = bestEnd;
            var token = _tokens[best];
            i = bestEnd;
            if (token.SingleWord)
            {
                bool startSpace = start == 0 || !EndsWithWordChar(text[..start]);
                bool stopSpace = stop == text.Length || !StartsWithWordChar(text[stop..]);
                if (!startSpace || !stopSpace) continue;
            }
            if (token.LStrip)
            {
                int s = start;
                while (s > 0 && char.IsWhiteSpace(text[s - 1])) s--;
                start = Math.Max(s, startOffset);
            }
            if (token.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
                i = stop;
            }
            output.Add(new AddedTokenMatch(token.Id, start, stop));
            startOffset = stop;
        }
    }

    // HF tests single_word with the Rust regexes \w$ and ^\w: Unicode \w is Alphabetic, marks, decimal digits,
    // connector punctuation and the joiners (U+200C, U+200D). (Other_Alphabetic symbols outside L/M/Nl, a handful
    // such as circled letters, are not covered.)
    private static bool IsWordChar(int cp)
    {
        if (cp is 0x200C or 0x200D) return true;
        return System.Globalization.CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            System.Globalization.UnicodeCategory.UppercaseLetter or System.Globalization.UnicodeCategory.LowercaseLetter
                or System.Globalization.UnicodeCategory.TitlecaseLetter or System.Globalization.UnicodeCategory.ModifierLetter
                or System.Globalization.UnicodeCategory.OtherLetter or System.Globalization.UnicodeCategory.NonSpacingMark
                or System.Globalization.UnicodeCategory.SpacingCombiningMark or System.Globalization.UnicodeCategory.EnclosingMark
                or System.Globalization.UnicodeCategory.DecimalDigitNumber or System.Globalization.UnicodeCategory.LetterNumber
                or System.Globalization.UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }

    private static bool EndsWithWordChar(ReadOnlySpan<char> s)
    {
        int i = s.Length - 1;
        if (i > 0 && char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1])) i--;
        return IsWordChar(NormalizedBuffer.CodePointAt(s, i, out _));
    }

    private static bool StartsWithWordChar(ReadOnlySpan<char> s) => IsWordChar(NormalizedBuffer.CodePointAt(s, 0, out _));
}
