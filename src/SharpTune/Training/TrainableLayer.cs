using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>An RMSNorm weight: frozen, or trainable with a gradient.</summary>
internal sealed class NormWeight(Tensor value, TrainableParameter? trainable)
{
    public Tensor Value { get; } = value;                  // [1, n]
    public TrainableParameter? Trainable { get; } = trainable;
    public Tensor Grad => Trainable?.Grad ?? default;      // invalid when frozen
}

/// <summary>
/// One decoder layer of the trainable model: the weights the shared forward reads (<see cref="Weights"/>) and, beside
/// them, its norms and seven projections (indexed by <see cref="LoraTarget"/>) with their gradients for the backward.
/// </summary>
internal sealed class TrainableLayer
{
    public required DecoderLayerWeights Weights { get; init; }
    public required NormWeight InputNorm { get; init; }
    public required NormWeight PostAttentionNorm { get; init; }
    public NormWeight? QNorm { get; init; }                 // Qwen3
    public NormWeight? KNorm { get; init; }
    public required Projection[] Projections { get; init; }

    public Projection this[LoraTarget t] => Projections[(int)t];
}
