using System.Globalization;
using System.Text.RegularExpressions;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Models.Safetensors;

namespace SharpTune.Training;

/// <summary>
/// LoRA adapters in PEFT's folder layout, as <c>PeftModel.save_pretrained</c> writes them and
/// <c>PeftModel.from_pretrained</c> reads them: <c>adapter_config.json</c> (see <see cref="ConfigFileName"/>) and
/// <c>adapter_model.safetensors</c> with one <c>lora_A.weight</c> <c>[r, in]</c> and one <c>lora_B.weight</c>
/// <c>[out, r]</c> per adapted projection, keyed <c>base_model.model.model.layers.{L}.self_attn.q_proj.lora_A.weight</c>
/// (PEFT's <c>get_peft_model_state_dict</c> drops the adapter name <c>default</c>; keys that keep it,
/// <c>….lora_A.default.weight</c>, are accepted on load).
/// </summary>
public static partial class PeftAdapter
{
    /// <summary>The configuration file PEFT writes (<c>CONFIG_NAME</c>).</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>The weights file PEFT writes with <c>safe_serialization=True</c>, its default (<c>SAFETENSORS_WEIGHTS_NAME</c>).</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The pickle weights file of <c>safe_serialization=False</c>; refused, never unpickled.</summary>
    public const string PickleWeightsFileName = "adapter_model.bin";

    /// <summary>The <c>lora_A</c> key of the module whose PEFT prefix is <paramref name="peftPrefix"/>.</summary>
    public static string KeyA(string peftPrefix) => peftPrefix + ".lora_A.weight";

    /// <summary>The <c>lora_B</c> key of the module whose PEFT prefix is <paramref name="peftPrefix"/>.</summary>
    public static string KeyB(string peftPrefix) => peftPrefix + ".lora_B.weight";

    /// <summary>
    /// Writes <paramref name="adapter"/> into the new or empty folder <paramref name="directory"/>, atomically (the
    /// folder is filled under a temporary sibling name and renamed when complete; on failure nothing appears). A
    /// non-empty folder is refused with a <see cref="UserException"/>. <paramref name="baseModelPath"/> becomes
    /// <c>base_model_name_or_path</c> (null writes null).
    /// </summary>
    public static void Save(string directory, LoraAdapterWeights adapter, string? baseModelPath) =>
        AtomicDirectory.Create(directory, tmp => WriteInto(tmp, adapter, baseModelPath));

    /// <summary>
    /// Like <see cref="Save"/>, but replaces an existing adapter folder (one holding adapter_config.json, or an empty
    /// one), as a trainer re-saving a checkpoint needs: the new folder is written under a temporary sibling, the old
    /// one is renamed aside, the new one renamed into place, and the old one deleted. Readers see the old or the new
    /// adapter, never a mixture (<see cref="AtomicDirectory.Replace"/>). Any other file in the old folder is deleted
    /// with it. A non-empty folder without adapter_config.json is refused, so a mistyped path cannot wipe an unrelated
    /// folder.
    /// </summary>
    public static void SaveReplacing(string directory, LoraAdapterWeights adapter, string? baseModelPath)
    {
        var full = Path.GetFullPath(directory.TrimEnd('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(full) || !Directory.EnumerateFileSystemEntries(full).Any())
        {
            Save(directory, adapter, baseModelPath);
            return;
        }
        if (!File.Exists(Path.Combine(full, ConfigFileName)))
            throw new UserException($"{directory}: folder is not empty and holds no {ConfigFileName}; refusing to replace it with an adapter");
        AtomicDirectory.Replace(full, tmp => WriteInto(tmp, adapter, baseModelPath));
    }

    private static void WriteInto(string dir, LoraAdapterWeights adapter, string? baseModelPath)
    {
        var lora = adapter.Config;
        lora.Validate();
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFileName), PeftAdapterConfigJson.Serialize(lora, baseModelPath));
        var seen = new HashSet<(int, LoraTarget)>();
        var tensors = new List<(string Name, long[] Shape, float[] Values)>();
        foreach (var m in adapter.Modules)
        {
            if (!lora.Targets.Contains(m.Target))
                throw new ArgumentException($"module {m.PeftPrefix} adapts {m.Target.ModuleName()}, which the adapter's targets do not list", nameof(adapter));
            if (!seen.Add((m.Layer, m.Target)))
                throw new ArgumentException($"module {m.PeftPrefix} appears twice", nameof(adapter));
            if (m.Layer < 0 || m.InFeatures < 1 || m.OutFeatures < 1
                || m.A.Length != (long)lora.Rank * m.InFeatures || m.B.Length != (long)m.OutFeatures * lora.Rank)
                throw new ArgumentException(
                    $"module {m.PeftPrefix}: A has {m.A.Length} values and B {m.B.Length}; rank {lora.Rank} with [out {m.OutFeatures}, in {m.InFeatures}] needs {(long)lora.Rank * m.InFeatures} and {(long)m.OutFeatures * lora.Rank}",
                    nameof(adapter));
            tensors.Add((KeyA(m.PeftPrefix), [lora.Rank, m.InFeatures], m.A));
            tensors.Add((KeyB(m.PeftPrefix), [m.OutFeatures, lora.Rank], m.B));
        }
        // safetensors' save_file orders tensors by name (all are F32), so the file matches PEFT's byte for byte in layout.
        using var source = new InMemoryTensorSource();
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal)) source.Add(t.Name, t.Shape, t.Values);
        SafetensorsWriter.Write(Path.Combine(dir, WeightsFileName), source, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>
    /// Reads the adapter in <paramref name="directory"/> for the model <paramref name="config"/> describes: every
    /// layer must carry <c>lora_A</c> <c>[r, in]</c> and <c>lora_B</c> <c>[out, r]</c> for every target in
    /// <c>target_modules</c>, with no other tensor. F32, BF16 and F16 tensors are widened to float32. Every problem
    /// (missing files, bad JSON, unsupported options, missing, unexpected or mis-shaped tensors) is a
    /// <see cref="UserException"/> naming the file and the field or tensors.
    /// </summary>
    public static LoraAdapterWeights Load(string directory, ModelConfig config)
    {
        var (parsed, weightsPath) = OpenFolder(directory);
        using var reader = SafetensorsReader.Open(weightsPath);
        var lora = parsed.Lora;
        var matched = Match(reader, lora, config.NumLayers, (layer, target) => target.Shape(config), weightsPath,
            $"config.json (num_hidden_layers {config.NumLayers})");
        var modules = matched.Select(m => new LoraModuleWeights(m.Layer, m.Target, m.Out, m.In, reader.ReadSingles(m.A), reader.ReadSingles(m.B))).ToList();
        return new LoraAdapterWeights(lora, modules);
    }

    /// <summary>
    /// Reads the configuration and the tensor layout of the adapter in <paramref name="directory"/> without a base
    /// model: the same checks as <see cref="Load"/> except that layers and feature sizes are taken from the tensors
    /// (layers 0 … max present, each with every target).
    /// </summary>
    public static PeftAdapterInfo ReadInfo(string directory)
    {
        var (parsed, weightsPath) = OpenFolder(directory);
        using var reader = SafetensorsReader.Open(weightsPath);
        int layers = 0;
        foreach (var name in reader.Names)
            if (ParseKey(name) is { } k) layers = Math.Max(layers, k.Layer + 1);
        if (layers == 0)
            throw new UserException($"{weightsPath}: no LoRA tensors (expected keys such as {KeyA(parsed.Lora.Targets[0].PeftPrefix(0))})");
        (int Out, int In) FromTensors(int layer, LoraTarget target)
        {
            var prefix = Prefix(layer, target);
            int inF = Find(reader, KeyA(prefix)) is { } a && reader.GetInfo(a).Shape is [_, var i] ? (int)Math.Min(i, int.MaxValue) : -1;
            int outF = Find(reader, KeyB(prefix)) is { } b && reader.GetInfo(b).Shape is [var o, _] ? (int)Math.Min(o, int.MaxValue) : -1;
            return (outF, inF);
        }
        var matched = Match(reader, parsed.Lora, layers, FromTensors, weightsPath, $"the layers present (0 to {layers - 1})");
        return new PeftAdapterInfo(directory, parsed.Lora, parsed.BaseModelNameOrPath, parsed.TaskType, layers,
            matched.Select(m => (m.Layer, m.Target, m.Out, m.In)).ToList());
    }

    private static (PeftAdapterConfigJson.Parsed Parsed, string WeightsPath) OpenFolder(string directory)
    {
        if (File.Exists(directory)) throw new UserException($"{directory}: is a file; expected a PEFT adapter folder ({ConfigFileName}, {WeightsFileName})");
        if (!Directory.Exists(directory)) throw new UserException($"{directory}: adapter folder not found");
        var weights = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weights))
        {
            var pickle = Path.Combine(directory, PickleWeightsFileName);
            if (File.Exists(pickle))
                throw new UserException($"{pickle}: PyTorch pickle adapters are not loaded (unpickling can run arbitrary code); save the adapter as {WeightsFileName}, "
                    + "e.g. in Python: PeftModel.from_pretrained(base, dir).save_pretrained(out, safe_serialization=True)");
        }
        var parsed = PeftAdapterConfigJson.Parse(Path.Combine(directory, ConfigFileName));
        if (!File.Exists(weights)) throw new UserException($"{weights}: file not found (a PEFT adapter folder holds {ConfigFileName} and {WeightsFileName})");
        return (parsed, weights);
    }

    private sealed record Matched(int Layer, LoraTarget Target, string A, string B, int Out, int In);

    /// <summary>
    /// Pairs the file's tensors with the expected (layer, target) modules and checks their shapes against
    /// <paramref name="expected"/> and r; reports missing, unexpected, doubled and mis-shaped tensors together.
    /// </summary>
    private static List<Matched> Match(SafetensorsReader reader, LoraConfig lora, int layers, Func<int, LoraTarget, (int Out, int In)> expected,
        string weightsPath, string layersSource)
    {
        var unexpected = new List<string>();
        var doubled = new List<string>();
        var byKey = new Dictionary<string, string>(StringComparer.Ordinal); // canonical key → name in the file
        foreach (var name in reader.Names)
        {
            var k = ParseKey(name);
            if (k is null || k.Value.Layer >= layers || !lora.Targets.Contains(k.Value.Target)) { unexpected.Add(name); continue; }
            if (!byKey.TryAdd(k.Value.Canonical, name)) doubled.Add($"{byKey[k.Value.Canonical]} and {name}");
        }
        var missing = new List<string>();
        var misshaped = new List<string>();
        var result = new List<Matched>();
        for (int l = 0; l < layers; l++)
            foreach (var t in lora.Targets)
            {
                var prefix = Prefix(l, t);
                var (outF, inF) = expected(l, t);
                var a = byKey.GetValueOrDefault(KeyA(prefix));
                var b = byKey.GetValueOrDefault(KeyB(prefix));
                if (a is null) missing.Add(KeyA(prefix));
                if (b is null) missing.Add(KeyB(prefix));
                bool ok = a is not null && b is not null;
                if (a is not null && !reader.GetInfo(a).Shape.SequenceEqual([(long)lora.Rank, inF]))
                {
                    misshaped.Add($"{a} is [{string.Join(", ", reader.GetInfo(a).Shape)}], expected [{lora.Rank}, {(inF < 0 ? "in" : inF)}] ([r, in_features])");
                    ok = false;
                }
                if (b is not null && !reader.GetInfo(b).Shape.SequenceEqual([(long)outF, lora.Rank]))
                {
                    misshaped.Add($"{b} is [{string.Join(", ", reader.GetInfo(b).Shape)}], expected [{(outF < 0 ? "out" : outF)}, {lora.Rank}] ([out_features, r])");
                    ok = false;
                }
                if (ok) result.Add(new Matched(l, t, a!, b!, outF, inF));
            }
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing {Listing(missing)}");
        if (unexpected.Count > 0)
            problems.Add($"unexpected {Listing(unexpected)} (expected only lora_A/lora_B of target_modules {string.Join(", ", lora.Targets.Select(t => t.ModuleName()))} in layers 0 to {layers - 1})");
        if (doubled.Count > 0) problems.Add($"stored twice (with and without the adapter name): {string.Join("; ", doubled.Take(5))}");
        if (misshaped.Count > 0)
            problems.Add($"wrong shape (r = {lora.Rank} in {ConfigFileName}): {string.Join("; ", misshaped.Take(5))}{(misshaped.Count > 5 ? $"; and {misshaped.Count - 5} more" : "")}");
        if (problems.Count > 0)
            throw new UserException($"{weightsPath}: tensors do not match {ConfigFileName} and {layersSource}: {string.Join("; ", problems)}");
        return result;
    }

    private static string Prefix(int layer, LoraTarget target) => target.PeftPrefix(layer);

    /// <summary>The file's name for canonical key <paramref name="canonical"/>, with or without the <c>.default</c> segment.</summary>
    private static string? Find(SafetensorsReader reader, string canonical)
    {
        if (reader.TryGetInfo(canonical, out _)) return canonical;
        var withDefault = canonical[..^".weight".Length] + ".default.weight";
        return reader.TryGetInfo(withDefault, out _) ? withDefault : null;
    }

    [GeneratedRegex(@"^base_model\.model\.model\.layers\.(0|[1-9][0-9]{0,8})\.([a-z_]+\.[a-z_]+)\.lora_([AB])(\.default)?\.weight$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    private static (int Layer, LoraTarget Target, string Canonical)? ParseKey(string name)
    {
        var m = KeyPattern().Match(name);
        if (!m.Success) return null;
        var path = m.Groups[2].Value;
        var target = LoraTargets.All.Cast<LoraTarget?>().FirstOrDefault(t => t!.Value.ModulePath() == path);
        if (target is null) return null;
        int layer = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var prefix = Prefix(layer, target.Value);
        return (layer, target.Value, m.Groups[3].Value == "A" ? KeyA(prefix) : KeyB(prefix));
    }

    private static string Listing(List<string> names) =>
        $"{names.Count} tensor{(names.Count == 1 ? "" : "s")}: {string.Join(", ", names.Take(5))}{(names.Count > 5 ? $", and {names.Count - 5} more" : "")}";
}
