using System.Text.Json;
using SharpTune.Text.Jinja;

namespace SharpTune.Text.Templates;

/// <summary>
/// One message of a conversation as chat templates see it: <c>role</c>, <c>content</c> and the optional
/// <c>reasoning_content</c>, <c>tool_calls</c> and any other fields (e.g. <c>tool_call_id</c>, <c>name</c>).
/// </summary>
/// <param name="Role">"system", "user", "assistant", "tool", ...</param>
/// <param name="Content">The text; null renders as None (e.g. an assistant turn that only calls tools).</param>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>The model's reasoning (Qwen3 renders it inside &lt;think&gt;), or null when absent.</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>Tool calls as JSON-like objects (<see cref="JsonElement"/>s or dictionaries), or null when absent.</summary>
    public IReadOnlyList<object?>? ToolCalls { get; init; }

    /// <summary>
    /// OpenAI-style content parts (<c>[{"type": "text", "text": ...}]</c>, JSON-like), passed to the template as the
    /// list transformers passes; when set, <see cref="Content"/> is ignored.
    /// </summary>
    public IReadOnlyList<object?>? ContentParts { get; init; }

    /// <summary>Whether the message has no <c>content</c> key at all: the template then sees it undefined, not None.</summary>
    public bool ContentAbsent { get; init; }

    /// <summary>Further fields, in order; values are JSON-like (<see cref="JsonElement"/>, string, number, ...).</summary>
    public IReadOnlyDictionary<string, object?>? Extra { get; init; }

    /// <summary>Reads a message from a JSON object; <paramref name="where"/> names it in errors.</summary>
    public static ChatMessage FromJson(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new UserException($"{where}: a message must be a JSON object");
        if (!e.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            throw new UserException($"{where}: a message needs a string field 'role'");
        string? content = null;
        List<object?>? parts = null;
        bool absent = !e.TryGetProperty("content", out var c);
        if (!absent)
        {
            if (c.ValueKind == JsonValueKind.String) content = c.GetString();
            else if (c.ValueKind == JsonValueKind.Array) parts = c.EnumerateArray().Select(x => (object?)x.Clone()).ToList();
            else if (c.ValueKind != JsonValueKind.Null) throw new UserException($"{where}: field 'content' must be a string, a list of content parts or null");
        }
        string? reasoning = null;
        if (e.TryGetProperty("reasoning_content", out var r) && r.ValueKind != JsonValueKind.Null)
            reasoning = r.ValueKind == JsonValueKind.String ? r.GetString() : throw new UserException($"{where}: field 'reasoning_content' must be a string");
        List<object?>? calls = null;
        if (e.TryGetProperty("tool_calls", out var tc) && tc.ValueKind != JsonValueKind.Null)
        {
            if (tc.ValueKind != JsonValueKind.Array) throw new UserException($"{where}: field 'tool_calls' must be a list");
            calls = tc.EnumerateArray().Select(x => (object?)x.Clone()).ToList();
        }
        Dictionary<string, object?>? extra = null;
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name is "role" or "content" or "reasoning_content" or "tool_calls") continue;
            (extra ??= new(StringComparer.Ordinal))[p.Name] = p.Value.Clone();
        }
        return new ChatMessage(role.GetString()!, content) { ContentParts = parts, ContentAbsent = absent, ReasoningContent = reasoning, ToolCalls = calls, Extra = extra };
    }

    // The dict a template sees: role, content, then the optional fields, as transformers passes the user's dict.
    internal object ToValue(Evaluator? tracker, int index)
    {
        var d = new PyDict(4);
        d["role"] = Role;
        string? content = Content;
        if (tracker is not null && content is { Length: > 0 })
        {
            content = new string(content.AsSpan()); // a private instance, so provenance tracking cannot confuse equal strings
            tracker.TrackSource(content, index);
        }
        // A key the caller did not give stays absent (transformers passes the dict as it is: `content is defined` is false).
        if (ContentParts is not null) d["content"] = JinjaValues.FromClr(ContentParts);
        else if (!ContentAbsent) d["content"] = content;
        if (ReasoningContent is not null) d["reasoning_content"] = ReasoningContent;
        if (ToolCalls is not null) d["tool_calls"] = JinjaValues.FromClr(ToolCalls);
        if (Extra is not null) foreach (var (k, v) in Extra) d[k] = JinjaValues.FromClr(v);
        return d;
    }
}

/// <summary>What a render gets besides the messages.</summary>
public sealed record ChatRenderOptions
{
    /// <summary>Append the opening of an assistant turn (<c>add_generation_prompt</c>).</summary>
    public bool AddGenerationPrompt { get; init; }

    /// <summary><c>bos_token</c>; null uses the template's default (from tokenizer_config.json), if any.</summary>
    public string? BosToken { get; init; }

    /// <summary><c>eos_token</c>; null uses the template's default (from tokenizer_config.json), if any.</summary>
    public string? EosToken { get; init; }

    /// <summary>Tool schemas (JSON-like objects), or null (the template then sees <c>tools = None</c>, as in transformers).</summary>
    public IReadOnlyList<object?>? Tools { get; init; }

    /// <summary>Further template variables (e.g. <c>enable_thinking</c>); JSON-like values.</summary>
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }
}

/// <summary>Where one message's content appears verbatim in a rendered conversation.</summary>
/// <param name="MessageIndex">Index of the message in the list given to the render.</param>
/// <param name="Start">Start in the rendered text (UTF-16 index).</param>
/// <param name="Length">Length in UTF-16 units.</param>
/// <param name="ContentOffset">Where the span starts inside the message's content (non-zero when the template stripped a prefix).</param>
public readonly record struct ContentSpan(int MessageIndex, int Start, int Length, int ContentOffset);

/// <summary>A rendered conversation and where each message's content ended up in it.</summary>
/// <param name="Text">The rendered text, identical to <see cref="ChatTemplate.Render"/>.</param>
/// <param name="ContentSpans">Spans of message content copied verbatim into <paramref name="Text"/>, in output order.</param>
/// <param name="GenerationSpans">Spans of <c>{% generation %}</c> blocks (start, end), for templates that mark them.</param>
public sealed record ChatRender(string Text, IReadOnlyList<ContentSpan> ContentSpans, IReadOnlyList<(int Start, int End)> GenerationSpans);
