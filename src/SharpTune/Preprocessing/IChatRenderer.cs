using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>A chat message as the template sees it.</summary>
/// <param name="Role"><c>system</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
/// <param name="Content">The message text.</param>
public readonly record struct RenderMessage(string Role, string Content)
{
    /// <summary>Tool calls of an assistant message (the template sees <c>tool_calls</c>), or null.</summary>
    public IReadOnlyList<Data.Sft.SftToolCall>? ToolCalls { get; init; }
}

/// <summary>
/// Renders messages through a chat template (the model's Jinja <c>chat_template</c> or a built-in one). The prompt
/// builder depends only on this seam, so training and inference render through the same object.
/// </summary>
public interface IChatRenderer
{
    /// <summary>Renders <paramref name="messages"/>; <paramref name="kwargs"/> are extra template variables (e.g. <c>enable_thinking</c>).</summary>
    string Render(IReadOnlyList<RenderMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs);

    /// <summary>
    /// Renders as <see cref="Render"/> does and also reports, per message index, the span its content occupies in
    /// the text (null when the renderer cannot track content; the builder then searches for the content).
    /// </summary>
    (string Text, IReadOnlyDictionary<int, CharSpan>? ContentSpans) RenderTracked(IReadOnlyList<RenderMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs) =>
        (Render(messages, addGenerationPrompt, kwargs), null);

    /// <summary>Whether this is the <c>completion</c> format: no template, prompt text followed directly by the answer.</summary>
    bool IsCompletion { get; }
}
