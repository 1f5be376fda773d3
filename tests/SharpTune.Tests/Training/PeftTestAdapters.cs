using System.Text.Json.Nodes;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Tests.Models;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

/// <summary>Small LoRA adapters and folder edits shared by the PEFT adapter tests.</summary>
internal static class PeftTestAdapters
{
    /// <summary>A tiny Qwen3 config whose feature sizes are not multiples of the SIMD width (tails are exercised).</summary>
    public static ModelConfig Config(int hidden = 36, int layers = 2, int intermediate = 70, bool tied = false) =>
        RandomModels.Config(ModelArchitecture.Qwen3, tied, hidden: hidden, layers: layers, heads: 4, kvHeads: 2, headDim: 10, intermediate: intermediate);

    /// <summary>An initialized adapter whose B is random too (a fresh B is zero, which would hide mistakes).</summary>
    public static LoraAdapterWeights Random(ModelConfig config, LoraConfig lora, ulong seed = 5)
    {
        var adapter = LoraInitializer.Initialize(config, lora, seed);
        var rng = new Random((int)seed);
        foreach (var m in adapter.Modules)
            for (int i = 0; i < m.B.Length; i++) m.B[i] = (float)(rng.NextDouble() - 0.5);
        return adapter;
    }

    /// <summary>r 8, alpha 16, q_proj and v_proj.</summary>
    public static LoraConfig QV(bool rslora = false) => new() { Rank = 8, Alpha = 16, Dropout = 0.05, UseRslora = rslora, Targets = [LoraTarget.QProj, LoraTarget.VProj] };

    /// <summary>Saves a random adapter for <paramref name="config"/> into <paramref name="dir"/> and returns it.</summary>
    public static LoraAdapterWeights Write(string dir, ModelConfig config, LoraConfig? lora = null)
    {
        var adapter = Random(config, lora ?? QV());
        PeftAdapter.Save(dir, adapter, "base/model");
        return adapter;
    }

    /// <summary>Rewrites adapter_model.safetensors through <paramref name="edit"/> (a copy of its tensors in, the new set out).</summary>
    public static void RewriteWeights(string dir, Action<InMemoryTensorSource, SafetensorsReader> edit)
    {
        var path = Path.Combine(dir, PeftAdapter.WeightsFileName);
        var copy = new InMemoryTensorSource();
        using (var reader = SafetensorsReader.Open(path))
            edit(copy, reader);
        SafetensorsWriter.Write(path, copy);
    }

    /// <summary>Copies every tensor of <paramref name="reader"/> into <paramref name="to"/>, renamed by <paramref name="rename"/> (null drops it).</summary>
    public static void CopyAll(SafetensorsReader reader, InMemoryTensorSource to, Func<string, string?>? rename = null)
    {
        foreach (var name in reader.Names)
        {
            var newName = rename is null ? name : rename(name);
            if (newName is null) continue;
            var info = reader.GetInfo(name);
            to.Add(newName, info.DType, info.Shape, reader.GetBytes(name));
        }
    }

    /// <summary>Edits adapter_config.json as a JSON object.</summary>
    public static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, PeftAdapter.ConfigFileName);
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }
}
