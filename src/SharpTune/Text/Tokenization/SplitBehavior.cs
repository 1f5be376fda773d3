namespace SharpTune.Text.Tokenization;

/// <summary>What a splitting pre-tokenizer does with the pieces its pattern matches (Hugging Face's SplitDelimiterBehavior).</summary>
public enum SplitBehavior
{
    /// <summary>Matches are dropped.</summary>
    Removed,

    /// <summary>Each match becomes its own split.</summary>
    Isolated,

    /// <summary>A match is appended to the split before it.</summary>
    MergedWithPrevious,

    /// <summary>A match is prepended to the split after it.</summary>
    MergedWithNext,

    /// <summary>Consecutive matches (and consecutive non-matches) are merged.</summary>
    Contiguous,
}
