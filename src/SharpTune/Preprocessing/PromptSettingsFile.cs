using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.IO;

namespace SharpTune.Preprocessing;

/// <summary>
/// <see cref="PromptSettings"/> as a file, <c>prompt_settings.json</c>: one JSON object whose required fields are
/// exactly the record's properties in snake_case (<c>template</c>, <c>template_source</c>, <c>default_system</c>,
/// <c>template_kwargs</c>, <c>think_block</c>, <c>train_on_eot</c>, <c>completion_eos</c>), and, as
/// <see cref="RunPromptSettings"/> writes them, the optional <see cref="OptionalFieldNames"/>: <c>enable_thinking</c>
/// (LLaMA-Factory's spelling of <c>think_block</c>: true = answer), <c>cutoff_len</c>, <c>truncation</c> and
/// <c>labels</c> (null when not recorded; files written before they existed load without them). Written atomically;
/// a missing required or an unknown field, or a value of the wrong type, is a <see cref="UserException"/> naming the
/// file, so a file from another version is never read with silently different settings.
/// </summary>
public static class PromptSettingsFile
{
    /// <summary>The file name in cache entries, checkpoints and run folders.</summary>
    public const string FileName = "prompt_settings.json";

    private static readonly JsonSerializerOptions Indented = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions(CanonicalJson.Options)
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        o.MakeReadOnly();
        return o;
    }

    // The record's JSON contract: field name → .NET type, by reflection, so a new property is a new required field.
    private static readonly (string Name, Type Type)[] Fields =
        Indented.GetTypeInfo(typeof(PromptSettings)).Properties.Select(p => (p.Name, p.PropertyType)).ToArray();

    /// <summary>The JSON field names, in the record's order.</summary>
    public static IReadOnlyList<string> FieldNames { get; } = Fields.Select(f => f.Name).ToArray();

    /// <summary>The optional fields a run adds (see <see cref="RunPromptSettings"/>), in the file's order after the required ones.</summary>
    public static IReadOnlyList<string> OptionalFieldNames { get; } = ["enable_thinking", "cutoff_len", "truncation", "labels"];

    /// <summary>The settings as the file's JSON text (indented, fields in the record's order).</summary>
    public static string ToJson(PromptSettings settings) => JsonSerializer.Serialize(settings, Indented) + "\n";

    /// <summary>
    /// A run's settings as the file's JSON text: the prompt settings' fields with <c>enable_thinking</c> beside
    /// <c>think_block</c>, then <c>cutoff_len</c>, <c>truncation</c> and <c>labels</c> (null when not recorded).
    /// </summary>
    public static string ToJson(RunPromptSettings run)
    {
        var prompt = JsonNode.Parse(JsonSerializer.Serialize(run.Prompt, Indented))!.AsObject();
        var o = new JsonObject();
        foreach (var (key, value) in prompt.ToList())
        {
            prompt.Remove(key);
            if (key == "think_block") o["enable_thinking"] = run.Prompt.ThinkBlock == ThinkBlockPlacement.Answer;
            o[key] = value;
        }
        o["cutoff_len"] = run.CutoffLen;
        o["truncation"] = run.Truncation?.ToString().ToLowerInvariant();
        o["labels"] = run.Labels is null ? null : new JsonArray(run.Labels.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
        return o.ToJsonString(Indented) + "\n";
    }

    /// <summary>Writes <paramref name="settings"/> to <paramref name="path"/> (a file path or a folder to hold <see cref="FileName"/>) atomically.</summary>
    public static string Write(string path, PromptSettings settings)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        AtomicFile.WriteAllText(path, ToJson(settings));
        return path;
    }

    /// <summary>Writes a run's settings (<see cref="ToJson(RunPromptSettings)"/>) to <paramref name="path"/> (a file path or a folder to hold <see cref="FileName"/>) atomically.</summary>
    public static string Write(string path, RunPromptSettings run)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        AtomicFile.WriteAllText(path, ToJson(run));
        return path;
    }

    /// <summary>Reads <paramref name="path"/> (a file, or a folder holding <see cref="FileName"/>).</summary>
    public static PromptSettings Read(string path) => ReadRun(path).Prompt;

    /// <summary>Reads <paramref name="path"/> (a file, or a folder holding <see cref="FileName"/>) with the run's optional fields.</summary>
    public static RunPromptSettings ReadRun(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected the prompt settings of a preprocessing run or checkpoint)");
        return ParseRun(File.ReadAllText(path), path);
    }

    /// <summary>
    /// The settings of a run: <c>DIR/prompt_settings.json</c> (a checkpoint, a cache entry, or a run folder that holds
    /// one), else that of the run's latest <c>checkpoint-N</c> subfolder (highest N).
    /// </summary>
    public static PromptSettings Find(string dir) => Read(FindFile(dir));

    /// <summary><see cref="Find"/> with the run's optional fields.</summary>
    public static RunPromptSettings FindRun(string dir) => ReadRun(FindFile(dir));

    /// <summary>The <see cref="FileName"/> that <see cref="Find"/> reads for <paramref name="dir"/> (its folder is the checkpoint).</summary>
    public static string FindFile(string dir)
    {
        if (File.Exists(dir)) return dir;
        if (!Directory.Exists(dir)) throw new UserException($"{dir}: run or checkpoint folder not found");
        var direct = Path.Combine(dir, FileName);
        if (File.Exists(direct)) return direct;
        var latest = Directory.GetDirectories(dir, "checkpoint-*")
            .Select(d => (Dir: d, Step: int.TryParse(Path.GetFileName(d)["checkpoint-".Length..], out var n) ? n : -1))
            .Where(c => c.Step >= 0 && File.Exists(Path.Combine(c.Dir, FileName)))
            .OrderByDescending(c => c.Step)
            .FirstOrDefault();
        return latest.Dir is not null ? Path.Combine(latest.Dir, FileName)
            : throw new UserException($"{dir}: no {FileName} in the folder or in a checkpoint-N subfolder (expected a checkpoint, a run folder or a preprocessing cache entry)");
    }

    /// <summary>Parses the file's text (the run's optional fields are checked and left out); <paramref name="source"/> names it in errors.</summary>
    public static PromptSettings Parse(string json, string source) => ParseRun(json, source).Prompt;

    /// <summary>Parses the file's text with the run's optional fields; <paramref name="source"/> names it in errors.</summary>
    public static RunPromptSettings ParseRun(string json, string source)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new UserException($"{source}: expected a JSON object of prompt settings");
        }
        catch (JsonException e) { throw new UserException($"{source}: not valid JSON ({e.Message})"); }
        string expected = $"expected {string.Join(", ", FieldNames)} and optionally {string.Join(", ", OptionalFieldNames)}";
        var unknown = obj.Select(kv => kv.Key).Where(k => !FieldNames.Contains(k) && !OptionalFieldNames.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UserException($"{source}: unknown field(s) {string.Join(", ", unknown)}; {expected}");
        var missing = FieldNames.Where(k => !obj.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw new UserException($"{source}: missing field(s) {string.Join(", ", missing)}; {expected}");
        // Each field on its own first, so a bad value names its field.
        foreach (var (name, type) in Fields)
        {
            try { JsonSerializer.Deserialize(obj[name]?.ToJsonString() ?? "null", type, Indented); }
            catch (JsonException e) { throw new UserException($"{source}: field {name}: {e.Message}"); }
        }
        if (obj["template_kwargs"] is not JsonObject kwargs) throw new UserException($"{source}: field template_kwargs: expected a JSON object");
        var required = new JsonObject(obj.Where(kv => FieldNames.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        var settings = JsonSerializer.Deserialize<PromptSettings>(required.ToJsonString(), Indented)!;
        settings = settings with { TemplateKwargs = TemplateKwargsJson.FromJson(kwargs, source) };

        if (Optional(obj, "enable_thinking", JsonValueKind.True, JsonValueKind.False, source, "true or false") is { } thinking
            && thinking.GetValue<bool>() != (settings.ThinkBlock == ThinkBlockPlacement.Answer))
            throw new UserException($"{source}: field enable_thinking: {thinking.GetValue<bool>().ToString().ToLowerInvariant()} contradicts think_block {settings.ThinkBlock.ToString().ToLowerInvariant()} (enable_thinking false = think_block prompt, true = answer)");
        int? cutoff = null;
        if (Optional(obj, "cutoff_len", JsonValueKind.Number, JsonValueKind.Number, source, "an integer >= 2") is { } c)
            cutoff = c.AsValue().TryGetValue<int>(out var n) && n >= 2 ? n : throw new UserException($"{source}: field cutoff_len: expected an integer >= 2 or null, got {c.ToJsonString()}");
        TruncationMode? truncation = null;
        if (Optional(obj, "truncation", JsonValueKind.String, JsonValueKind.String, source, "left, history, drop or error") is { } t)
            truncation = t.GetValue<string>() switch
            {
                "left" => TruncationMode.Left,
                "history" => TruncationMode.History,
                "drop" => TruncationMode.Drop,
                "error" => TruncationMode.Error,
                var other => throw new UserException($"{source}: field truncation: expected left, history, drop, error or null, got '{other}'"),
            };
        List<string>? labels = null;
        if (obj.ContainsKey("labels") && obj["labels"] is not null)
        {
            if (obj["labels"] is not JsonArray array || array.Count == 0
                || array.Any(l => l is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>().Trim().Length == 0))
                throw new UserException($"{source}: field labels: expected a non-empty array of non-empty strings or null, got {obj["labels"]!.ToJsonString()}");
            labels = array.Select(l => l!.GetValue<string>()).ToList();
        }
        return new RunPromptSettings { Prompt = settings, CutoffLen = cutoff, Truncation = truncation, Labels = labels };
    }

    // An optional field's value (null when absent or null); a value of another kind is an error naming the field.
    private static JsonNode? Optional(JsonObject obj, string name, JsonValueKind kind, JsonValueKind alsoKind, string source, string what)
    {
        if (obj[name] is not { } node) return null;
        var k = node.GetValueKind();
        return k == kind || k == alsoKind ? node : throw new UserException($"{source}: field {name}: expected {what} or null, got {node.ToJsonString()}");
    }
}
