using System.Text.Json;

namespace SharpTune.Data.Sft;

/// <summary>Maps one JSON record onto an <see cref="SftRecord"/> according to a <see cref="DatasetDescription"/>.</summary>
public static class SftRecordParser
{
    /// <summary>
    /// Parses <paramref name="record"/>; <paramref name="source"/> names it in errors. With <paramref name="answerRequired"/>
    /// false (inference: records whose reference answer is unknown) an Alpaca output or a completion may be absent, null
    /// or empty — the record then ends with its user turn (an empty completion) — and a conversation may end with a user
    /// or tool turn.
    /// </summary>
    public static SftRecord Parse(JsonElement record, DatasetDescription d, string source, int index, bool answerRequired = true)
    {
        if (record.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: expected a JSON object, got {record.ValueKind}");
        return d.Format switch
        {
            SftFormat.Alpaca => Alpaca(record, d, source, index, answerRequired),
            SftFormat.Messages or SftFormat.ShareGpt => Conversation(record, d, source, index, answerRequired),
            SftFormat.PromptCompletion => new SftRecord
            {
                Source = source, Index = index, Kind = SftRecordKind.Completion,
                Prompt = RequiredString(record, d.PromptColumn, source),
                Completion = answerRequired ? RequiredString(record, d.CompletionColumn, source) : OptionalString(record, d.CompletionColumn, source) ?? "",
            },
            SftFormat.InputFullText => InputFullText(record, d, source, index),
            SftFormat.Text => new SftRecord
            {
                Source = source, Index = index, Kind = SftRecordKind.Text,
                Completion = RequiredString(record, d.TextColumn, source),
            },
            _ => throw new ArgumentOutOfRangeException(nameof(d)),
        };
    }

    /// <summary>User content of an Alpaca record: instruction, plus <paramref name="separator"/> and the input when the input is non-empty.</summary>
    public static string AlpacaUserContent(string instruction, string input, string separator = "\n\n") =>
        input.Length == 0 ? instruction : instruction.Length == 0 ? input : instruction + separator + input;

    private static SftRecord Alpaca(JsonElement r, DatasetDescription d, string source, int index, bool answerRequired)
    {
        var instruction = RequiredString(r, d.InstructionColumn, source);
        var input = OptionalString(r, d.InputColumn, source) ?? "";
        var output = answerRequired ? RequiredString(r, d.OutputColumn, source) : OptionalString(r, d.OutputColumn, source) ?? "";
        var turns = new List<SftTurn>();
        if (d.HistoryColumn is { } historyColumn && r.TryGetProperty(historyColumn, out var history) && history.ValueKind != JsonValueKind.Null)
        {
            if (history.ValueKind != JsonValueKind.Array) throw new UserException($"{source}: field '{historyColumn}' must be a list of [user, assistant] pairs");
            int i = 0;
            foreach (var pair in history.EnumerateArray())
            {
                if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                    || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String)
                    throw new UserException($"{source}: field '{historyColumn}'[{i}] must be a pair of strings [user, assistant]");
                turns.Add(new SftTurn("user", pair[0].GetString()!));
                turns.Add(new SftTurn("assistant", pair[1].GetString()!));
                i++;
            }
        }
        turns.Add(new SftTurn("user", AlpacaUserContent(instruction, input, d.AlpacaSeparator)));
        if (answerRequired || output.Length > 0) turns.Add(new SftTurn("assistant", output));
        return new SftRecord
        {
            Source = source, Index = index, Kind = SftRecordKind.Conversation,
            System = d.SystemColumn is null ? null : NonEmpty(OptionalString(r, d.SystemColumn, source)), Turns = turns, Tools = Tools(r, d, source),
        };
    }

    private static SftRecord Conversation(JsonElement r, DatasetDescription d, string source, int index, bool answerRequired)
    {
        if (!r.TryGetProperty(d.MessagesColumn, out var list)) throw new UserException($"{source}: missing field '{d.MessagesColumn}'");
        if (list.ValueKind != JsonValueKind.Array) throw new UserException($"{source}: field '{d.MessagesColumn}' must be a list of turns");
        string? system = d.SystemColumn is null ? null : NonEmpty(OptionalString(r, d.SystemColumn, source));
        var turns = new List<SftTurn>();
        int i = 0;
        foreach (var m in list.EnumerateArray())
        {
            var where = $"{d.MessagesColumn}[{i}]";
            if (m.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: {where} must be an object with '{d.RoleTag}' and '{d.ContentTag}'");
            var role = RequiredString(m, d.RoleTag, source, where);
            bool hasToolCalls = m.TryGetProperty("tool_calls", out var openAiCalls) && openAiCalls.ValueKind == JsonValueKind.Array && openAiCalls.GetArrayLength() > 0;
            var content = hasToolCalls && (!m.TryGetProperty(d.ContentTag, out var c0) || c0.ValueKind == JsonValueKind.Null) ? "" : Content(m, d.ContentTag, source, where);
            if (role == d.SystemTag)
            {
                if (i != 0) throw new UserException($"{source}: {where}: a system turn is only allowed first");
                system = content;
                i++;
                continue;
            }
            SftTurn turn;
            if (role == d.UserTag) turn = new SftTurn("user", content);
            else if (role == d.ObservationTag) turn = new SftTurn("tool", content);
            else if (role == d.FunctionTag) turn = new SftTurn("assistant", "") { ToolCalls = FunctionCalls(content, source, where) };
            else if (role == d.AssistantTag) turn = new SftTurn("assistant", content) { ToolCalls = hasToolCalls ? OpenAiToolCalls(openAiCalls, source, where) : null };
            else throw new UserException($"{source}: {where}.{d.RoleTag} is '{role}'; expected '{d.UserTag}', '{d.AssistantTag}', '{d.ObservationTag}', '{d.FunctionTag}' or '{d.SystemTag}'");
            // LLaMA-Factory: user and observation turns at odd positions, assistant and function-call turns at even ones.
            bool promptSide = turn.Role != "assistant";
            bool wantPrompt = turns.Count % 2 == 0;
            if (promptSide != wantPrompt)
                throw new UserException($"{source}: {where}: expected {(wantPrompt ? $"a user or observation turn ('{d.UserTag}', '{d.ObservationTag}')" : $"an assistant or function-call turn ('{d.AssistantTag}', '{d.FunctionTag}')")} (turns must alternate), got '{role}'");
            turns.Add(turn);
            i++;
        }
        if (turns.Count == 0 && !answerRequired) throw new UserException($"{source}: field '{d.MessagesColumn}' has no user turn to answer");
        if (answerRequired && (turns.Count == 0 || turns[^1].Role != "assistant"))
            throw new UserException($"{source}: field '{d.MessagesColumn}' must end with an assistant turn (the supervised answer)");
        return new SftRecord { Source = source, Index = index, Kind = SftRecordKind.Conversation, System = system, Turns = turns, Tools = Tools(r, d, source) };
    }

    // Message content: a string, or OpenAI-style parts [{"type": "text", "text": "..."}] joined in order.
    private static string Content(JsonElement m, string tag, string source, string where)
    {
        if (!m.TryGetProperty(tag, out var v)) throw new UserException($"{source}: missing field '{where}.{tag}'");
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        if (v.ValueKind != JsonValueKind.Array) throw new UserException($"{source}: field '{where}.{tag}' must be a string or a list of text parts, got {v.ValueKind}");
        var sb = new System.Text.StringBuilder();
        int p = 0;
        foreach (var part in v.EnumerateArray())
        {
            string pw = $"{where}.{tag}[{p++}]";
            if (part.ValueKind == JsonValueKind.String) { sb.Append(part.GetString()); continue; }
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw new UserException($"{source}: field '{pw}' must be an object {{\"type\": \"text\", \"text\": ...}}");
            if (type.GetString() != "text") throw new UserException($"{source}: field '{pw}' has type '{type.GetString()}'; only text parts are supported");
            if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String) throw new UserException($"{source}: field '{pw}.text' must be a string");
            sb.Append(text.GetString());
        }
        return sb.ToString();
    }

    // A ShareGPT function_call turn: JSON {"name", "arguments"} or a list of them (LLaMA-Factory's format).
    private static IReadOnlyList<SftToolCall> FunctionCalls(string content, string source, string where)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(content); }
        catch (JsonException e) { throw new UserException($"{source}: {where}: a function call must be JSON {{\"name\": ..., \"arguments\": {{...}}}}: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            var items = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : [root];
            if (items.Count == 0) throw new UserException($"{source}: {where}: a function call list is empty");
            return items.Select((c, k) => Call(c, source, $"{where}[{k}]")).ToList();
        }
    }

    // OpenAI tool_calls: [{"type": "function", "function": {"name", "arguments"}}].
    private static IReadOnlyList<SftToolCall> OpenAiToolCalls(JsonElement calls, string source, string where) =>
        calls.EnumerateArray().Select((c, k) =>
            Call(c.ValueKind == JsonValueKind.Object && c.TryGetProperty("function", out var f) ? f : c, source, $"{where}.tool_calls[{k}]")).ToList();

    private static SftToolCall Call(JsonElement c, string source, string where)
    {
        if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            throw new UserException($"{source}: {where}: a function call needs a string 'name'");
        var args = c.TryGetProperty("arguments", out var a) ? a.Clone() : JsonDocument.Parse("{}").RootElement.Clone();
        return new SftToolCall(name.GetString()!, args);
    }

    // The tools column: a JSON string (LLaMA-Factory) or a list; bare function schemas are wrapped as
    // {"type": "function", "function": schema}, the form transformers' templates expect.
    private static IReadOnlyList<JsonElement>? Tools(JsonElement r, DatasetDescription d, string source)
    {
        if (d.ToolsColumn is null || !r.TryGetProperty(d.ToolsColumn, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        JsonElement list;
        if (v.ValueKind == JsonValueKind.String)
        {
            var text = v.GetString()!;
            if (text.Trim().Length == 0) return null;
            try { list = JsonDocument.Parse(text).RootElement.Clone(); }
            catch (JsonException e) { throw new UserException($"{source}: field '{d.ToolsColumn}' is not valid JSON: {e.Message}"); }
        }
        else list = v;
        if (list.ValueKind == JsonValueKind.Object) list = JsonSerializer.SerializeToElement(new[] { list });
        if (list.ValueKind != JsonValueKind.Array) throw new UserException($"{source}: field '{d.ToolsColumn}' must be a list of tool schemas");
        var tools = new List<JsonElement>();
        int k = 0;
        foreach (var t in list.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: field '{d.ToolsColumn}'[{k}] must be an object");
            tools.Add(t.TryGetProperty("type", out _) ? t.Clone() : JsonSerializer.SerializeToElement(new Dictionary<string, JsonElement> { ["type"] = JsonSerializer.SerializeToElement("function"), ["function"] = t }));
            k++;
        }
        return tools.Count == 0 ? null : tools;
    }

    private static SftRecord InputFullText(JsonElement r, DatasetDescription d, string source, int index)
    {
        var input = RequiredString(r, d.InputTextColumn, source);
        var full = RequiredString(r, d.FullTextColumn, source);
        if (!full.StartsWith(input, StringComparison.Ordinal))
        {
            int at = 0;
            while (at < input.Length && at < full.Length && input[at] == full[at]) at++;
            var where = at < full.Length ? $"they differ at character {at + 1}" : $"'{d.FullTextColumn}' is shorter than '{d.InputTextColumn}'";
            throw new UserException($"{source}: field '{d.FullTextColumn}' does not start with '{d.InputTextColumn}' ({where}; the response must be the suffix of full_text after input_text)");
        }
        return new SftRecord
        {
            Source = source, Index = index, Kind = SftRecordKind.Completion,
            Prompt = input, Completion = full[input.Length..],
        };
    }

    // An empty system prompt means "none given": the configured default applies, as in LLaMA-Factory.
    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string RequiredString(JsonElement r, string field, string source, string? where = null)
    {
        var label = where is null ? field : $"{where}.{field}";
        if (!r.TryGetProperty(field, out var v)) throw new UserException($"{source}: missing field '{label}'");
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new UserException($"{source}: field '{label}' must be a string, got {v.ValueKind}");
    }

    private static string? OptionalString(JsonElement r, string field, string source)
    {
        if (!r.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new UserException($"{source}: field '{field}' must be a string, got {v.ValueKind}");
    }
}
