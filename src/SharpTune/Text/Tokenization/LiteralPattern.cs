namespace SharpTune.Text.Tokenization;

/// <summary>A literal string pattern (Split's and Replace's <c>{"String": ...}</c>): non-overlapping occurrences, left to right.</summary>
internal sealed class LiteralPattern(string literal) : ISplitPattern
{
    public string Literal { get; } = literal;

    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output)
    {
        if (text.IsEmpty) { output.Add((0, 0, false)); return; }
        if (Literal.Length == 0) { output.Add((0, text.Length, false)); return; }
        int prev = 0, from = 0;
        while (from <= text.Length - Literal.Length)
        {
            int k = text[from..].IndexOf(Literal.AsSpan(), StringComparison.Ordinal);
            if (k < 0) break;
            int s = from + k, e = s + Literal.Length;
            if (prev != s) output.Add((prev, s, false));
            output.Add((s, e, true));
            prev = from = e;
        }
        if (prev != text.Length) output.Add((prev, text.Length, false));
    }
}
