using System.Text.Json;

namespace SharpTune.Text;

/// <summary>
/// The parts of a Hugging Face <c>tokenizer_config.json</c> that SharpTune uses: special tokens, BOS/EOS
/// insertion flags, the model's maximum length and the chat template(s).
/// </summary>
public sealed class TokenizerConfig
{
    /// <summary><c>bos_token</c> content, or null.</summary>
    public string? BosToken { get; init; }

    /// <summary><c>eos_token</c> content, or null.</summary>
    public string? EosToken { get; init; }

    /// <summary><c>pad_token</c> content, or null.</summary>
    public string? PadToken { get; init; }

    /// <summary><c>unk_token</c> content, or null.</summary>
    public string? UnkToken { get; init; }

    /// <summary><c>tokenizer_class</c> (e.g. <c>LlamaTokenizerFast</c>, <c>Qwen2Tokenizer</c>), or null when the file does not say.</summary>
    public string? TokenizerClass { get; init; }

    /// <summary><c>add_bos_token</c>, or null when the file does not say.</summary>
    public bool? AddBosToken { get; init; }

    /// <summary><c>add_eos_token</c>, or null when the file does not say.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary><c>model_max_length</c>, or null (HF writes a huge sentinel for "no limit"; kept as given).</summary>
    public double? ModelMaxLength { get; init; }

    /// <summary>Named chat templates. A plain string template is stored under the name <c>default</c>.</summary>
    public IReadOnlyDictionary<string, string> ChatTemplates { get; init; } = new Dictionary<string, string>();

    /// <summary>The template named <paramref name="name"/> (default: "default"), or null when the file has none.</summary>
    public string? ChatTemplate(string name = "default") => ChatTemplates.TryGetValue(name, out var t) ? t : null;

    /// <summary>Loads and validates a tokenizer_config.json; errors name the file and the field.</summary>
    public static TokenizerConfig Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected a tokenizer_config.json)");
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses tokenizer_config.json content; <paramref name="source"/> names it in errors.</summary>
    public static TokenizerConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new UserException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: expected a JSON object at the top level");
            return new TokenizerConfig
            {
                BosToken = TokenContent(root, "bos_token", source),
                EosToken = TokenContent(root, "eos_token", source),
                PadToken = TokenContent(root, "pad_token", source),
                UnkToken = TokenContent(root, "unk_token", source),
                TokenizerClass = root.TryGetProperty("tokenizer_class", out var tc) && tc.ValueKind == JsonValueKind.String ? tc.GetString() : null,
                AddBosToken = OptionalBool(root, "add_bos_token", source),
                AddEosToken = OptionalBool(root, "add_eos_token", source),
                ModelMaxLength = root.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetDouble() : null,
                ChatTemplates = Templates(root, source),
            };
        }
    }

    // A special token is either a string or an AddedToken object {"content": ..., ...}.
    private static string? TokenContent(JsonElement root, string field, string source)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        throw new UserException($"{source}: field '{field}' must be a string or an object with a string 'content'");
    }

    private static bool? OptionalBool(JsonElement root, string field, string source)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new UserException($"{source}: field '{field}' must be true or false"),
        };
    }

    private static Dictionary<string, string> Templates(JsonElement root, string source)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!root.TryGetProperty("chat_template", out var t) || t.ValueKind == JsonValueKind.Null) return result;
        if (t.ValueKind == JsonValueKind.String)
        {
            result["default"] = t.GetString()!;
            return result;
        }
        if (t.ValueKind != JsonValueKind.Array)
            throw new UserException($"{source}: field 'chat_template' must be a string or a list of {{\"name\", \"template\"}} objects");
        int i = 0;
        foreach (var item in t.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("template", out var body) || body.ValueKind != JsonValueKind.String)
                throw new UserException($"{source}: chat_template[{i}] must be an object with string fields 'name' and 'template'");
            result[n.GetString()!] = body.GetString()!;
            i++;
        }
        return result;
    }
}
