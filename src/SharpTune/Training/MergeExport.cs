using System.Globalization;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Text.Templates;
using YamlDotNet.RepresentationModel;

namespace SharpTune.Training;

/// <summary>
/// LLaMA-Factory's merge configuration (<c>llamafactory-cli export CONFIG.yaml</c>): the keys
/// <c>model_name_or_path</c>, <c>adapter_name_or_path</c>, <c>template</c>, <c>export_dir</c>, <c>export_size</c> (GB per
/// shard, 10⁹ bytes as transformers reads "5GB"), <c>export_legacy_format</c> (must be false: safetensors), plus
/// <c>finetuning_type</c> (lora), <c>export_device</c> and <c>trust_remote_code</c>, which do not change the output.
/// </summary>
/// <param name="Source">The file, for messages.</param>
/// <param name="ModelPath">The base model folder.</param>
/// <param name="AdapterPath">The PEFT adapter folder, or null to re-export the base.</param>
/// <param name="Template">The template key (a LLaMA-Factory name, see <see cref="Configuration.TemplateTable"/>, or a .jinja path), or null.</param>
/// <param name="ExportDir">The folder to write.</param>
/// <param name="ExportSizeGb">Shard size in GB (default 5, LLaMA-Factory's).</param>
public sealed record MergeExportConfig(string Source, string ModelPath, string? AdapterPath, string? Template, string ExportDir, double ExportSizeGb)
{
    private static readonly string[] Known =
        ["model_name_or_path", "adapter_name_or_path", "template", "export_dir", "export_size", "export_legacy_format", "finetuning_type", "export_device", "trust_remote_code"];

    /// <summary>Reads <paramref name="path"/>; relative paths are taken from the working directory (as LLaMA-Factory does). Errors name <c>file:line</c> and the key.</summary>
    public static MergeExportConfig Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: config file not found");
        var yaml = new YamlStream();
        try { using var reader = new StreamReader(path); yaml.Load(reader); }
        catch (YamlDotNet.Core.YamlException e) { throw new UserException($"{path}:{e.Start.Line}: not valid YAML ({e.Message})"); }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new UserException($"{path}: expected a mapping of LLaMA-Factory export keys (model_name_or_path, adapter_name_or_path, export_dir, …)");
        var values = new Dictionary<string, (string? Value, long Line)>();
        foreach (var (k, v) in root.Children)
        {
            var key = ((YamlScalarNode)k).Value ?? "";
            if (!Known.Contains(key)) throw new UserException($"{path}:{k.Start.Line}: unknown key '{key}' for export; expected one of {string.Join(", ", Known)}");
            if (v is not YamlScalarNode scalar) throw new UserException($"{path}:{v.Start.Line}: {key}: expected a single value");
            values[key] = (scalar.Value is "" or "null" or "~" ? null : scalar.Value, k.Start.Line);
        }
        string? Get(string key) => values.TryGetValue(key, out var v) ? v.Value : null;
        string Where(string key) => values.TryGetValue(key, out var v) ? $"{path}:{v.Line}: {key}" : $"{path}: {key}";
        string Required(string key) => Get(key) ?? throw new UserException($"{Where(key)}: required");

        if (Get("export_legacy_format") is { } legacy && !legacy.Equals("false", StringComparison.OrdinalIgnoreCase))
            throw new UserException($"{Where("export_legacy_format")}: only false (safetensors) is supported; the legacy pickle format is not written");
        if (Get("finetuning_type") is { } ft && ft != "lora")
            throw new UserException($"{Where("finetuning_type")}: expected lora (a full fine-tune is already a model folder), got '{ft}'");
        if (Get("export_device") is { } device && device is not ("cpu" or "auto"))
            throw new UserException($"{Where("export_device")}: expected cpu or auto, got '{device}'");
        double size = 5;
        if (Get("export_size") is { } s && !(double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out size) && size > 0 && double.IsFinite(size)))
            throw new UserException($"{Where("export_size")}: expected a positive number of GB per shard, got '{s}'");
        return new MergeExportConfig(path, Required("model_name_or_path"), Get("adapter_name_or_path"), Get("template"), Required("export_dir"), size);
    }
}

/// <summary>What an export wrote.</summary>
/// <param name="Shards">The safetensors files written.</param>
/// <param name="Modules">LoRA modules merged (0 without an adapter).</param>
/// <param name="ChatTemplate">Where the chat template came from.</param>
public sealed record MergeExportResult(IReadOnlyList<string> Shards, int Modules, string ChatTemplate);

/// <summary>
/// <c>sharptune export</c>: merges a PEFT LoRA adapter into its base (<see cref="AdapterMerger"/>) and writes a Hugging
/// Face folder atomically: config.json, <c>model.safetensors</c> or, above <c>export_size</c>, shards with
/// <c>model.safetensors.index.json</c>, the tokenizer files, and the chat template (<c>chat_template.jinja</c>: the
/// template key's when it names a built-in or a .jinja file, else the base's).
/// </summary>
public static class MergeExport
{
    /// <summary>Runs the export that <paramref name="config"/> describes.</summary>
    public static MergeExportResult Run(MergeExportConfig config)
    {
        using var model = ModelFolder.Open(config.ModelPath);
        var adapter = config.AdapterPath is null ? null : PeftAdapter.Load(config.AdapterPath, model.Config);
        string? templateSource = null, templateFrom = "the base model's";
        if (config.Template is { } t)
        {
            if (t.EndsWith(".jinja", StringComparison.Ordinal))
            {
                SharpTune.IO.InputPaths.RequireFile(t, $"{config.Source}: template: file not found: {t}");
                templateSource = File.ReadAllText(t);
                templateFrom = t;
            }
            else
            {
                // LLaMA-Factory's template names, resolved as training configs resolve them (the model's own template
                // when it is of that family, else SharpTune's built-in of the family).
                var choice = Configuration.TemplateTable.Resolve(t, config.ModelPath, config.Source);
                if (!choice.UseModelTemplate && choice.Builtin is { } builtin)
                {
                    templateSource = ChatTemplate.Builtin(builtin).Source;
                    templateFrom = $"built-in '{builtin}' (template {t})";
                }
                else templateFrom = $"the base model's (template {t} is of its family)";
            }
        }
        var merged = adapter is null ? null : AdapterMerger.MergeInto(model.Weights, model.Config, adapter);
        try
        {
            ITensorSource weights = merged ?? model.Weights;
            long shardBytes = (long)Math.Min(config.ExportSizeGb * 1e9, long.MaxValue / 2);
            long total = weights.Names.Sum(n => weights.TryGetInfo(n, out var i) ? i.ByteLength : 0);
            IReadOnlyList<string> shards = [];
            AtomicDirectory.Create(config.ExportDir, tmp =>
            {
                File.Copy(Path.Combine(config.ModelPath, "config.json"), Path.Combine(tmp, "config.json"));
                if (total > shardBytes) shards = SafetensorsWriter.WriteSharded(tmp, weights, shardBytes);
                else
                {
                    SafetensorsWriter.Write(Path.Combine(tmp, SafetensorsCheckpoint.SingleFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
                    shards = [SafetensorsCheckpoint.SingleFileName];
                }
                foreach (var f in ModelInitializer.TokenizerFiles)
                {
                    var from = Path.Combine(config.ModelPath, f);
                    if (File.Exists(from)) File.Copy(from, Path.Combine(tmp, f));
                }
                if (templateSource is not null) WriteChatTemplate(tmp, templateSource);
            });
            return new MergeExportResult(shards, adapter?.Modules.Count ?? 0, templateFrom);
        }
        finally { merged?.Dispose(); }
    }

    // transformers reads chat_template.jinja first and tokenizer_config.json's chat_template otherwise; SharpTune
    // reads the latter: both get the template.
    private static void WriteChatTemplate(string dir, string source)
    {
        File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), source);
        var configPath = Path.Combine(dir, "tokenizer_config.json");
        if (!File.Exists(configPath)) return;
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath)) as System.Text.Json.Nodes.JsonObject
            ?? throw new UserException($"{configPath}: expected a JSON object");
        node["chat_template"] = source;
        File.WriteAllText(configPath, node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }
}
