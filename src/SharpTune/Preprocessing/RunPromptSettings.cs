namespace SharpTune.Preprocessing;

/// <summary>
/// Everything <c>prompt_settings.json</c> records about how a run asked its model: the <see cref="PromptSettings"/>
/// (what a prompt looks like) and what a training run adds so that inference treats prompts and answers as training
/// did — the <c>cutoff_len</c> and <c>truncation</c> its samples were cut with and the label names of its generative
/// evaluation. Each addition is null when the file does not record it (a preprocessing cache entry has no labels;
/// files written before these fields existed have none of them).
/// </summary>
public sealed record RunPromptSettings
{
    /// <summary>The prompt settings.</summary>
    public required PromptSettings Prompt { get; init; }

    /// <summary>The run's <c>cutoff_len</c>: the most tokens a training sample (prompt and answer) held; null when not recorded.</summary>
    public int? CutoffLen { get; init; }

    /// <summary>The run's <c>truncation</c> policy for samples over <see cref="CutoffLen"/>; null when not recorded.</summary>
    public TruncationMode? Truncation { get; init; }

    /// <summary>The label names of the run's generative evaluation (<c>generative_eval.labels</c>, e.g. Yes, No); null when the run had none.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>The run's settings from its preprocessing options and label names.</summary>
    public static RunPromptSettings From(PreprocessOptions options, IReadOnlyList<string>? labels = null) =>
        new() { Prompt = options.Prompt, CutoffLen = options.CutoffLen, Truncation = options.Truncation, Labels = labels };

    /// <summary>Value equality including the labels' contents.</summary>
    public bool Equals(RunPromptSettings? other) =>
        other is not null && Prompt.Equals(other.Prompt) && CutoffLen == other.CutoffLen && Truncation == other.Truncation
        && (Labels is null ? other.Labels is null : other.Labels is not null && Labels.SequenceEqual(other.Labels, StringComparer.Ordinal));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Prompt, CutoffLen, Truncation, Labels?.Count);
}
