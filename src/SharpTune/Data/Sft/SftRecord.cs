namespace SharpTune.Data.Sft;

/// <summary>
/// A chat turn of a conversation record: <c>user</c>, <c>assistant</c>, or <c>tool</c> (a function result, ShareGPT
/// <c>observation</c>); the system prompt is kept apart. An assistant turn may call tools (ShareGPT <c>function_call</c>).
/// </summary>
/// <param name="Role">The role as the chat template expects it.</param>
/// <param name="Content">The text of the turn ("" for an assistant turn that only calls tools).</param>
public sealed record SftTurn(string Role, string Content)
{
    /// <summary>Tool calls of an assistant turn, rendered by the chat template's own tool-call support; null when none.</summary>
    public IReadOnlyList<SftToolCall>? ToolCalls { get; init; }
}

/// <summary>One function call of an assistant turn.</summary>
/// <param name="Name">The function name.</param>
/// <param name="Arguments">The arguments as given: usually a JSON object (templates print it with tojson), or a JSON string.</param>
public sealed record SftToolCall(string Name, System.Text.Json.JsonElement Arguments);

/// <summary>How a record is turned into tokens.</summary>
public enum SftRecordKind
{
    /// <summary>A conversation rendered through the chat template; assistant turns are supervised.</summary>
    Conversation,

    /// <summary>Raw prompt text followed directly by the completion; the completion is supervised.</summary>
    Completion,

    /// <summary>Raw text, every token supervised.</summary>
    Text,
}

/// <summary>
/// One supervised example in a format-independent form. Conversation records keep the optional system prompt
/// apart from the turns so the prompt builder can apply the configured default identically in training and inference.
/// </summary>
public sealed record SftRecord
{
    /// <summary>Where the record came from, for messages: <c>file:line</c> (JSONL) or <c>file[index]</c> (JSON array).</summary>
    public required string Source { get; init; }

    /// <summary>0-based index of the record in its file.</summary>
    public required int Index { get; init; }

    /// <summary>Which kind of example this is.</summary>
    public required SftRecordKind Kind { get; init; }

    /// <summary>The record's own system prompt (conversations), or null to use the configured default.</summary>
    public string? System { get; init; }

    /// <summary>The turns of a conversation, user and assistant (empty for other kinds).</summary>
    public IReadOnlyList<SftTurn> Turns { get; init; } = [];

    /// <summary>
    /// Tool (function) schemas offered to the model, passed to the template as <c>tools</c> as transformers'
    /// <c>apply_chat_template</c> does (each <c>{"type": "function", "function": {...}}</c>); null when none.
    /// </summary>
    public IReadOnlyList<System.Text.Json.JsonElement>? Tools { get; init; }

    /// <summary>Prompt text (completion kind).</summary>
    public string Prompt { get; init; } = "";

    /// <summary>Supervised text: the completion (completion kind) or the whole text (text kind).</summary>
    public string Completion { get; init; } = "";
}
