namespace SharpTune.Text.Tokenization;

/// <summary>
/// A hand-written matcher for the pre-tokenizer regexes of GPT-2, Qwen2/Qwen3 and Llama 3 (cl100k-style), with
/// the same results as the Oniguruma regex Hugging Face runs, on code points: the alternatives are tried in the
/// regex's order at each position, and lookahead/backtracking cases (<c>\s+(?!\S)</c>, <c>\s*[\r\n]+</c>) are
/// resolved directly. Every position starts a match, so matches tile the input.
/// </summary>
internal sealed class PreTokenizerRegexScanner : ISplitPattern
{
    /// <summary>GPT-2's pattern (ByteLevel's <c>use_regex</c>).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2/Qwen3's pattern (single digits).</summary>
    public const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3's pattern (up to three digits).</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly bool _gpt2;
    private readonly int _maxDigits;

    private PreTokenizerRegexScanner(bool gpt2, int maxDigits)
    {
        _gpt2 = gpt2;
        _maxDigits = maxDigits;
    }

    /// <summary>The scanner for a known pattern, or null.</summary>
    public static PreTokenizerRegexScanner? For(string pattern) => pattern switch
    {
        Gpt2Pattern => new PreTokenizerRegexScanner(true, int.MaxValue),
        QwenPattern => new PreTokenizerRegexScanner(false, 1),
        Llama3Pattern => new PreTokenizerRegexScanner(false, 3),
        _ => null,
    };

    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output)
    {
        if (text.IsEmpty) { output.Add((0, 0, false)); return; }
        int i = 0;
        while (i < text.Length)
        {
            int end = _gpt2 ? MatchGpt2(text, i) : MatchCl100k(text, i);
            output.Add((i, end, true));
            i = end;
        }
    }

    private static int Cp(ReadOnlySpan<char> s, int i, out int len) => NormalizedBuffer.CodePointAt(s, i, out len);

    private static byte Cls(ReadOnlySpan<char> s, int i, out int len)
    {
        if (i >= s.Length) { len = 0; return 0; }
        return CharClass.Of(Cp(s, i, out len));
    }

    private static bool IsOther(byte c) => (c & (CharClass.Letter | CharClass.Number | CharClass.Space)) == 0;

    private int MatchCl100k(ReadOnlySpan<char> s, int i)
    {
        int n = s.Length;
        char c0 = s[i];
        if (c0 == '\'' && i + 1 < n)
        {
            int m = Contraction(s, i + 1, caseInsensitive: true);
            if (m > 0) return i + 1 + m;
        }
        byte k0 = Cls(s, i, out int l0);
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if ((k0 & CharClass.Letter) != 0) return Run(s, i, CharClass.Letter);
        if ((k0 & (CharClass.LineBreak | CharClass.Number)) == 0 && i + l0 < n && (Cls(s, i + l0, out _) & CharClass.Letter) != 0)
            return Run(s, i + l0, CharClass.Letter);
        // \p{N}{1,max}
        if ((k0 & CharClass.Number) != 0)
        {
            int j = i, count = 0;
            while (j < n && count < _maxDigits && (Cls(s, j, out int l) & CharClass.Number) != 0) { j += l; count++; }
            return j;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int p = -1;
        if (c0 == ' ' && i + 1 < n && IsOther(Cls(s, i + 1, out _))) p = i + 1;
        else if (IsOther(k0)) p = i;
        if (p >= 0)
        {
            int j = p;
            while (j < n && IsOther(Cls(s, j, out int l))) j += l;
            while (j < n && (s[j] == '\r' || s[j] == '\n')) j++;
            return j;
        }
        // Whitespace from here on (k0 has Space).
        int runEnd = i, lastBreak = -1;
        while (runEnd < n && (Cls(s, runEnd, out int l) & CharClass.Space) != 0)
        {
            if (s[runEnd] == '\r' || s[runEnd] == '\n') lastBreak = runEnd;
            runEnd += l;
        }
        // \s*[\r\n]+
        if (lastBreak >= 0) return lastBreak + 1;
        return SpaceRun(i, runEnd, n);
    }

    private static int MatchGpt2(ReadOnlySpan<char> s, int i)
    {
        int n = s.Length;
        char c0 = s[i];
        if (c0 == '\'' && i + 1 < n)
        {
            int m = Contraction(s, i + 1, caseInsensitive: false);
            if (m > 0) return i + 1 + m;
        }
        byte k0 = Cls(s, i, out _);
        int start = i;
        byte k = k0;
        if (c0 == ' ' && i + 1 < n)
        {
            byte k1 = Cls(s, i + 1, out _);
            if ((k1 & CharClass.Space) == 0) { start = i + 1; k = k1; }
        }
        if ((k & CharClass.Letter) != 0) return Run(s, start, CharClass.Letter);
        if ((k & CharClass.Number) != 0) return Run(s, start, CharClass.Number);
        if (IsOther(k))
        {
            int j = start;
            while (j < n && IsOther(Cls(s, j, out int l))) j += l;
            return j;
        }
        int runEnd = i;
        while (runEnd < n && (Cls(s, runEnd, out int l) & CharClass.Space) != 0) runEnd += l;
        return SpaceRun(i, runEnd, n);
    }

    // \s+(?!\S) then \s+ : the run, less its last char when a non-space follows and the run has two or more.
    private static int SpaceRun(int i, int runEnd, int n)
    {
        if (runEnd == n) return runEnd;
        if (runEnd - i >= 2) return runEnd - 1; // every whitespace character is a single UTF-16 unit
        return runEnd;
    }

    private static int Run(ReadOnlySpan<char> s, int j, byte cls)
    {
        while (j < s.Length && (Cls(s, j, out int l) & cls) != 0) j += l;
        return j;
    }

    // Length of the contraction suffix after the apostrophe at j, or 0: s t re ve m ll d.
    private static int Contraction(ReadOnlySpan<char> s, int j, bool caseInsensitive)
    {
        char a = Fold(s[j], caseInsensitive);
        char b = j + 1 < s.Length ? Fold(s[j + 1], caseInsensitive) : '\0';
        switch (a)
        {
            case 's': case 't': case 'm': case 'd': return 1;
            case 'r': return b == 'e' ? 2 : 0;
            case 'v': return b == 'e' ? 2 : 0;
            case 'l': return b == 'l' ? 2 : 0;
            default: return 0;
        }
    }

    // Oniguruma's case folding for the letters the contractions use; U+017F (long s) folds to 's'.
    private static char Fold(char c, bool caseInsensitive)
    {
        if (!caseInsensitive) return c;
        if (c is >= 'A' and <= 'Z') return (char)(c + 32);
        if (c == '\u017F') return 's';
        return c;
    }
}
