using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// A LoRA adapter of one projection in backend memory, applied unmerged: <c>y += Scaling · dropout(x)·Aᵀ·Bᵀ</c>.
/// The tensors belong to whoever attached them (an adapter loaded for inference, or the trainable decoder's parameters).
/// </summary>
internal sealed class LoraWeights(Tensor a, Tensor b, float scaling, float dropout)
{
    public Tensor A { get; } = a;              // [r, in]
    public Tensor B { get; } = b;              // [out, r]
    public float Scaling { get; } = scaling;
    public float Dropout { get; } = dropout;   // applied only in a training forward
    public int Rank => A.Rows;
}
