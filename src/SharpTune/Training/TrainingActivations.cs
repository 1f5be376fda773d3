using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// The activation arena of a <see cref="TrainableDecoder"/>, allocated once for <see cref="TrainingOptions.MaxTokens"/>
/// tokens: the residual stream before every layer and after the last, one <see cref="LayerActivations"/> set per layer
/// (one shared set with gradient checkpointing), the batch's index arrays, the supervised rows, and the gradient work
/// space all layers share.
/// </summary>
internal sealed class TrainingActivations : IDisposable
{
    private readonly Arena _arena;
    private readonly LayerActivations[] _layers;

    public TrainingActivations(ModelConfig c, IComputeBackend backend, TrainingOptions options, LoraConfig? lora)
    {
        _arena = backend.CreateArena("training activations");
        try
        {
            int n = options.MaxTokens, h = c.HiddenSize, rank = lora?.Rank ?? 0;
            Residual = new Tensor[c.NumLayers + 1];
            for (int l = 0; l <= c.NumLayers; l++) Residual[l] = _arena.Allocate(ElementType.F32, n, h);
            _layers = new LayerActivations[options.GradientCheckpointing ? 1 : c.NumLayers];
            for (int l = 0; l < _layers.Length; l++) _layers[l] = new LayerActivations(_arena, c, n, forBackward: true, rank);
            Ids = _arena.Allocate(ElementType.I32, n, 1);
            Positions = _arena.Allocate(ElementType.I32, n, 1);
            KvStart = _arena.Allocate(ElementType.I32, n, 1);
            KvCount = _arena.Allocate(ElementType.I32, n, 1);
            SupervisedRows = _arena.Allocate(ElementType.I32, n, 1);
            Targets = _arena.Allocate(ElementType.I32, n, 1);
            Selected = _arena.Allocate(ElementType.F32, n, h);
            SelectedNormed = _arena.Allocate(ElementType.F32, n, h);
            DResidual = _arena.Allocate(ElementType.F32, n, h);
            DH = _arena.Allocate(ElementType.F32, n, h);
            DSelected = _arena.Allocate(ElementType.F32, n, h);
            DAttention = _arena.Allocate(ElementType.F32, n, c.QueryDim);
            DQ = _arena.Allocate(ElementType.F32, n, c.QueryDim);
            DK = _arena.Allocate(ElementType.F32, n, c.KvDim);
            DV = _arena.Allocate(ElementType.F32, n, c.KvDim);
            DGate = _arena.Allocate(ElementType.F32, n, c.IntermediateSize);
            DUp = _arena.Allocate(ElementType.F32, n, c.IntermediateSize);
            DU = rank > 0 ? _arena.Allocate(ElementType.F32, n, rank) : default;
            int maxIn = Math.Max(Math.Max(h, c.QueryDim), c.IntermediateSize);
            Scratch = lora is { Dropout: > 0 } ? _arena.Allocate(ElementType.F32, 1, n * maxIn) : default;
        }
        catch
        {
            _arena.Dispose();
            throw;
        }
    }

    public Arena Arena => _arena;
    public long Bytes => _arena.Bytes;

    public Tensor[] Residual { get; }        // [L+1] × [tokens, hidden]
    public Tensor Ids { get; }               // [tokens]
    public Tensor Positions { get; }         // [tokens]
    public Tensor KvStart { get; }           // [tokens]
    public Tensor KvCount { get; }           // [tokens]
    public Tensor SupervisedRows { get; }    // [tokens]  index of each supervised token
    public Tensor Targets { get; }           // [tokens]  its label
    public Tensor Selected { get; }          // [tokens, hidden]  supervised rows before the final norm
    public Tensor SelectedNormed { get; }    // [tokens, hidden]  and after
    public Tensor DResidual { get; }         // [tokens, hidden]
    public Tensor DH { get; }                // [tokens, hidden]
    public Tensor DSelected { get; }         // [tokens, hidden]
    public Tensor DAttention { get; }        // [tokens, heads·headDim]
    public Tensor DQ { get; }                // [tokens, heads·headDim]
    public Tensor DK { get; }                // [tokens, kvHeads·headDim]
    public Tensor DV { get; }                // [tokens, kvHeads·headDim]
    public Tensor DGate { get; }             // [tokens, intermediate]
    public Tensor DUp { get; }               // [tokens, intermediate]
    public Tensor DU { get; }                // [tokens, r]
    public Tensor Scratch { get; }           // [1, tokens · max(in)]  dropped-out LoRA inputs

    /// <summary>The intermediates of <paramref name="layer"/> (the shared set with gradient checkpointing).</summary>
    public LayerActivations For(int layer) => _layers[_layers.Length == 1 ? 0 : layer];

    public void Dispose() => _arena.Dispose();
}
