using System.Text.Json;

namespace SharpTune.Data.Sft;

/// <summary>One dataset of a <c>dataset_info.json</c>.</summary>
/// <param name="Name">The dataset's name (the key in dataset_info.json, or the file path given).</param>
/// <param name="Files">The data files (one, or every file of a <c>file_name</c> folder in name order).</param>
/// <param name="Description">How to read its records, or null to detect the format from the first record's keys (a plain file path).</param>
/// <param name="NumSamples"><c>num_samples</c>: records to draw (seeded), or null for all.</param>
public sealed record DatasetInfoEntry(string Name, IReadOnlyList<string> Files, DatasetDescription? Description, int? NumSamples);

/// <summary>
/// LLaMA-Factory's <c>dataset_info.json</c>: <c>{"NAME": {"file_name", "formatting": "alpaca|sharegpt", "columns":
/// {prompt, query, response, history, system, messages, tools}, "tags": {role_tag, content_tag, user_tag,
/// assistant_tag, observation_tag, function_tag, system_tag}, "num_samples"}}</c>. As in LLaMA-Factory, Alpaca joins
/// instruction and input with one newline, and the system, history and tools columns are read only when mapped;
/// ShareGPT defaults to <c>conversations</c> with <c>from</c>/<c>value</c> and human, gpt, observation,
/// function_call, system. SharpTune also accepts the formattings messages (openai), prompt_completion,
/// input_full_text and text. Hub, script and cloud sources, preference (<c>ranking</c>) and multimodal columns are
/// errors: SharpTune reads local files for supervised fine-tuning.
/// </summary>
public sealed class DatasetInfo
{
    private readonly Dictionary<string, JsonElement> _entries;
    private readonly string _folder;

    private DatasetInfo(string path, string folder, Dictionary<string, JsonElement> entries)
    {
        Path = path;
        _folder = folder;
        _entries = entries;
    }

    /// <summary>The dataset_info.json file.</summary>
    public string Path { get; }

    /// <summary>The dataset names, in file order.</summary>
    public IReadOnlyList<string> Names => [.. _entries.Keys];

    /// <summary>Whether <paramref name="name"/> is defined.</summary>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>
    /// The entry <paramref name="name"/>, checked when asked for (as LLaMA-Factory does, so one bad entry does not
    /// block the others); an unknown name is an error listing the known ones.
    /// </summary>
    public DatasetInfoEntry Get(string name, string? where = null) =>
        _entries.TryGetValue(name, out var e) ? Entry(name, e, Path, _folder)
            : throw new UserException($"{where ?? Path}: no dataset named '{name}' in {Path} (known: {(_entries.Count == 0 ? "none" : string.Join(", ", _entries.Keys))})");

    /// <summary>Reads <paramref name="path"/>; entries are checked by <see cref="Get"/>.</summary>
    public static DatasetInfo Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: dataset description not found");
        var bytes = File.ReadAllBytes(path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new UserException($"{path}:{e.LineNumber + 1}: not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: expected a JSON object of datasets ({{\"name\": {{\"file_name\": ...}}}})");
            var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            var entries = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject()) entries[p.Name] = p.Value.Clone();
            return new DatasetInfo(path, folder, entries);
        }
    }

    private static DatasetInfoEntry Entry(string name, JsonElement entry, string path, string folder)
    {
        string at = $"{path}: {name}";
        if (entry.ValueKind != JsonValueKind.Object) throw new UserException($"{at}: expected an object with file_name");
        string? Str(JsonElement obj, string key, string label)
        {
            if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new UserException($"{at}: {label}{key} must be a string");
        }
        foreach (var remote in new[] { "hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name" })
            if (entry.TryGetProperty(remote, out _) && !entry.TryGetProperty("file_name", out _))
                throw new UserException($"{at}: {remote} is not supported; SharpTune reads local files — download the data and set file_name");
        if (entry.TryGetProperty("ranking", out var ranking) && ranking.ValueKind == JsonValueKind.True)
            throw new UserException($"{at}: ranking (preference) datasets are for reward modelling and DPO; SharpTune trains SFT only");
        var file = Str(entry, "file_name", "") ?? throw new UserException($"{at}: file_name is required");
        var formatting = Str(entry, "formatting", "") ?? "alpaca";
        SftFormat format = formatting switch
        {
            "alpaca" => SftFormat.Alpaca,
            "sharegpt" => SftFormat.ShareGpt,
            "messages" or "openai" => SftFormat.Messages,
            "prompt_completion" => SftFormat.PromptCompletion,
            "input_full_text" => SftFormat.InputFullText,
            "text" => SftFormat.Text,
            _ => throw new UserException($"{at}: formatting '{formatting}' is not one of alpaca, sharegpt, messages, prompt_completion, input_full_text, text"),
        };
        // LLaMA-Factory reads system, history and tools only when the columns name them.
        var d = DatasetDescription.For(format) with { AlpacaSeparator = "\n", SystemColumn = null, HistoryColumn = null, ToolsColumn = null };
        if (entry.TryGetProperty("columns", out var cols))
        {
            if (cols.ValueKind != JsonValueKind.Object) throw new UserException($"{at}: columns must be an object");
            foreach (var p in cols.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Null) continue;
                var v = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new UserException($"{at}: columns.{p.Name} must be a string");
                d = p.Name switch
                {
                    "prompt" when format == SftFormat.Alpaca => d with { InstructionColumn = v },
                    "prompt" when format == SftFormat.Text => d with { TextColumn = v },
                    "prompt" => d with { PromptColumn = v },
                    "query" => d with { InputColumn = v },
                    "response" => d with { OutputColumn = v },
                    "system" => d with { SystemColumn = v },
                    "history" => d with { HistoryColumn = v },
                    "messages" => d with { MessagesColumn = v },
                    "tools" => d with { ToolsColumn = v },
                    "completion" => d with { CompletionColumn = v },
                    "input_text" => d with { InputTextColumn = v },
                    "full_text" => d with { FullTextColumn = v },
                    "text" => d with { TextColumn = v },
                    "images" or "videos" or "audios" => throw new UserException($"{at}: columns.{p.Name}: multimodal data is not supported"),
                    "chosen" or "rejected" or "kto_tag" => throw new UserException($"{at}: columns.{p.Name}: preference data is not supported (SFT only)"),
                    _ => throw new UserException($"{at}: columns.{p.Name} is not a known column (prompt, query, response, history, system, messages, tools, completion, input_text, full_text, text)"),
                };
            }
        }
        if (entry.TryGetProperty("tags", out var tags))
        {
            if (tags.ValueKind != JsonValueKind.Object) throw new UserException($"{at}: tags must be an object");
            foreach (var p in tags.EnumerateObject())
            {
                var v = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new UserException($"{at}: tags.{p.Name} must be a string");
                d = p.Name switch
                {
                    "role_tag" => d with { RoleTag = v },
                    "content_tag" => d with { ContentTag = v },
                    "user_tag" => d with { UserTag = v },
                    "assistant_tag" => d with { AssistantTag = v },
                    "observation_tag" => d with { ObservationTag = v },
                    "function_tag" => d with { FunctionTag = v },
                    "system_tag" => d with { SystemTag = v },
                    _ => throw new UserException($"{at}: tags.{p.Name} is not a known tag (role_tag, content_tag, user_tag, assistant_tag, observation_tag, function_tag, system_tag)"),
                };
            }
        }
        int? numSamples = null;
        if (entry.TryGetProperty("num_samples", out var ns) && ns.ValueKind != JsonValueKind.Null)
            numSamples = ns.TryGetInt32(out var n) && n > 0 ? n : throw new UserException($"{at}: num_samples must be a positive whole number");
        var full = System.IO.Path.IsPathRooted(file) ? file : System.IO.Path.Combine(folder, file);
        IReadOnlyList<string> files = Directory.Exists(full)
            ? Directory.GetFiles(full).Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".jsonl", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [full];
        if (files.Count == 0) throw new UserException($"{at}: folder {full} holds no .json or .jsonl files");
        return new DatasetInfoEntry(name, files, d, numSamples);
    }
}
