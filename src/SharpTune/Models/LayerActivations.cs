using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// The intermediates of one layer forward (<see cref="DecoderLayer"/>), sized for <c>maxTokens</c> tokens. For a
/// training backward every intermediate gets its own buffer (one set per layer, or one shared set refilled by
/// recomputation); for inference the ones nothing reads again share memory — the second norm writes over the first
/// (<see cref="H2"/> is <see cref="H1"/>), SwiGLU over the gate, the q/k norms in place — and the residual stream is
/// updated in place (<see cref="Mid"/> invalid).
/// </summary>
internal sealed class LayerActivations
{
    public LayerActivations(Arena arena, ModelConfig c, int maxTokens, bool forBackward, int loraRank)
    {
        H1 = arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        Q = arena.Allocate(ElementType.F32, maxTokens, c.QueryDim);
        K = arena.Allocate(ElementType.F32, maxTokens, c.KvDim);
        V = arena.Allocate(ElementType.F32, maxTokens, c.KvDim);
        Attention = arena.Allocate(ElementType.F32, maxTokens, c.QueryDim);
        Gate = arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        Up = arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        if (forBackward)
        {
            QRaw = c.QkNorm ? arena.Allocate(ElementType.F32, maxTokens, c.QueryDim) : Q;
            KRaw = c.QkNorm ? arena.Allocate(ElementType.F32, maxTokens, c.KvDim) : K;
            Lse = arena.Allocate(ElementType.F32, maxTokens, c.NumHeads);
            Mid = arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
            H2 = arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
            Act = arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        }
        else
        {
            QRaw = Q;
            KRaw = K;
            H2 = H1;
            Act = Gate;
        }
        LoraU = new Tensor[CheckpointLayout.Projections.Count];
        if (loraRank > 0)
            for (int i = 0; i < LoraU.Length; i++) LoraU[i] = arena.Allocate(ElementType.F32, maxTokens, loraRank);
    }

    public Tensor H1 { get; }         // [tokens, hidden]  input RMSNorm
    public Tensor QRaw { get; }       // [tokens, heads·headDim]  q_proj output before the q norm (Qwen3; else Q)
    public Tensor KRaw { get; }       // [tokens, kvHeads·headDim]
    public Tensor Q { get; }          // [tokens, heads·headDim]  after norm and RoPE
    public Tensor K { get; }          // [tokens, kvHeads·headDim]
    public Tensor V { get; }          // [tokens, kvHeads·headDim]
    public Tensor Attention { get; }  // [tokens, heads·headDim]
    public Tensor Lse { get; }        // [tokens, heads]  log-sum-exp of the scores (training only)
    public Tensor Mid { get; }        // [tokens, hidden]  residual after attention (training only; else x in place)
    public Tensor H2 { get; }         // [tokens, hidden]  post-attention RMSNorm
    public Tensor Gate { get; }       // [tokens, intermediate]
    public Tensor Up { get; }         // [tokens, intermediate]
    public Tensor Act { get; }        // [tokens, intermediate]  silu(gate)·up

    /// <summary>
    /// Per projection, storage for <c>u = dropout(x)·Aᵀ [tokens, r]</c> (invalid without an adapter). Inference points
    /// every entry at one buffer sized for the attached adapter's rank: each u is used up by its own projection.
    /// </summary>
    public Tensor[] LoraU { get; }
}
