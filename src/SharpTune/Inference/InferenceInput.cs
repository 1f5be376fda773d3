using System.Text.Json;
using SharpTune.Data.Sft;

namespace SharpTune.Inference;

/// <summary>One record to infer for: the parsed record, its reference answer and the id fields copied to the output.</summary>
/// <param name="Index">0-based position in the input file.</param>
/// <param name="Record">The record; its final assistant turn (the reference) is not part of the prompt.</param>
/// <param name="Reference">The reference answer (the final assistant turn or the completion), or null.</param>
/// <param name="IdFields">Fields named <c>id</c> or ending in <c>_id</c> (<c>user_id</c>, <c>movie_id</c>, …), name → raw JSON, in record order.</param>
public sealed record InferenceItem(int Index, SftRecord Record, string? Reference, IReadOnlyList<KeyValuePair<string, string>> IdFields);

/// <summary>
/// Reads the records of an inference run through the same readers as training: Alpaca (with system and history),
/// messages and ShareGPT records (the last assistant message is the reference answer), prompt/completion records,
/// <c>test_raw.jsonl</c> from <c>prepare movielens</c> (Alpaca with ids), and plain <c>{"prompt": …}</c> lines, which
/// become one user turn (their reference is a string <c>label</c>). JSON array or JSON Lines; errors name the file and
/// line (or record index). A record need not have a reference answer: an Alpaca <c>output</c> or a <c>completion</c>
/// that is absent, null or empty, a conversation that ends with a user turn, a prompt line without a <c>label</c> (or
/// with <c>"label": null</c>) all infer from the whole prompt and get no reference (no <c>label</c>, no <c>correct</c>).
/// </summary>
public static class InferenceInput
{
    /// <summary>
    /// Reads every record of <paramref name="path"/>, with <paramref name="given"/> (a dataset_info.json entry's
    /// description, as training read the data) or else the format detected from the first record's keys.
    /// </summary>
    public static IReadOnlyList<InferenceItem> Read(string path, DatasetDescription? given = null)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: data file not found");
        var items = new List<InferenceItem>();
        DatasetDescription? description = given;
        bool plainPrompts = false;
        foreach (var (element, source, index) in SftDatasetReader.Elements(File.ReadAllBytes(path), path))
        {
            if (element.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: expected a JSON object, got {element.ValueKind}");
            if (items.Count == 0 && given is null)
            {
                plainPrompts = IsPlainPrompt(element);
                if (!plainPrompts)
                    description = DatasetDescription.For(DatasetDescription.Detect(element)
                        ?? (element.TryGetProperty("instruction", out _) ? SftFormat.Alpaca : (SftFormat?)null)   // Alpaca without its output
                        ?? throw new UserException($"{source}: cannot tell the record format from its keys (expected messages, conversations, instruction+output, prompt+completion or prompt)"));
            }
            SftRecord record;
            string? reference;
            if (plainPrompts)
            {
                if (!element.TryGetProperty("prompt", out var prompt)) throw new UserException($"{source}: missing field 'prompt' (the first record was a plain {{\"prompt\": …}} line)");
                if (prompt.ValueKind != JsonValueKind.String) throw new UserException($"{source}: field 'prompt' must be a string, got {prompt.ValueKind}");
                record = new SftRecord { Source = source, Index = index, Kind = SftRecordKind.Conversation, Turns = [new SftTurn("user", prompt.GetString()!)] };
                reference = !element.TryGetProperty("label", out var l) || l.ValueKind == JsonValueKind.Null ? null
                    : l.ValueKind == JsonValueKind.String ? l.GetString() : throw new UserException($"{source}: field 'label' must be a string or null, got {l.ValueKind}");
            }
            else
            {
                record = SftRecordParser.Parse(element, description!, source, index, answerRequired: false);
                reference = record.Kind switch
                {
                    // The final assistant turn is the reference (the prompt leaves it out); a conversation that ends
                    // with a user turn has none.
                    SftRecordKind.Conversation => record.Turns[^1] is { Role: "assistant", Content.Length: > 0 } last ? last.Content : null,
                    SftRecordKind.Completion => record.Completion.Length > 0 ? record.Completion : null,
                    _ => throw new UserException($"{source}: a text record has no prompt to infer from"),
                };
            }
            items.Add(new InferenceItem(index, record, reference, IdFields(element)));
        }
        return items;
    }

    private static bool IsPlainPrompt(JsonElement e) =>
        e.TryGetProperty("prompt", out _) && DatasetDescription.Detect(e) is null;

    private static List<KeyValuePair<string, string>> IdFields(JsonElement e)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var p in e.EnumerateObject())
            if ((p.Name == "id" || p.Name.EndsWith("_id", StringComparison.Ordinal)) && p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.String)
                list.Add(new(p.Name, p.Value.GetRawText()));
        return list;
    }
}
