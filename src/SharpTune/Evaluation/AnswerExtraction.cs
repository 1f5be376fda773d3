namespace SharpTune.Evaluation;

/// <summary>Why an answer could not be mapped to a label.</summary>
public enum UnparseableReason
{
    /// <summary>The answer was parsed (no reason).</summary>
    None,

    /// <summary>A <c>&lt;think&gt;</c> was never closed: the model never answered.</summary>
    ThinkUnclosed,

    /// <summary>Several different labels occur as whole words and none leads the answer.</summary>
    Ambiguous,

    /// <summary>No label occurs as a whole word.</summary>
    NoLabel,

    /// <summary>The predictions file gave <c>"answer": null</c> (the reason was not recorded there).</summary>
    NullAnswer,
}

/// <summary>The outcome of <see cref="AnswerExtractor.Extract"/>: the label, or null with the reason.</summary>
/// <param name="Answer">The label as spelled in the label set, or null when unparseable.</param>
/// <param name="Reason"><see cref="UnparseableReason.None"/> when <paramref name="Answer"/> is a label.</param>
public readonly record struct AnswerExtraction(string? Answer, UnparseableReason Reason)
{
    /// <summary>The key of a reason in JSON and tables: think_unclosed, ambiguous, no_label, null_answer.</summary>
    public static string Key(UnparseableReason reason) => reason switch
    {
        UnparseableReason.ThinkUnclosed => "think_unclosed",
        UnparseableReason.Ambiguous => "ambiguous",
        UnparseableReason.NoLabel => "no_label",
        UnparseableReason.NullAnswer => "null_answer",
        _ => "none",
    };
}
