using System.Text.Json;

namespace SharpTune.Data.Sft;

/// <summary>Maps one JSON record onto an <see cref="SftRecord"/> according to a <see cref="DatasetDescription"/>.</summary>
public static class SftRecordParser
{
    /// <summary>Parses <paramref name="record"/>; <paramref name="source"/> names it in errors.</summary>
    public static SftRecord Parse(JsonElement record, DatasetDescription d, string source, int index)
    {
        if (record.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: expected a JSON object, got {record.ValueKind}");
        return d.Format switch
        {
            SftFormat.Alpaca => Alpaca(record, d, source, index),
            SftFormat.Messages or SftFormat.ShareGpt => Conversation(record, d, source, index),
            SftFormat.PromptCompletion => new SftRecord
            {
                Source = source, Index = index, Kind = SftRecordKind.Completion,
                Prompt = RequiredString(record, d.PromptColumn, source),
                Completion = RequiredString(record, d.CompletionColumn, source),
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

    /// <summary>User content of an Alpaca record: instruction, plus a blank line and the input when the input is non-empty.</summary>
    public static string AlpacaUserContent(string instruction, string input) =>
        input.Length == 0 ? instruction : instruction + "\n\n" + input;

    private static SftRecord Alpaca(JsonElement r, DatasetDescription d, string source, int index)
    {
        var instruction = RequiredString(r, d.InstructionColumn, source);
        var input = OptionalString(r, d.InputColumn, source) ?? "";
        var output = RequiredString(r, d.OutputColumn, source);
        var turns = new List<SftTurn>();
        if (r.TryGetProperty(d.HistoryColumn, out var history) && history.ValueKind != JsonValueKind.Null)
        {
            if (history.ValueKind != JsonValueKind.Array) throw new UserException($"{source}: field '{d.HistoryColumn}' must be a list of [user, assistant] pairs");
            int i = 0;
            foreach (var pair in history.EnumerateArray())
            {
                if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                    || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String)
                    throw new UserException($"{source}: field '{d.HistoryColumn}'[{i}] must be a pair of strings [user, assistant]");
                turns.Add(new SftTurn("user", pair[0].GetString()!));
                turns.Add(new SftTurn("assistant", pair[1].GetString()!));
                i++;
            }
        }
        turns.Add(new SftTurn("user", AlpacaUserContent(instruction, input)));
        turns.Add(new SftTurn("assistant", output));
        return new SftRecord
        {
            Source = source, Index = index, Kind = SftRecordKind.Conversation,
            System = NonEmpty(OptionalString(r, d.SystemColumn, source)), Turns = turns,
        };
    }

    private static SftRecord Conversation(JsonElement r, DatasetDescription d, string source, int index)
    {
        if (!r.TryGetProperty(d.MessagesColumn, out var list)) throw new UserException($"{source}: missing field '{d.MessagesColumn}'");
        if (list.ValueKind != JsonValueKind.Array) throw new UserException($"{source}: field '{d.MessagesColumn}' must be a list of turns");
        string? system = NonEmpty(OptionalString(r, d.SystemColumn, source));
        var turns = new List<SftTurn>();
        int i = 0;
        foreach (var m in list.EnumerateArray())
        {
            var where = $"{d.MessagesColumn}[{i}]";
            if (m.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: {where} must be an object with '{d.RoleTag}' and '{d.ContentTag}'");
            var role = RequiredString(m, d.RoleTag, source, where);
            var content = RequiredString(m, d.ContentTag, source, where);
            if (role == d.SystemTag)
            {
                if (i != 0) throw new UserException($"{source}: {where}: a system turn is only allowed first");
                system = content;
            }
            else
            {
                string mapped = role == d.UserTag ? "user" : role == d.AssistantTag ? "assistant"
                    : throw new UserException($"{source}: {where}.{d.RoleTag} is '{role}'; expected '{d.UserTag}', '{d.AssistantTag}' or '{d.SystemTag}'");
                string expected = turns.Count % 2 == 0 ? "user" : "assistant";
                if (mapped != expected) throw new UserException($"{source}: {where}: expected {(expected == "user" ? "a user" : "an assistant")} turn (turns must alternate user, assistant), got {mapped}");
                turns.Add(new SftTurn(mapped, content));
            }
            i++;
        }
        if (turns.Count == 0 || turns[^1].Role != "assistant")
            throw new UserException($"{source}: field '{d.MessagesColumn}' must end with an assistant turn (the supervised answer)");
        return new SftRecord { Source = source, Index = index, Kind = SftRecordKind.Conversation, System = system, Turns = turns };
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
