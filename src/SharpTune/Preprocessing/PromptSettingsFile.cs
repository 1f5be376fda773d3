using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.IO;

namespace SharpTune.Preprocessing;

/// <summary>
/// <see cref="PromptSettings"/> as a file, <c>prompt_settings.json</c>: one JSON object whose fields are exactly the
/// record's properties in snake_case (<c>template</c>, <c>template_source</c>, <c>default_system</c>,
/// <c>template_kwargs</c>, <c>think_block</c>, <c>train_on_eot</c>, <c>completion_eos</c>). Written atomically;
/// a missing or unknown field, or a value of the wrong type, is a <see cref="UserException"/> naming the file, so a
/// file from another version is never read with silently different settings.
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

    /// <summary>The settings as the file's JSON text (indented, fields in the record's order).</summary>
    public static string ToJson(PromptSettings settings) => JsonSerializer.Serialize(settings, Indented) + "\n";

    /// <summary>Writes <paramref name="settings"/> to <paramref name="path"/> (a file path or a folder to hold <see cref="FileName"/>) atomically.</summary>
    public static string Write(string path, PromptSettings settings)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        AtomicFile.WriteAllText(path, ToJson(settings));
        return path;
    }

    /// <summary>Reads <paramref name="path"/> (a file, or a folder holding <see cref="FileName"/>).</summary>
    public static PromptSettings Read(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected the prompt settings of a preprocessing run or checkpoint)");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// The settings of a run: <c>DIR/prompt_settings.json</c> (a checkpoint, a cache entry, or a run folder that holds
    /// one), else that of the run's latest <c>checkpoint-N</c> subfolder (highest N).
    /// </summary>
    public static PromptSettings Find(string dir) => Read(FindFile(dir));

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

    /// <summary>Parses the file's text; <paramref name="source"/> names it in errors.</summary>
    public static PromptSettings Parse(string json, string source)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new UserException($"{source}: expected a JSON object of prompt settings");
        }
        catch (JsonException e) { throw new UserException($"{source}: not valid JSON ({e.Message})"); }
        var unknown = obj.Select(kv => kv.Key).Where(k => !FieldNames.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UserException($"{source}: unknown field(s) {string.Join(", ", unknown)}; expected exactly {string.Join(", ", FieldNames)}");
        var missing = FieldNames.Where(k => !obj.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw new UserException($"{source}: missing field(s) {string.Join(", ", missing)}; expected exactly {string.Join(", ", FieldNames)}");
        // Each field on its own first, so a bad value names its field.
        foreach (var (name, type) in Fields)
        {
            try { JsonSerializer.Deserialize(obj[name]?.ToJsonString() ?? "null", type, Indented); }
            catch (JsonException e) { throw new UserException($"{source}: field {name}: {e.Message}"); }
        }
        if (obj["template_kwargs"] is not JsonObject kwargs) throw new UserException($"{source}: field template_kwargs: expected a JSON object");
        var settings = JsonSerializer.Deserialize<PromptSettings>(json, Indented)!;
        return settings with { TemplateKwargs = TemplateKwargsJson.FromJson(kwargs, source) };
    }
}
