namespace SharpTune.Text.Tokenization;

/// <summary>Splits each piece on a pattern with a <see cref="SplitBehavior"/> (HF's Split, and the base of Digits, Punctuation, Whitespace...).</summary>
internal sealed class SplitPreTokenizer(ISplitPattern pattern, SplitBehavior behavior, string description) : IPreTokenizer
{
    public ISplitPattern Pattern { get; } = pattern;

    public SplitBehavior Behavior { get; } = behavior;

    public string Describe() => description;

    public void PreTokenize(PreTokenizeState state)
    {
        var buffer = state.Buffer;
        foreach (var split in state.Splits)
        {
            if (split.IsAdded) { state.NextSplits.Add(split); continue; }
            state.Matches.Clear();
            Pattern.FindMatches(buffer.Chars.AsSpan(split.Start, split.End - split.Start), state.Matches);
            state.ApplyBehavior(Behavior, split.Start);
        }
        state.CommitSplits();
    }
}
