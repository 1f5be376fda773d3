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

/// <summary>Where Qwen3's empty <c>&lt;think&gt;\n\n&lt;/think&gt;\n\n</c> block before the final answer belongs.</summary>
public enum ThinkBlockPlacement
{
    /// <summary>Part of the prompt: the inference prompt is rendered with <c>enable_thinking=false</c>, which ends with the block.</summary>
    Prompt,

    /// <summary>Part of the supervised answer: the model learns to emit the empty block itself.</summary>
    Answer,
}

/// <summary>Every option that changes how records become tokens; all of them are part of the cache key.</summary>
public sealed record PreprocessOptions
{
    /// <summary>Maximum tokens per sample (<c>cutoff_len</c>).</summary>
    public int CutoffLen { get; init; } = 1024;

    /// <summary>Over-length policy (<c>truncation</c>).</summary>
    public TruncationMode Truncation { get; init; } = TruncationMode.Left;

    /// <summary>Supervise every token, prompt included (<c>train_on_prompt</c>).</summary>
    public bool TrainOnPrompt { get; init; }

    /// <summary>Supervise only the last assistant turn (<c>mask_history</c>).</summary>
    public bool MaskHistory { get; init; }

    /// <summary>Supervise the end-of-turn token after each answer (<c>train_on_eot</c>).</summary>
    public bool TrainOnEot { get; init; } = true;

    /// <summary>Where the Qwen3 empty think block belongs (<c>think_block</c>).</summary>
    public ThinkBlockPlacement ThinkBlock { get; init; } = ThinkBlockPlacement.Prompt;

    /// <summary>Count and report render mismatches instead of failing (<c>allow_render_mismatch</c>).</summary>
    public bool AllowRenderMismatch { get; init; }

    /// <summary>System prompt for records that carry none (<c>default_system</c>); null leaves the template's own default.</summary>
    public string? DefaultSystem { get; init; }

    /// <summary>Append EOS after completion-format answers (<c>completion_eos</c>).</summary>
    public bool CompletionEos { get; init; } = true;

    /// <summary>Extra template variables (<c>template_kwargs</c>, e.g. <c>enable_thinking</c>).</summary>
    public IReadOnlyDictionary<string, object?> TemplateKwargs { get; init; } = new Dictionary<string, object?>();
}
