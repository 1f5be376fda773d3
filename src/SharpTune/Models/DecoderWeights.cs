using System.Runtime.InteropServices;
using SharpTune.Engine;
using SharpTune.Numerics;

namespace SharpTune.Models;

/// <summary>One decoder layer's parameters in the parameter arena.</summary>
internal sealed class DecoderLayerWeights
{
    public required Tensor InputNorm { get; init; }          // [1, hidden]
    public required LinearWeight Q { get; init; }            // [heads·headDim, hidden]
    public required LinearWeight K { get; init; }            // [kvHeads·headDim, hidden]
    public required LinearWeight V { get; init; }            // [kvHeads·headDim, hidden]
    public required LinearWeight O { get; init; }            // [hidden, heads·headDim]
    public Tensor QBias { get; init; }                       // [1, heads·headDim] (Qwen2) or invalid
    public Tensor KBias { get; init; }                       // [1, kvHeads·headDim]
    public Tensor VBias { get; init; }                       // [1, kvHeads·headDim]
    public Tensor OBias { get; init; }                       // [1, hidden] (attention_bias on Llama/Qwen3) or invalid
    public Tensor QNorm { get; init; }                       // [1, headDim] (Qwen3) or invalid
    public Tensor KNorm { get; init; }                       // [1, headDim]
    public required Tensor PostAttentionNorm { get; init; }  // [1, hidden]
    public required LinearWeight Gate { get; init; }         // [intermediate, hidden]
    public required LinearWeight Up { get; init; }           // [intermediate, hidden]
    public required LinearWeight Down { get; init; }         // [hidden, intermediate]
}

/// <summary>
/// A decoder's parameters loaded by Hugging Face tensor name from an <see cref="ITensorSource"/> into one
/// backend arena (the parameter arena): linear weights in the backend's GEMM layout, norms and biases in fp32,
/// and the RoPE tables. With tied embeddings the LM head is the embedding weight itself (stored once).
/// </summary>
public sealed class DecoderWeights : IDisposable
{
    private readonly Arena _arena;

    private DecoderWeights(ModelConfig config, IComputeBackend backend, Arena arena)
    {
        Config = config;
        Backend = backend;
        _arena = arena;
    }

    /// <summary>The model's configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>The backend holding the parameters.</summary>
    public IComputeBackend Backend { get; }

    /// <summary>Bytes of the parameter arena.</summary>
    public long Bytes => _arena.Bytes;

    internal LinearWeight Embedding { get; private set; } = null!;   // [vocab, hidden]
    internal LinearWeight LmHead { get; private set; } = null!;      // [vocab, hidden]
    internal Tensor FinalNorm { get; private set; }                   // [1, hidden]
    internal Tensor RopeCos { get; private set; }                     // [positions, headDim/2]
    internal Tensor RopeSin { get; private set; }                     // [positions, headDim/2]
    internal DecoderLayerWeights[] Layers { get; private set; } = [];

    /// <summary>Loads every parameter of <paramref name="config"/>'s architecture; a missing or misshapen tensor is a <see cref="UserException"/>.</summary>
    public static DecoderWeights Load(ModelConfig config, ITensorSource source, IComputeBackend backend, WeightStorage storage = WeightStorage.Auto, int maxPositions = 0)
    {
        Validate(config);
        var arena = backend.CreateArena("parameters");
        var w = new DecoderWeights(config, backend, arena);
        try
        {
            w.LoadAll(source, storage, maxPositions);
            return w;
        }
        catch
        {
            arena.Dispose();
            throw;
        }
    }

    private static void Validate(ModelConfig c)
    {
        if (c.HiddenSize <= 0 || c.NumLayers <= 0 || c.NumHeads <= 0 || c.NumKvHeads <= 0 || c.HeadDim <= 0 || c.IntermediateSize <= 0 || c.VocabSize <= 0)
            throw new UserException("config.json: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, intermediate_size and vocab_size must be positive");
        if (c.NumHeads % c.NumKvHeads != 0)
            throw new UserException($"config.json: num_attention_heads ({c.NumHeads}) must be a multiple of num_key_value_heads ({c.NumKvHeads})");
        if (c.HeadDim % 2 != 0) throw new UserException($"config.json: head_dim ({c.HeadDim}) must be even for RoPE");
    }

    private void LoadAll(ITensorSource source, WeightStorage storage, int maxPositions)
    {
        var c = Config;
        bool bias = c.AttentionBias || c.Architecture == ModelArchitecture.Qwen2;
        Embedding = Linear(source, "model.embed_tokens.weight", c.VocabSize, c.HiddenSize, storage);
        LmHead = c.TieWordEmbeddings ? Embedding : Linear(source, "lm_head.weight", c.VocabSize, c.HiddenSize, storage);
        FinalNorm = Vector(source, "model.norm.weight", c.HiddenSize);
        var layers = new DecoderLayerWeights[c.NumLayers];
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            layers[i] = new DecoderLayerWeights
            {
                InputNorm = Vector(source, p + "input_layernorm.weight", c.HiddenSize),
                Q = Linear(source, p + "self_attn.q_proj.weight", c.QueryDim, c.HiddenSize, storage),
                K = Linear(source, p + "self_attn.k_proj.weight", c.KvDim, c.HiddenSize, storage),
                V = Linear(source, p + "self_attn.v_proj.weight", c.KvDim, c.HiddenSize, storage),
                O = Linear(source, p + "self_attn.o_proj.weight", c.HiddenSize, c.QueryDim, storage),
                QBias = bias ? Vector(source, p + "self_attn.q_proj.bias", c.QueryDim) : default,
                KBias = bias ? Vector(source, p + "self_attn.k_proj.bias", c.KvDim) : default,
                VBias = bias ? Vector(source, p + "self_attn.v_proj.bias", c.KvDim) : default,
                OBias = c.OutputProjectionBias ? Vector(source, p + "self_attn.o_proj.bias", c.HiddenSize) : default,
                QNorm = c.QkNorm ? Vector(source, p + "self_attn.q_norm.weight", c.HeadDim) : default,
                KNorm = c.QkNorm ? Vector(source, p + "self_attn.k_norm.weight", c.HeadDim) : default,
                PostAttentionNorm = Vector(source, p + "post_attention_layernorm.weight", c.HiddenSize),
                Gate = Linear(source, p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize, storage),
                Up = Linear(source, p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize, storage),
                Down = Linear(source, p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize, storage),
            };
        }
        Layers = layers;
        int positions = maxPositions > 0 ? maxPositions : Math.Min(c.MaxPositionEmbeddings, 1 << 17);
        var cos = new float[(long)positions * c.HeadDim / 2];
        var sin = new float[cos.Length];
        RopeTables.Fill(c, positions, cos, sin);
        RopeCos = _arena.Allocate(ElementType.F32, positions, c.HeadDim / 2);
        RopeSin = _arena.Allocate(ElementType.F32, positions, c.HeadDim / 2);
        Backend.Upload(cos, RopeCos);
        Backend.Upload(sin, RopeSin);
    }

    private static TensorInfo Info(ITensorSource source, string name, params long[] shape)
    {
        if (!source.TryGetInfo(name, out var info))
            throw new UserException($"checkpoint has no tensor '{name}' (needed for this architecture)");
        if (!info.Shape.SequenceEqual(shape))
            throw new UserException($"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] from config.json");
        return info;
    }

    private LinearWeight Linear(ITensorSource source, string name, int rows, int cols, WeightStorage storage)
    {
        var info = Info(source, name, rows, cols);
        var type = storage switch
        {
            WeightStorage.F32 => ElementType.F32,
            WeightStorage.BF16 => ElementType.BF16,
            _ => info.DType == TensorDType.BF16 ? ElementType.BF16 : ElementType.F32,
        };
        var weight = Backend.LoadLinear(source.GetBytes(name), info.DType, rows, cols, type, _arena);
        source.Release(name);
        return weight;
    }

    private Tensor Vector(ITensorSource source, string name, int n)
    {
        var info = Info(source, name, n);
        var raw = source.GetBytes(name);
        var values = new float[n];
        for (int i = 0; i < n; i++)
            values[i] = info.DType switch
            {
                TensorDType.F32 => MemoryMarshal.Cast<byte, float>(raw)[i],
                TensorDType.BF16 => BFloat16.ToSingle(MemoryMarshal.Cast<byte, ushort>(raw)[i]),
                _ => (float)MemoryMarshal.Cast<byte, Half>(raw)[i],
            };
        var t = _arena.Allocate(ElementType.F32, 1, n);
        Backend.Upload(values, t);
        return t;
    }

    /// <inheritdoc />
    public void Dispose() => _arena.Dispose();
}
