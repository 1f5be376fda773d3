using System.Text.Json;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Numerics;

namespace SharpTune.Tests.Models;

/// <summary>
/// Small random decoders built in memory for the engine tests, written as config.json + model.safetensors for
/// the Python reference. (Stands in for ModelInitializer from the checkpoint work until the branches merge.)
/// </summary>
public static class RandomModels
{
    public static ModelConfig Config(ModelArchitecture arch, bool tied, string dtype = "float32", RopeScaling? scaling = null,
        int hidden = 40, int layers = 2, int heads = 4, int kvHeads = 2, int headDim = 16, int intermediate = 72, int vocab = 97, bool attentionBias = false) => new()
    {
        Architecture = arch,
        HiddenSize = hidden,
        NumLayers = layers,
        NumHeads = heads,
        NumKvHeads = kvHeads,
        HeadDim = headDim,
        IntermediateSize = intermediate,
        VocabSize = vocab,
        RmsNormEps = 1e-6,
        RopeTheta = arch == ModelArchitecture.Llama ? 500000 : 10000,
        RopeScaling = scaling,
        MaxPositionEmbeddings = 256,
        TieWordEmbeddings = tied,
        TorchDtype = dtype,
        AttentionBias = arch == ModelArchitecture.Qwen2 || attentionBias,
        EosTokenIds = [vocab - 1],
    };

    /// <summary>Every tensor of <paramref name="c"/>'s architecture, random with a fixed seed (scales chosen so activations are O(1)).</summary>
    public static InMemoryTensorSource Weights(ModelConfig c, int seed, bool bf16)
    {
        var rng = new Random(seed);
        var src = new InMemoryTensorSource();
        void Add(string name, float mean, float std, params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, d) => a * d);
            var v = new float[n];
            for (long i = 0; i < n; i++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                v[i] = mean + std * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            if (bf16)
            {
                var bits = v.Select(BFloat16.FromSingle).ToArray();
                src.Add(name, TensorDType.BF16, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()));
            }
            else src.Add(name, shape, v);
        }
        float linear = 1f / MathF.Sqrt(c.HiddenSize);
        Add("model.embed_tokens.weight", 0, 1f, c.VocabSize, c.HiddenSize);
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", 1, 0.1f, c.HiddenSize);
            Add(p + "self_attn.q_proj.weight", 0, linear, c.QueryDim, c.HiddenSize);
            Add(p + "self_attn.k_proj.weight", 0, linear, c.KvDim, c.HiddenSize);
            Add(p + "self_attn.v_proj.weight", 0, linear, c.KvDim, c.HiddenSize);
            Add(p + "self_attn.o_proj.weight", 0, 1f / MathF.Sqrt(c.QueryDim), c.HiddenSize, c.QueryDim);
            if (c.AttentionBias)
            {
                Add(p + "self_attn.q_proj.bias", 0, 0.2f, c.QueryDim);
                Add(p + "self_attn.k_proj.bias", 0, 0.2f, c.KvDim);
                Add(p + "self_attn.v_proj.bias", 0, 0.2f, c.KvDim);
            }
            if (c.OutputProjectionBias) Add(p + "self_attn.o_proj.bias", 0, 0.2f, c.HiddenSize);
            if (c.QkNorm)
            {
                Add(p + "self_attn.q_norm.weight", 1, 0.2f, c.HeadDim);
                Add(p + "self_attn.k_norm.weight", 1, 0.2f, c.HeadDim);
            }
            Add(p + "post_attention_layernorm.weight", 1, 0.1f, c.HiddenSize);
            Add(p + "mlp.gate_proj.weight", 0, linear, c.IntermediateSize, c.HiddenSize);
            Add(p + "mlp.up_proj.weight", 0, linear, c.IntermediateSize, c.HiddenSize);
            Add(p + "mlp.down_proj.weight", 0, 1f / MathF.Sqrt(c.IntermediateSize), c.HiddenSize, c.IntermediateSize);
        }
        Add("model.norm.weight", 1, 0.1f, c.HiddenSize);
        if (!c.TieWordEmbeddings) Add("lm_head.weight", 0, linear, c.VocabSize, c.HiddenSize);
        return src;
    }

    /// <summary>Writes config.json (transformers' field names) and model.safetensors into <paramref name="dir"/>.</summary>
    public static void Write(string dir, ModelConfig c, InMemoryTensorSource weights)
    {
        Directory.CreateDirectory(dir);
        var cfg = new Dictionary<string, object?>
        {
            ["model_type"] = c.Architecture.ToString().ToLowerInvariant(),
            ["hidden_size"] = c.HiddenSize,
            ["num_hidden_layers"] = c.NumLayers,
            ["num_attention_heads"] = c.NumHeads,
            ["num_key_value_heads"] = c.NumKvHeads,
            ["head_dim"] = c.HeadDim,
            ["intermediate_size"] = c.IntermediateSize,
            ["vocab_size"] = c.VocabSize,
            ["rms_norm_eps"] = c.RmsNormEps,
            ["rope_theta"] = c.RopeTheta,
            ["max_position_embeddings"] = c.MaxPositionEmbeddings,
            ["tie_word_embeddings"] = c.TieWordEmbeddings,
            ["torch_dtype"] = c.TorchDtype,
            ["attention_bias"] = c.AttentionBias,
            ["eos_token_id"] = c.EosTokenIds.ToArray(),
        };
        if (c.RopeScaling is { } s)
            cfg["rope_scaling"] = new Dictionary<string, object>
            {
                ["rope_type"] = s.Type, ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFreqFactor,
                ["high_freq_factor"] = s.HighFreqFactor, ["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings,
            };
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(cfg));
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), weights);
    }
}
