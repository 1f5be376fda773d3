namespace SharpTune.Text.Tokenization;

/// <summary>A pattern matching every single code point that satisfies a predicate (Rust's <c>Fn(char) -&gt; bool</c> patterns).</summary>
internal sealed class CharPredicatePattern(Func<int, bool> predicate) : ISplitPattern
{
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output)
    {
        if (text.IsEmpty) { output.Add((0, 0, false)); return; }
        int prev = 0, i = 0;
        while (i < text.Length)
        {
            int cp = NormalizedBuffer.CodePointAt(text, i, out int len);
            if (predicate(cp))
            {
                if (prev != i) output.Add((prev, i, false));
                output.Add((i, i + len, true));
                prev = i + len;
            }
            i += len;
        }
        if (prev != text.Length) output.Add((prev, text.Length, false));
    }
}
