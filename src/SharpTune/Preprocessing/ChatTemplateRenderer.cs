using SharpTune.Text.Templates;
using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>An <see cref="IChatRenderer"/> over a compiled Jinja <see cref="ChatTemplate"/>, with content-span tracking.</summary>
public sealed class ChatTemplateRenderer : IChatRenderer
{
    /// <summary>Wraps a template.</summary>
    public ChatTemplateRenderer(ChatTemplate template) => Template = template;

    /// <summary>The template.</summary>
    public ChatTemplate Template { get; }

    /// <inheritdoc />
    public bool IsCompletion => Template.Name == "completion";

    /// <inheritdoc />
    public string Render(IReadOnlyList<RenderMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs) =>
        Template.Render(ToChat(messages), Options(addGenerationPrompt, kwargs));

    /// <inheritdoc />
    public (string Text, IReadOnlyDictionary<int, CharSpan>? ContentSpans) RenderTracked(IReadOnlyList<RenderMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs)
    {
        var render = Template.RenderWithSpans(ToChat(messages), Options(addGenerationPrompt, kwargs));
        var spans = new Dictionary<int, CharSpan>();
        foreach (var s in render.ContentSpans)
        {
            // A message's content may be emitted in pieces (split, slices): cover them all.
            var span = new CharSpan(s.Start, s.Start + s.Length);
            spans[s.MessageIndex] = spans.TryGetValue(s.MessageIndex, out var had)
                ? new CharSpan(Math.Min(had.Start, span.Start), Math.Max(had.End, span.End))
                : span;
        }
        return (render.Text, spans);
    }

    private static ChatMessage[] ToChat(IReadOnlyList<RenderMessage> messages)
    {
        var list = new ChatMessage[messages.Count];
        for (int i = 0; i < list.Length; i++)
            list[i] = new ChatMessage(messages[i].Role, messages[i].Content) { ToolCalls = ToolCallValues(messages[i].ToolCalls) };
        return list;
    }

    // transformers' message form: [{"type": "function", "function": {"name": ..., "arguments": {...}}}].
    private static IReadOnlyList<object?>? ToolCallValues(IReadOnlyList<Data.Sft.SftToolCall>? calls) =>
        calls?.Select(c => (object?)new Dictionary<string, object?>
        {
            ["type"] = "function",
            ["function"] = new Dictionary<string, object?> { ["name"] = c.Name, ["arguments"] = c.Arguments },
        }).ToList();

    private static ChatRenderOptions Options(bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs) =>
        new() { AddGenerationPrompt = addGenerationPrompt, Variables = kwargs };
}
