namespace SharpTune.Text.Tokenization;

/// <summary>When Metaspace prepends its replacement character.</summary>
public enum PrependScheme
{
    /// <summary>Only to the piece that starts the original text.</summary>
    First,

    /// <summary>To every piece.</summary>
    Always,

    /// <summary>Never.</summary>
    Never,
}

/// <summary>HF's Metaspace: spaces become the replacement (▁), which is prepended per the scheme; optionally splits before each ▁.</summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme scheme, bool split) : IPreTokenizer
{
    private readonly ISplitPattern _pattern = new CharPredicatePattern(cp => cp == replacement);

    public char Replacement { get; } = replacement;

    public PrependScheme Scheme { get; } = scheme;

    public string Describe() => $"Metaspace(replacement={Escape.Json(Replacement.ToString())}, prepend_scheme={Scheme.ToString().ToLowerInvariant()}, split={split})";

    public void PreTokenize(PreTokenizeState state)
    {
        var src = state.Buffer;
        var dst = state.Spare;
        dst.Clear();
        foreach (var s in state.Splits)
        {
            if (s.IsAdded) { state.NextSplits.Add(s); continue; }
            int start = dst.Length;
            if (s.End > s.Start)
            {
                bool startsWithReplacement = src.Chars[s.Start] == ' ' || src.Chars[s.Start] == Replacement;
                bool prepend = Scheme switch
                {
                    PrependScheme.Always => !startsWithReplacement,
                    PrependScheme.First => !startsWithReplacement && src.Start[s.Start] == 0,
                    _ => false,
                };
                if (prepend) dst.Append(Replacement, src.Start[s.Start], src.End[s.Start]);
            }
            for (int i = s.Start; i < s.End; i++) dst.Append(src.Chars[i] == ' ' ? Replacement : src.Chars[i], src.Start[i], src.End[i]);
            state.NextSplits.Add(PreTokenSplit.Text(start, dst.Length));
        }
        state.CommitBuffer();
        state.CommitSplits();
        if (!split) return;
        foreach (var s in state.Splits)
        {
            if (s.IsAdded) { state.NextSplits.Add(s); continue; }
            state.Matches.Clear();
            _pattern.FindMatches(state.Buffer.Chars.AsSpan(s.Start, s.End - s.Start), state.Matches);
            state.ApplyBehavior(SplitBehavior.MergedWithNext, s.Start);
        }
        state.CommitSplits();
    }
}
