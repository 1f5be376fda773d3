namespace SharpTune.Evaluation;

/// <summary>One slice of <c>eval --by FIELD</c>.</summary>
/// <param name="Value">The field's value (strings unquoted, other JSON values as written; <c>(missing)</c> when absent).</param>
/// <param name="Result">The metrics of the records with that value.</param>
public sealed record EvaluationSlice(string Value, ClassificationResult Result);

/// <summary>The result of evaluating a predictions file: the overall metrics and, with <c>--by</c>, one result per value.</summary>
public sealed class EvaluationReport
{
    /// <summary>The predictions file.</summary>
    public required string Source { get; init; }

    /// <summary>Metrics over every record.</summary>
    public required ClassificationResult Overall { get; init; }

    /// <summary>The slicing field, or null.</summary>
    public string? By { get; init; }

    /// <summary>Slices in value order (numeric when every value is a number, else ordinal).</summary>
    public IReadOnlyList<EvaluationSlice> Slices { get; init; } = [];

    /// <summary>How many records had a score that was not used because the label set is not binary.</summary>
    public long ScoresIgnored { get; init; }
}
