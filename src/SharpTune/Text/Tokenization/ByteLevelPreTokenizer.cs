namespace SharpTune.Text.Tokenization;

/// <summary>
/// HF's ByteLevel pre-tokenizer: optionally prepends a space to each piece, optionally splits with GPT-2's regex.
/// The byte-to-character mapping itself is applied by the BPE model (the tokenizer marks itself byte-level), so
/// text never has to be rewritten here.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, bool trimOffsets) : IPreTokenizer
{
    private static readonly ISplitPattern Gpt2 = PreTokenizerRegexScanner.For(PreTokenizerRegexScanner.Gpt2Pattern)!;

    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public bool UseRegex { get; } = useRegex;

    public bool TrimOffsets { get; } = trimOffsets;

    public string Describe() => $"ByteLevel(add_prefix_space={AddPrefixSpace}, use_regex={UseRegex}, trim_offsets={TrimOffsets})";

    public void PreTokenize(PreTokenizeState state)
    {
        if (AddPrefixSpace) PrependSpaces(state);
        if (!UseRegex) return;
        foreach (var split in state.Splits)
        {
            if (split.IsAdded) { state.NextSplits.Add(split); continue; }
            state.Matches.Clear();
            Gpt2.FindMatches(state.Buffer.Chars.AsSpan(split.Start, split.End - split.Start), state.Matches);
            state.ApplyBehavior(SplitBehavior.Isolated, split.Start);
        }
        state.CommitSplits();
    }

    private static void PrependSpaces(PreTokenizeState state)
    {
        var src = state.Buffer;
        var dst = state.Spare;
        dst.Clear();
        foreach (var split in state.Splits)
        {
            if (split.IsAdded) { state.NextSplits.Add(split); continue; }
            int start = dst.Length;
            if (split.End > split.Start && src.Chars[split.Start] != ' ')
                dst.Append(' ', src.Start[split.Start], src.End[split.Start]);
            dst.AppendFrom(src, split.Start, split.End);
            state.NextSplits.Add(PreTokenSplit.Text(start, dst.Length));
        }
        state.CommitBuffer();
        state.CommitSplits();
    }
}
