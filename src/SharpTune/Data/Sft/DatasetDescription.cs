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

    /// <summary>Alpaca: what joins a non-empty instruction and input (<c>"\n\n"</c>; LLaMA-Factory's dataset_info.json: <c>"\n"</c>).</summary>
    public string AlpacaSeparator { get; init; } = "\n\n";

    /// <summary>Column of the record's system prompt (Alpaca, ShareGPT, messages), or null to read none.</summary>
    public string? SystemColumn { get; init; } = "system";

    /// <summary>Alpaca: column of earlier turns as <c>[[user, assistant], ...]</c>, or null to read none.</summary>
    public string? HistoryColumn { get; init; } = "history";

    /// <summary>Column of the tool schemas (a JSON string or a list), or null to read none.</summary>
    public string? ToolsColumn { get; init; } = "tools";

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

    /// <summary>Messages/ShareGPT: the role value of a tool result (becomes a <c>tool</c> message).</summary>
    public string ObservationTag { get; init; } = "observation";

    /// <summary>Messages/ShareGPT: the role value of a function call (becomes an assistant message with <c>tool_calls</c>).</summary>
    public string FunctionTag { get; init; } = "function_call";

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
        SftFormat.Messages => new DatasetDescription { Format = format, ObservationTag = "tool", FunctionTag = "function_call" },
        SftFormat.ShareGpt => new DatasetDescription
        {
            Format = format, MessagesColumn = "conversations", RoleTag = "from", ContentTag = "value",
            UserTag = "human", AssistantTag = "gpt", SystemTag = "system", ObservationTag = "observation", FunctionTag = "function_call",
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
    /// Reads the entry <paramref name="name"/> of a dataset description file (LLaMA-Factory's <c>dataset_info.json</c>,
    /// see <see cref="DatasetInfo"/>). Returns the description and the data file path (relative to the description's folder).
    /// </summary>
    public static (DatasetDescription Description, string DataFile) Load(string path, string name)
    {
        var entry = DatasetInfo.Load(path).Get(name, path);
        return (entry.Description!, entry.Files[0]);
    }
}
