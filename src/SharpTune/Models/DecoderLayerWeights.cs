using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>One decoder layer's weights as the layer forward reads them: its norms and its seven projections.</summary>
internal sealed class DecoderLayerWeights
{
    public required Tensor InputNorm { get; init; }          // [1, hidden]
    public required Tensor PostAttentionNorm { get; init; }  // [1, hidden]
    public Tensor QNorm { get; init; }                       // [1, headDim] (Qwen3) or invalid
    public Tensor KNorm { get; init; }                       // [1, headDim]
    public required ProjectionWeights[] Projections { get; init; } // indexed by DecoderProjection

    public ProjectionWeights this[DecoderProjection p] => Projections[(int)p];
}
