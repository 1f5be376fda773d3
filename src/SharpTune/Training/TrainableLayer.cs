using SharpTune.Engine;

namespace SharpTune.Training;

/// <summary>An RMSNorm weight: frozen, or trainable with a gradient.</summary>
internal sealed class NormWeight(Tensor value, TrainableParameter? trainable)
{
    public Tensor Value { get; } = value;                  // [1, n]
    public TrainableParameter? Trainable { get; } = trainable;
    public Tensor Grad => Trainable?.Grad ?? default;      // invalid when frozen
}

/// <summary>One decoder layer of the trainable model: its norms and its seven projections (indexed by <see cref="LoraTarget"/>).</summary>
internal sealed class TrainableLayer
{
    public required NormWeight InputNorm { get; init; }
    public required NormWeight PostAttentionNorm { get; init; }
    public NormWeight? QNorm { get; init; }                 // Qwen3
    public NormWeight? KNorm { get; init; }
    public required Projection[] Projections { get; init; }

    public Projection this[LoraTarget t] => Projections[(int)t];
}

/// <summary>
/// What the backward pass needs of one layer's forward, sized for the largest micro-batch. Without gradient
/// checkpointing each layer has its own set; with it, one set is shared and refilled by recomputation.
/// </summary>
internal sealed class LayerActivations
{
    public LayerActivations(Arena arena, Models.ModelConfig c, int maxTokens, bool qkNorm, int loraRank)
    {
        H1 = arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        QRaw = qkNorm ? arena.Allocate(ElementType.F32, maxTokens, c.QueryDim) : default;
        KRaw = qkNorm ? arena.Allocate(ElementType.F32, maxTokens, c.KvDim) : default;
        Q = arena.Allocate(ElementType.F32, maxTokens, c.QueryDim);
        K = arena.Allocate(ElementType.F32, maxTokens, c.KvDim);
        V = arena.Allocate(ElementType.F32, maxTokens, c.KvDim);
        Attention = arena.Allocate(ElementType.F32, maxTokens, c.QueryDim);
        Lse = arena.Allocate(ElementType.F32, maxTokens, c.NumHeads);
        Mid = arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        H2 = arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        Gate = arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        Up = arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        Act = arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        LoraU = new Tensor[LoraTargets.All.Count];
        if (loraRank > 0)
            for (int i = 0; i < LoraU.Length; i++) LoraU[i] = arena.Allocate(ElementType.F32, maxTokens, loraRank);
    }

    public Tensor H1 { get; }         // [tokens, hidden]  input RMSNorm
    public Tensor QRaw { get; }       // [tokens, heads·headDim]  q_proj output before the q norm (Qwen3)
    public Tensor KRaw { get; }       // [tokens, kvHeads·headDim]
    public Tensor Q { get; }          // [tokens, heads·headDim]  after norm and RoPE
    public Tensor K { get; }          // [tokens, kvHeads·headDim]
    public Tensor V { get; }          // [tokens, kvHeads·headDim]
    public Tensor Attention { get; }  // [tokens, heads·headDim]
    public Tensor Lse { get; }        // [tokens, heads]  log-sum-exp of the scores
    public Tensor Mid { get; }        // [tokens, hidden]  residual after attention
    public Tensor H2 { get; }         // [tokens, hidden]  post-attention RMSNorm
    public Tensor Gate { get; }       // [tokens, intermediate]
    public Tensor Up { get; }         // [tokens, intermediate]
    public Tensor Act { get; }        // [tokens, intermediate]  silu(gate)·up
    public Tensor[] LoraU { get; }    // per target [tokens, r]  dropout(x)·Aᵀ (invalid without LoRA)
}
