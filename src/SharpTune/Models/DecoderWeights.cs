using System.Runtime.InteropServices;
using SharpTune.Engine;
using SharpTune.Numerics;

namespace SharpTune.Models;

/// <summary>
/// A decoder's weights as the layer forward (<see cref="DecoderLayer"/>) reads them: loaded by Hugging Face tensor
/// name (<see cref="CheckpointLayout"/>) from an <see cref="ITensorSource"/> into one backend arena — linear weights in
/// the backend's GEMM layout, norms and biases in fp32, and the RoPE tables — or, internally, a view over a trainable
/// decoder's live parameters. With tied embeddings the LM head is the embedding weight itself (stored once). A LoRA
/// adapter can be attached to the projections unmerged (<c>SharpTune.Training.LoraAttachment</c>).
/// </summary>
public sealed class DecoderWeights : IDisposable
{
    private readonly Arena? _arena;

    internal DecoderWeights(ModelConfig config, IComputeBackend backend, Arena? arena)
    {
        Config = config;
        Backend = backend;
        _arena = arena;
    }

    /// <summary>The model's configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>The backend holding the parameters.</summary>
    public IComputeBackend Backend { get; }

    /// <summary>Bytes of the parameter arena (0 for a view over parameters owned elsewhere).</summary>
    public long Bytes => _arena?.Bytes ?? 0;

    internal ProjectionWeights Embedding { get; set; } = null!;   // [vocab, hidden]
    internal ProjectionWeights LmHead { get; set; } = null!;      // [vocab, hidden]
    internal Tensor FinalNorm { get; set; }                        // [1, hidden]
    internal Tensor RopeCos { get; set; }                          // [positions, headDim/2]
    internal Tensor RopeSin { get; set; }                          // [positions, headDim/2]
    internal DecoderLayerWeights[] Layers { get; set; } = [];

    /// <summary>Largest rank of the adapter attached to the projections (0: none): inference sizes its LoRA work space by it.</summary>
    internal int LoraRank { get; set; }

    /// <summary>What attached the adapter now in the projections' LoRA slots (null: none).</summary>
    internal object? AdapterOwner { get; set; }

    /// <summary>Set when a trainable decoder owns the LoRA slots: nothing else may attach or detach an adapter.</summary>
    internal bool AdapterLocked { get; set; }

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

    internal static void Validate(ModelConfig c)
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
        Embedding = Packed(source, CheckpointLayout.TensorName(TensorRole.Embedding), c.VocabSize, c.HiddenSize, storage, default);
        LmHead = c.TieWordEmbeddings ? Embedding : Packed(source, CheckpointLayout.TensorName(TensorRole.LmHead), c.VocabSize, c.HiddenSize, storage, default);
        FinalNorm = Vector(source, CheckpointLayout.TensorName(TensorRole.FinalNorm), c.HiddenSize);
        var layers = new DecoderLayerWeights[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            var projections = new ProjectionWeights[CheckpointLayout.Projections.Count];
            foreach (var p in CheckpointLayout.Projections)
            {
                var (outF, inF) = CheckpointLayout.ProjectionShape(c, p);
                var bias = CheckpointLayout.HasBias(c, p) ? Vector(source, CheckpointLayout.ProjectionBiasName(l, p), outF) : default;
                projections[(int)p] = Packed(source, CheckpointLayout.ProjectionWeightName(l, p), outF, inF, storage, bias);
            }
            layers[l] = new DecoderLayerWeights
            {
                InputNorm = Vector(source, CheckpointLayout.TensorName(TensorRole.AttentionNorm, l), c.HiddenSize),
                PostAttentionNorm = Vector(source, CheckpointLayout.TensorName(TensorRole.MlpNorm, l), c.HiddenSize),
                QNorm = c.QkNorm ? Vector(source, CheckpointLayout.TensorName(TensorRole.QueryNorm, l), c.HeadDim) : default,
                KNorm = c.QkNorm ? Vector(source, CheckpointLayout.TensorName(TensorRole.KeyNorm, l), c.HeadDim) : default,
                Projections = projections,
            };
        }
        Layers = layers;
        (RopeCos, RopeSin) = RopeTables.Upload(c, maxPositions, Backend, _arena!);
    }

    private static TensorInfo Info(ITensorSource source, string name, params long[] shape)
    {
        if (!source.TryGetInfo(name, out var info))
            throw new UserException($"checkpoint has no tensor '{name}' (needed for this architecture)");
        if (!info.Shape.SequenceEqual(shape))
            throw new UserException($"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] from config.json");
        return info;
    }

    private ProjectionWeights Packed(ITensorSource source, string name, int rows, int cols, WeightStorage storage, Tensor bias)
    {
        var info = Info(source, name, rows, cols);
        var type = storage switch
        {
            WeightStorage.F32 => ElementType.F32,
            WeightStorage.BF16 => ElementType.BF16,
            _ => info.DType == TensorDType.BF16 ? ElementType.BF16 : ElementType.F32,
        };
        var weight = Backend.LoadLinear(source.GetBytes(name), info.DType, rows, cols, type, _arena!);
        source.Release(name);
        return new ProjectionWeights { In = cols, Out = rows, Packed = weight, Bias = bias };
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
        var t = _arena!.Allocate(ElementType.F32, 1, n);
        Backend.Upload(values, t);
        return t;
    }

    /// <summary>Empties every projection's LoRA slot.</summary>
    internal void ClearAdapters()
    {
        foreach (var layer in Layers)
            foreach (var p in layer.Projections) p.Lora = null;
        LoraRank = 0;
        AdapterOwner = null;
    }

    /// <summary>Frees the parameter arena. The weights of a trainable decoder's inference view belong to it: disposing them here does nothing.</summary>
    public void Dispose()
    {
        if (!AdapterLocked) _arena?.Dispose();
    }

    /// <summary>Frees the parameter arena whoever holds the LoRA slots (the trainable decoder releasing its base).</summary>
    internal void Release() => _arena?.Dispose();
}
