using SharpTune.IO;

namespace SharpTune.Preprocessing;

/// <summary>Where Qwen3's empty <c>&lt;think&gt;\n\n&lt;/think&gt;\n\n</c> block before the final answer belongs.</summary>
public enum ThinkBlockPlacement
{
    /// <summary>Part of the prompt: the inference prompt is rendered with <c>enable_thinking=false</c>, which ends with the block.</summary>
    Prompt,

    /// <summary>Part of the supervised answer: the model learns to emit the empty block itself.</summary>
    Answer,
}

/// <summary>
/// Everything that decides what a prompt and a turn look like: the chat template, the system prompt, the template's
/// keyword arguments, the think-block placement and how an answer ends. Training renders with it and inference must
/// render with the same record, so it travels as data: <see cref="PromptSettingsFile"/> (<c>prompt_settings.json</c>)
/// is saved in every preprocessing cache entry and every training checkpoint, and <c>generate --run</c> reads it back.
/// </summary>
public sealed record PromptSettings
{
    /// <summary>
    /// The template as requested (<c>template</c>): a built-in name (chatml, qwen3, llama3, llama2, mistral, completion)
    /// or a .jinja path; null uses the tokenizer folder's own <c>chat_template</c>.
    /// </summary>
    public string? Template { get; init; }

    /// <summary>
    /// The Jinja source the template resolved to (<c>template_source</c>), recorded when preprocessing resolves it so
    /// that a saved run renders with exactly the template it was trained with; null before resolution.
    /// </summary>
    public string? TemplateSource { get; init; }

    /// <summary>System prompt for records that carry none (<c>default_system</c>); null leaves the template's own default.</summary>
    public string? DefaultSystem { get; init; }

    /// <summary>Extra template variables (<c>template_kwargs</c>); <c>enable_thinking</c> is set from <see cref="ThinkBlock"/>.</summary>
    public IReadOnlyDictionary<string, object?> TemplateKwargs { get; init; } = new Dictionary<string, object?>();

    /// <summary>Where the Qwen3 empty think block belongs (<c>think_block</c>; LLaMA-Factory's <c>enable_thinking</c> false = prompt, true = answer).</summary>
    public ThinkBlockPlacement ThinkBlock { get; init; } = ThinkBlockPlacement.Prompt;

    /// <summary>
    /// Supervise the end-of-turn token after each answer (<c>train_on_eot</c>): a model trained with it ends its turns
    /// with that token, which is where generation stops.
    /// </summary>
    public bool TrainOnEot { get; init; } = true;

    /// <summary>Append a supervised EOS after completion-format and text answers (<c>completion_eos</c>): the end of a completion turn.</summary>
    public bool CompletionEos { get; init; } = true;

    /// <summary>Value equality including the keyword arguments' contents (records compare dictionaries by reference).</summary>
    public bool Equals(PromptSettings? other) =>
        other is not null && Template == other.Template && TemplateSource == other.TemplateSource && DefaultSystem == other.DefaultSystem
        && ThinkBlock == other.ThinkBlock && TrainOnEot == other.TrainOnEot && CompletionEos == other.CompletionEos
        && CanonicalJson.Serialize(TemplateKwargs) == CanonicalJson.Serialize(other.TemplateKwargs);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Template, TemplateSource, DefaultSystem, ThinkBlock, TrainOnEot, CompletionEos, CanonicalJson.Serialize(TemplateKwargs));
}
