using System.Text.Json;

namespace SharpTune.Data.Sft;

/// <summary>
/// How to read one dataset file: its format and which columns hold what, in the spirit of LLaMA-Factory's
/// <c>dataset_info.json</c> (<c>formatting</c>, <c>columns</c>, <c>tags</c>). Defaults match each format's usual keys.
/// </summary>
public sealed record DatasetDescription
{
    /// <summary>The record layout.</summary>
    public required SftFormat Format { get; init; }

    /// <summary>Alpaca: column of the instruction (LLaMA-Factory <c>prompt</c>).</summary>
    public string InstructionColumn { get; init; } = "instruction";

    /// <summary>Alpaca: column of the input appended after a blank line (LLaMA-Factory <c>query</c>).</summary>
    public string InputColumn { get; init; } = "input";

    /// <summary>Alpaca: column of the answer (LLaMA-Factory <c>response</c>).</summary>
    public string OutputColumn { get; init; } = "output";

    /// <summary>Column of the record's system prompt (Alpaca, ShareGPT, messages).</summary>
    public string SystemColumn { get; init; } = "system";

    /// <summary>Alpaca: column of earlier turns as <c>[[user, assistant], ...]</c>.</summary>
    public string HistoryColumn { get; init; } = "history";

    /// <summary>Messages/ShareGPT: column of the turn list.</summary>
    public string MessagesColumn { get; init; } = "messages";

    /// <summary>Messages/ShareGPT: key of a turn's role.</summary>
    public string RoleTag { get; init; } = "role";

    /// <summary>Messages/ShareGPT: key of a turn's text.</summary>
    public string ContentTag { get; init; } = "content";

    /// <summary>Messages/ShareGPT: the role value meaning user.</summary>
    public string UserTag { get; init; } = "user";

    /// <summary>Messages/ShareGPT: the role value meaning assistant.</summary>
    public string AssistantTag { get; init; } = "assistant";

    /// <summary>Messages/ShareGPT: the role value meaning system.</summary>
    public string SystemTag { get; init; } = "system";

    /// <summary>Prompt/completion: prompt column.</summary>
    public string PromptColumn { get; init; } = "prompt";

    /// <summary>Prompt/completion: completion column.</summary>
    public string CompletionColumn { get; init; } = "completion";

    /// <summary>input_text/full_text: the prompt column.</summary>
    public string InputTextColumn { get; init; } = "input_text";

    /// <summary>input_text/full_text: the full text column.</summary>
    public string FullTextColumn { get; init; } = "full_text";

    /// <summary>Text: the text column.</summary>
    public string TextColumn { get; init; } = "text";

    /// <summary>The usual keys of a format (ShareGPT: <c>conversations</c>, <c>from</c>/<c>value</c>, <c>human</c>/<c>gpt</c>).</summary>
    public static DatasetDescription For(SftFormat format) => format switch
    {
        SftFormat.ShareGpt => new DatasetDescription
        {
            Format = format, MessagesColumn = "conversations", RoleTag = "from", ContentTag = "value",
            UserTag = "human", AssistantTag = "gpt", SystemTag = "system",
        },
        _ => new DatasetDescription { Format = format },
    };

    /// <summary>
    /// Detects the format from a record's keys: <c>messages</c>, <c>conversations</c>, <c>instruction</c>+<c>output</c>,
    /// <c>prompt</c>+<c>completion</c>, <c>input_text</c>+<c>full_text</c>, <c>text</c>. Extra keys are ignored.
    /// </summary>
    public static SftFormat? Detect(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object) return null;
        bool Has(string k) => record.TryGetProperty(k, out _);
        if (Has("messages")) return SftFormat.Messages;
        if (Has("conversations")) return SftFormat.ShareGpt;
        if (Has("instruction") && Has("output")) return SftFormat.Alpaca;
        if (Has("prompt") && Has("completion")) return SftFormat.PromptCompletion;
        if (Has("input_text") && Has("full_text")) return SftFormat.InputFullText;
        if (Has("text")) return SftFormat.Text;
        return null;
    }

    /// <summary>
    /// Reads the entry <paramref name="name"/> of a dataset description file:
    /// <c>{"NAME": {"file_name": ..., "formatting": "alpaca|sharegpt|messages|prompt_completion|input_full_text|text",
    /// "columns": {...}, "tags": {...}}}</c>. Column keys follow LLaMA-Factory (<c>prompt</c>, <c>query</c>,
    /// <c>response</c>, <c>system</c>, <c>history</c>, <c>messages</c>) plus <c>completion</c>, <c>input_text</c>,
    /// <c>full_text</c>, <c>text</c>. Returns the description and the data file path (relative to the description's folder).
    /// </summary>
    public static (DatasetDescription Description, string DataFile) Load(string path, string name)
    {
        if (!File.Exists(path)) throw new UserException($"{path}: dataset description not found");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new UserException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(name, out var entry) || entry.ValueKind != JsonValueKind.Object)
                throw new UserException($"{path}: no dataset named '{name}' (expected a top-level object with key '{name}')");
            string Str(JsonElement obj, string key, string where)
            {
                if (!obj.TryGetProperty(key, out var v)) return "";
                return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new UserException($"{path}: {where}.{key} must be a string");
            }
            var file = Str(entry, "file_name", name);
            if (file.Length == 0) throw new UserException($"{path}: {name}.file_name is required");
            var formatting = Str(entry, "formatting", name);
            SftFormat format = formatting switch
            {
                "" or "alpaca" => SftFormat.Alpaca,
                "sharegpt" => SftFormat.ShareGpt,
                "messages" or "openai" => SftFormat.Messages,
                "prompt_completion" => SftFormat.PromptCompletion,
                "input_full_text" => SftFormat.InputFullText,
                "text" => SftFormat.Text,
                _ => throw new UserException($"{path}: {name}.formatting '{formatting}' is not one of alpaca, sharegpt, messages, prompt_completion, input_full_text, text"),
            };
            var d = For(format);
            if (entry.TryGetProperty("columns", out var cols))
            {
                if (cols.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: {name}.columns must be an object");
                foreach (var p in cols.EnumerateObject())
                {
                    var v = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new UserException($"{path}: {name}.columns.{p.Name} must be a string");
                    d = p.Name switch
                    {
                        "prompt" when format == SftFormat.Alpaca => d with { InstructionColumn = v },
                        "prompt" => d with { PromptColumn = v },
                        "query" => d with { InputColumn = v },
                        "response" => d with { OutputColumn = v },
                        "system" => d with { SystemColumn = v },
                        "history" => d with { HistoryColumn = v },
                        "messages" => d with { MessagesColumn = v },
                        "completion" => d with { CompletionColumn = v },
                        "input_text" => d with { InputTextColumn = v },
                        "full_text" => d with { FullTextColumn = v },
                        "text" => d with { TextColumn = v },
                        _ => throw new UserException($"{path}: {name}.columns.{p.Name} is not a known column (prompt, query, response, system, history, messages, completion, input_text, full_text, text)"),
                    };
                }
            }
            if (entry.TryGetProperty("tags", out var tags))
            {
                if (tags.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: {name}.tags must be an object");
                foreach (var p in tags.EnumerateObject())
                {
                    var v = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new UserException($"{path}: {name}.tags.{p.Name} must be a string");
                    d = p.Name switch
                    {
                        "role_tag" => d with { RoleTag = v },
                        "content_tag" => d with { ContentTag = v },
                        "user_tag" => d with { UserTag = v },
                        "assistant_tag" => d with { AssistantTag = v },
                        "system_tag" => d with { SystemTag = v },
                        _ => throw new UserException($"{path}: {name}.tags.{p.Name} is not a known tag (role_tag, content_tag, user_tag, assistant_tag, system_tag)"),
                    };
                }
            }
            var dataFile = Path.IsPathRooted(file) ? file : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, file);
            return (d, dataFile);
        }
    }
}
