namespace SharpTune.Text.Tokenization;

/// <summary>Flips match and non-match of another pattern (Split's <c>invert</c>).</summary>
internal sealed class InvertedPattern(ISplitPattern inner) : ISplitPattern
{
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output)
    {
        int first = output.Count;
        inner.FindMatches(text, output);
        for (int i = first; i < output.Count; i++) output[i] = (output[i].Start, output[i].End, !output[i].IsMatch);
    }
}
