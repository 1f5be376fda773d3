using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SharpTune.Training;

/// <summary>
/// PEFT's <c>adapter_config.json</c> for a LoRA adapter: written as <c>PeftConfig.save_pretrained</c> writes it
/// (<c>json.dumps(to_dict(), indent=2, sort_keys=True)</c>, no final newline) and read back with every option whose
/// computation SharpTune does not implement refused by name.
/// </summary>
internal static class PeftAdapterConfigJson
{
    /// <summary>What SharpTune keeps of an adapter_config.json.</summary>
    /// <param name="Lora">The hyper-parameters.</param>
    /// <param name="BaseModelNameOrPath"><c>base_model_name_or_path</c>, or null.</param>
    /// <param name="TaskType"><c>task_type</c>, or null.</param>
    internal sealed record Parsed(LoraConfig Lora, string? BaseModelNameOrPath, string? TaskType);

    // init_lora_weights values that leave the base weights untouched; PiSSA, OLoRA, CorDA and LoftQ rewrite them, so
    // their adapters only make sense on a residual base model that is not the one in base_model_name_or_path.
    private static readonly string[] BaseKeepingInits = ["gaussian", "eva", "orthogonal"];

    /// <summary>
    /// The file's text: PEFT's LoRA fields with PEFT's defaults for everything SharpTune does not use. Fields that
    /// newer PEFT versions added (e.g. <c>lora_bias</c>) are included only where older versions drop unknown keys
    /// with a warning; <c>peft_version</c> is left out because SharpTune is not PEFT.
    /// </summary>
    public static string Serialize(LoraConfig lora, string? baseModelNameOrPath)
    {
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = "{}",
            ["auto_mapping"] = "null",
            ["base_model_name_or_path"] = baseModelNameOrPath is null ? "null" : PyString(baseModelNameOrPath),
            ["bias"] = "\"none\"",
            ["corda_config"] = "null",
            ["eva_config"] = "null",
            ["exclude_modules"] = "null",
            ["fan_in_fan_out"] = "false",
            ["inference_mode"] = "true",
            ["init_lora_weights"] = "true",
            ["layer_replication"] = "null",
            ["layers_pattern"] = "null",
            ["layers_to_transform"] = "null",
            ["loftq_config"] = "{}",
            ["lora_alpha"] = PyNumber(lora.Alpha, integralAsInt: true),
            ["lora_bias"] = "false",
            ["lora_dropout"] = PyNumber(lora.Dropout, integralAsInt: false),
            ["megatron_config"] = "null",
            ["megatron_core"] = "\"megatron.core\"",
            ["modules_to_save"] = "null",
            ["peft_type"] = "\"LORA\"",
            ["r"] = lora.Rank.ToString(CultureInfo.InvariantCulture),
            ["rank_pattern"] = "{}",
            ["revision"] = "null",
            ["target_modules"] = "[\n" + string.Join(",\n", lora.Targets.Select(t => "    " + PyString(t.ModuleName()))) + "\n  ]",
            ["task_type"] = "\"CAUSAL_LM\"",
            ["trainable_token_indices"] = "null",
            ["use_dora"] = "false",
            ["use_rslora"] = lora.UseRslora ? "true" : "false",
        };
        return "{\n" + string.Join(",\n", fields.Select(f => $"  {PyString(f.Key)}: {f.Value}")) + "\n}";
    }

    /// <summary>Reads and validates <paramref name="path"/>; every problem is a <see cref="UserException"/> naming the file and the field.</summary>
    public static Parsed Parse(string path)
    {
        if (!File.Exists(path)) throw new UserException($"{path}: file not found (a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors)");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new UserException($"{path}: not valid JSON: {e.Message.Split(". ")[0]}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: expected a JSON object, got {root.ValueKind}");
            string Where(string field) => $"{path}: {field}";

            var peftType = OptionalString(root, "peft_type", path)
                ?? throw new UserException($"{Where("peft_type")} is missing; SharpTune loads LoRA adapters (peft_type \"LORA\")");
            if (peftType != "LORA")
                throw new UserException($"{Where("peft_type")} is \"{peftType}\"; SharpTune loads LoRA adapters only (peft_type \"LORA\")");
            var taskType = OptionalString(root, "task_type", path);
            if (taskType is not null && taskType != "CAUSAL_LM")
                throw new UserException($"{Where("task_type")} is \"{taskType}\"; SharpTune supports CAUSAL_LM adapters of decoder models");

            Refuse(root, "fan_in_fan_out", v => v.ValueKind == JsonValueKind.True, path, "fan_in_fan_out true (Conv1D-style [in, out] weights) is not supported; the decoders SharpTune runs store [out, in]");
            if (Has(root, "bias", out var bias) && !(bias.ValueKind == JsonValueKind.String && bias.GetString() == "none"))
                throw new UserException($"{Where("bias")} is {bias.GetRawText()}; only \"none\" is supported (no trained biases)");
            Refuse(root, "modules_to_save", NonEmpty, path, "fully trained extra modules are not supported; only LoRA matrices are (expected null or [])");
            Refuse(root, "use_dora", v => v.ValueKind == JsonValueKind.True, path, "DoRA (use_dora true) is not supported; only plain LoRA is");
            Refuse(root, "lora_bias", v => v.ValueKind == JsonValueKind.True, path, "a bias on lora_B (lora_bias true) is not supported");
            Refuse(root, "use_qalora", v => v.ValueKind == JsonValueKind.True, path, "QA-LoRA (use_qalora true) is not supported");
            // layers_pattern only matters together with layers_to_transform, so alone it is accepted as PEFT ignores it.
            Refuse(root, "layers_to_transform", v => v.ValueKind != JsonValueKind.Null, path, "adapting only some layers is not supported; SharpTune adapts every layer (expected null)");
            Refuse(root, "rank_pattern", NonEmpty, path, "per-module ranks are not supported; every module uses r (expected {})");
            Refuse(root, "alpha_pattern", NonEmpty, path, "per-module alphas are not supported; every module uses lora_alpha (expected {})");
            Refuse(root, "exclude_modules", NonEmpty, path, "excluding modules is not supported; every layer's target_modules are adapted (expected null)");
            Refuse(root, "layer_replication", NonEmpty, path, "layer replication is not supported (expected null)");
            Refuse(root, "trainable_token_indices", v => v.ValueKind != JsonValueKind.Null, path, "trainable tokens are not supported (expected null)");
            Refuse(root, "target_parameters", NonEmpty, path, "adapting nn.Parameters directly is not supported (expected null)");
            Refuse(root, "alora_invocation_tokens", v => v.ValueKind != JsonValueKind.Null, path, "activated LoRA (aLoRA) is not supported (expected null)");
            if (Has(root, "init_lora_weights", out var init) && init.ValueKind == JsonValueKind.String
                && !BaseKeepingInits.Contains(init.GetString()!.ToLowerInvariant(), StringComparer.Ordinal))
                throw new UserException($"{Where("init_lora_weights")} is \"{init.GetString()}\"; this initialization changes the base weights (PiSSA, OLoRA, CorDA, LoftQ), so the adapter does not apply to the original base model; convert it to plain LoRA with PEFT's save_pretrained(path_initial_model_for_weight_conversion=...)");

            int rank = IntField(root, "r", 8, path);
            double alpha = NumberField(root, "lora_alpha", 8, path);
            double dropout = NumberField(root, "lora_dropout", 0, path);
            bool rslora = BoolField(root, "use_rslora", false, path);
            var targets = Targets(root, path);
            var lora = new LoraConfig { Rank = rank, Alpha = alpha, Dropout = dropout, UseRslora = rslora, Targets = targets };
            try { lora.Validate(); }
            catch (UserException e) { throw new UserException($"{path}: {e.Message}"); }
            return new Parsed(lora, OptionalString(root, "base_model_name_or_path", path), taskType);
        }
    }

    private static IReadOnlyList<LoraTarget> Targets(JsonElement root, string path)
    {
        var supported = string.Join(", ", LoraTargets.All.Select(t => t.ModuleName()));
        if (!Has(root, "target_modules", out var v) || v.ValueKind == JsonValueKind.Null)
            throw new UserException($"{path}: target_modules is missing; expected a list of module names ({supported})");
        if (v.ValueKind == JsonValueKind.String)
        {
            if (v.GetString() == "all-linear") return LoraTargets.All;
            throw new UserException($"{path}: target_modules is the regular expression \"{v.GetString()}\"; SharpTune supports a list of module names ({supported}) or \"all-linear\"");
        }
        if (v.ValueKind != JsonValueKind.Array)
            throw new UserException($"{path}: target_modules: expected a list of module names, got {v.ValueKind}");
        var chosen = new HashSet<LoraTarget>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw new UserException($"{path}: target_modules: expected module names (strings), got {item.GetRawText()}");
            var name = item.GetString()!;
            // PEFT matches a listed name against the end of each module's path; "self_attn.q_proj" selects what "q_proj" does.
            var target = LoraTargets.All.Cast<LoraTarget?>().FirstOrDefault(t => t!.Value.ModuleName() == name || t.Value.ModulePath() == name)
                ?? throw new UserException($"{path}: target_modules: '{name}' is not a projection SharpTune adapts; supported: {supported}");
            chosen.Add(target);
        }
        if (chosen.Count == 0) throw new UserException($"{path}: target_modules is empty; expected at least one of {supported}");
        return LoraTargets.All.Where(chosen.Contains).ToList();
    }

    private static bool NonEmpty(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null => false,
        JsonValueKind.Array => v.GetArrayLength() > 0,
        JsonValueKind.Object => v.EnumerateObject().Any(),
        _ => true,
    };

    private static bool Has(JsonElement root, string field, out JsonElement value) => root.TryGetProperty(field, out value);

    private static void Refuse(JsonElement root, string field, Func<JsonElement, bool> unsupported, string path, string why)
    {
        if (Has(root, field, out var v) && unsupported(v))
            throw new UserException($"{path}: {field} is {Shorten(v.GetRawText())}; {why}");
    }

    private static string Shorten(string raw) => raw.Length <= 60 ? raw : raw[..57] + "...";

    private static string? OptionalString(JsonElement root, string field, string path)
    {
        if (!Has(root, field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new UserException($"{path}: {field}: expected a string, got {Shorten(v.GetRawText())}");
    }

    private static int IntField(JsonElement root, string field, int fallback, string path)
    {
        if (!Has(root, field, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        throw new UserException($"{path}: {field}: expected an integer, got {Shorten(v.GetRawText())}");
    }

    private static double NumberField(JsonElement root, string field, double fallback, string path)
    {
        if (!Has(root, field, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        throw new UserException($"{path}: {field}: expected a number, got {Shorten(v.GetRawText())}");
    }

    private static bool BoolField(JsonElement root, string field, bool fallback, string path)
    {
        if (!Has(root, field, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new UserException($"{path}: {field}: expected true or false, got {Shorten(v.GetRawText())}"),
        };
    }

    /// <summary>A JSON string as Python's <c>json.dumps</c> writes it (ensure_ascii: everything outside space..~ escaped, lowercase hex).</summary>
    internal static string PyString(string s) => Text.Jinja.PyJson.Dumps(s, ensureAscii: true, indent: null, itemSep: ", ", keySep: ": ", sortKeys: false);

    /// <summary>
    /// A number as Python prints it: an integral value as an int when <paramref name="integralAsInt"/> (PEFT's
    /// <c>lora_alpha</c> is an int), otherwise Python's float repr (shortest round trip, <c>0.0</c>, <c>1e-05</c>).
    /// </summary>
    internal static string PyNumber(double d, bool integralAsInt)
    {
        if (integralAsInt && d == Math.Floor(d) && Math.Abs(d) < 1e15) return ((long)d).ToString(CultureInfo.InvariantCulture);
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E')) return s.Replace("E", "e", StringComparison.Ordinal);
        return s.Contains('.') ? s : s + ".0";
    }
}
