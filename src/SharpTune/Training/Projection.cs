using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// A projection's trainable LoRA adapter: <c>A [r, in]</c>, <c>B [out, r]</c> as parameters with gradients, and the
/// scale. Its values are what the forward's <see cref="LoraWeights"/> reads.
/// </summary>
internal sealed class LoraModule(TrainableParameter a, TrainableParameter b, float scaling, float dropout)
{
    public TrainableParameter A { get; } = a;  // [r, in]
    public TrainableParameter B { get; } = b;  // [out, r]
    public float Scaling { get; } = scaling;
    public float Dropout { get; } = dropout;
    public int Rank => A.Value.Rows;
}

/// <summary>
/// One projection of the trainable decoder: the weights the shared layer forward runs (<see cref="ProjectionWeights"/>:
/// a frozen packed base or a trainable fp32 weight, bias, LoRA) and the gradients its hand-written backward adds to.
/// Dropout masks are regenerated from the forward's seed, so no mask is stored.
/// </summary>
internal sealed class Projection
{
    public required ProjectionWeights Weights { get; init; }
    public TrainableParameter? Weight { get; init; }    // [out, in] row-major (full fine-tuning)
    public TrainableParameter? Bias { get; init; }      // [1, out]
    public LoraModule? Lora { get; init; }

    public int In => Weights.In;
    public int Out => Weights.Out;

    /// <summary>
    /// From <c>dy [n, out]</c>: adds this projection's parameter gradients and writes (or, with
    /// <paramref name="accumulateDx"/>, adds) <c>dx [n, in]</c>. <c>x</c> and <c>u</c> are the forward's;
    /// <c>du [n, r]</c> and <c>scratch [n, ≥in]</c> are work space.
    /// </summary>
    public void Backward(IComputeBackend b, Tensor x, Tensor dy, Tensor dx, bool accumulateDx, Tensor u, Tensor du, Tensor scratch, ulong seed)
    {
        var frozen = Weights.Packed;
        if (Weight is not null) b.MatMul(dy, true, x, false, Weight.Grad, 1f, accumulate: true);
        if (Bias is not null) b.SumRows(dy, Bias.Grad, accumulate: true);
        if (Lora is { } lora)
        {
            b.MatMul(dy, true, u, false, lora.B.Grad, lora.Scaling, accumulate: true);     // dB += s·dyᵀ·u
            b.MatMul(dy, false, lora.B.Value, false, du, lora.Scaling);                   // du = s·dy·B
            b.MatMul(du, true, Weights.DroppedOut(b, x, scratch, seed), false, lora.A.Grad, 1f, accumulate: true); // dA += duᵀ·dropout(x)
        }
        if (frozen is not null && Lora is { Dropout: <= 0 } fused)
        {
            b.LinearBackward(dy, frozen, dx, accumulateDx, du, fused.A.Value); // dx (+)= dy·W + du·A in one pass
            return;
        }
        if (frozen is not null) b.LinearBackward(dy, frozen, dx, accumulateDx);
        else b.MatMul(dy, false, Weights.Dense, false, dx, 1f, accumulateDx);
        if (Lora is not { } l) return;
        if (l.Dropout > 0)
        {
            var t = new Tensor(scratch.Buffer, scratch.Offset, x.Rows, In);
            b.MatMul(du, false, l.A.Value, false, t);
            b.Dropout(t, l.Dropout, seed, t); // the same mask and 1/(1−p) as the forward
            b.Add(t, 1f, dx);
        }
        else b.MatMul(du, false, l.A.Value, false, dx, 1f, accumulate: true);
    }
}
