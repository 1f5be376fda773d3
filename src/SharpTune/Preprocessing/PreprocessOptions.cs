using SharpTune.IO;

namespace SharpTune.Preprocessing;

/// <summary>What to do with a sample longer than <see cref="PreprocessOptions.CutoffLen"/>.</summary>
public enum TruncationMode
{
    /// <summary>Drop tokens from the start (keeping a leading BOS) so the answer and the end of the prompt survive.</summary>
    Left,

    /// <summary>Drop the oldest history items / turns and re-render until it fits; then fall back to <see cref="Left"/>.</summary>
    History,

    /// <summary>Leave the sample out.</summary>
    Drop,

    /// <summary>Stop at the first over-long sample.</summary>
    Error,
}

/// <summary>
/// Every option that changes how records become tokens: the <see cref="Prompt"/> settings (what a prompt looks like)
/// and the masking and truncation options. The cache key is the canonical JSON of the whole record
/// (<see cref="CanonicalJson"/>), so every property, including one added later, is part of it. Not sealed only so
/// that a test can add a property and see the key change.
/// </summary>
public record PreprocessOptions
{
    /// <summary>What prompts look like: template, system prompt, template kwargs, think block, end of turn.</summary>
    public PromptSettings Prompt { get; init; } = new();

    /// <summary>Maximum tokens per sample (<c>cutoff_len</c>).</summary>
    public int CutoffLen { get; init; } = 1024;

    /// <summary>Over-length policy (<c>truncation</c>).</summary>
    public TruncationMode Truncation { get; init; } = TruncationMode.Left;

    /// <summary>Supervise every token, prompt included (<c>train_on_prompt</c>).</summary>
    public bool TrainOnPrompt { get; init; }

    /// <summary>Supervise only the last assistant turn (<c>mask_history</c>).</summary>
    public bool MaskHistory { get; init; }

    /// <summary>Count and report render mismatches instead of failing (<c>allow_render_mismatch</c>).</summary>
    public bool AllowRenderMismatch { get; init; }

    /// <summary>
    /// How the render-mismatch error tells the user to allow mismatches, in the words of where the options came
    /// from: the CLI's <c>add --allow-render-mismatch</c>, a training config's <c>set allow_render_mismatch: true</c>.
    /// Wording only, so not part of the cache key.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string AllowRenderMismatchHint { get; init; } = "set allow_render_mismatch: true";
}
