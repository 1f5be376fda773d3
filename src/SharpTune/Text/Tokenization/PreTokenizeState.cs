namespace SharpTune.Text.Tokenization;

/// <summary>
/// The normalized text and its current splits, passed through the pre-tokenizers. Splitting pre-tokenizers only
/// refine <see cref="Splits"/>; transforming ones (Metaspace, ByteLevel's prefix space) rebuild the buffer.
/// </summary>
internal sealed class PreTokenizeState
{
    public NormalizedBuffer Buffer = new();
    public NormalizedBuffer Spare = new();
    public List<PreTokenSplit> Splits = new(64);
    public List<PreTokenSplit> NextSplits = new(64);
    public readonly List<(int Start, int End, bool IsMatch)> Matches = new(64);

    public void Reset()
    {
        Buffer.Clear();
        Splits.Clear();
        NextSplits.Clear();
    }

    /// <summary>Makes <see cref="NextSplits"/> the current list.</summary>
    public void CommitSplits()
    {
        (Splits, NextSplits) = (NextSplits, Splits);
        NextSplits.Clear();
    }

    /// <summary>Makes <see cref="Spare"/> the current buffer.</summary>
    public void CommitBuffer()
    {
        (Buffer, Spare) = (Spare, Buffer);
        Spare.Clear();
    }

    /// <summary>
    /// Applies Hugging Face's split behaviour to <see cref="Matches"/> (which cover [offset, offset + length)
    /// in order) and appends the resulting non-empty splits to <see cref="NextSplits"/>.
    /// </summary>
    public void ApplyBehavior(SplitBehavior behavior, int offset)
    {
        var m = Matches;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var (s, e, _) in m) Add(offset + s, offset + e);
                break;
            case SplitBehavior.Removed:
                foreach (var (s, e, isMatch) in m) if (!isMatch) Add(offset + s, offset + e);
                break;
            case SplitBehavior.Contiguous:
            case SplitBehavior.MergedWithPrevious:
            {
                // Merging extends the current range; it is added when the next one starts.
                bool previousMatch = false;
                bool any = false;
                int curS = 0, curE = 0;
                foreach (var (s, e, isMatch) in m)
                {
                    bool merge = behavior == SplitBehavior.Contiguous ? isMatch == previousMatch : isMatch && !previousMatch;
                    if (merge && any) curE = e;
                    else
                    {
                        if (any) Add(offset + curS, offset + curE);
                        curS = s; curE = e; any = true;
                    }
                    previousMatch = isMatch;
                }
                if (any) Add(offset + curS, offset + curE);
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                // Walk backwards: a match joins the split that follows it. Collected in reverse, then flipped.
                int first = NextSplits.Count;
                bool previousMatch = false;
                bool any = false;
                int curS = 0, curE = 0;
                for (int i = m.Count - 1; i >= 0; i--)
                {
                    var (s, e, isMatch) = m[i];
                    if (isMatch && !previousMatch && any) curS = s;
                    else
                    {
                        if (any) Add(offset + curS, offset + curE);
                        curS = s; curE = e; any = true;
                    }
                    previousMatch = isMatch;
                }
                if (any) Add(offset + curS, offset + curE);
                NextSplits.Reverse(first, NextSplits.Count - first);
                break;
            }
        }
    }

    private void Add(int start, int end)
    {
        if (end > start) NextSplits.Add(PreTokenSplit.Text(start, end));
    }
}
