namespace SharpTune.Models;

/// <summary>
/// The seven linear projections of a decoder layer, in checkpoint order. Their Hugging Face names, shapes and which of
/// them carry a bias are <see cref="CheckpointLayout"/>'s to say.
/// </summary>
public enum DecoderProjection
{
    /// <summary><c>self_attn.q_proj</c> <c>[heads·headDim, hidden]</c>.</summary>
    QProj,

    /// <summary><c>self_attn.k_proj</c> <c>[kvHeads·headDim, hidden]</c>.</summary>
    KProj,

    /// <summary><c>self_attn.v_proj</c> <c>[kvHeads·headDim, hidden]</c>.</summary>
    VProj,

    /// <summary><c>self_attn.o_proj</c> <c>[hidden, heads·headDim]</c>.</summary>
    OProj,

    /// <summary><c>mlp.gate_proj</c> <c>[intermediate, hidden]</c>.</summary>
    GateProj,

    /// <summary><c>mlp.up_proj</c> <c>[intermediate, hidden]</c>.</summary>
    UpProj,

    /// <summary><c>mlp.down_proj</c> <c>[hidden, intermediate]</c>.</summary>
    DownProj,
}
