using SharpTune.Engine;

namespace SharpTune.Training;

/// <summary>
/// A projection's LoRA adapter in backend memory: <c>A [r, in]</c>, <c>B [out, r]</c> and the scale.
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
/// One linear projection of the trainable decoder, <c>y (+)= x·Wᵀ (+ bias) (+ s·dropout(x)·Aᵀ·Bᵀ)</c>, with its backward.
/// The base weight is either frozen (a packed <see cref="LinearWeight"/>, no gradient buffer) or trainable (row-major
/// fp32 with a gradient); an optional LoRA adapter adds the low-rank update. Dropout masks are regenerated from the
/// seed in the backward pass, so no mask is stored.
/// </summary>
internal sealed class Projection
{
    public required int In { get; init; }
    public required int Out { get; init; }
    public LinearWeight? Frozen { get; init; }          // [out, in] packed
    public Tensor FrozenBias { get; init; }             // [1, out] or invalid
    public TrainableParameter? Weight { get; init; }    // [out, in] row-major
    public TrainableParameter? Bias { get; init; }      // [1, out]
    public LoraModule? Lora { get; init; }

    /// <summary>
    /// <c>x [n, in] → y [n, out]</c> (added to with <paramref name="accumulate"/>); <c>u [n, r]</c> receives
    /// <c>dropout(x)·Aᵀ</c> for the backward pass; <c>scratch [n, ≥in]</c> holds the dropped-out input. Dropout applies
    /// only when <paramref name="training"/> (PEFT's dropout is off in evaluation).
    /// </summary>
    public void Forward(IComputeBackend b, Tensor x, Tensor y, bool accumulate, Tensor u, Tensor scratch, ulong seed, bool training)
    {
        if (Lora is { } lora)
        {
            // u first, then base and low-rank product in one pass over y.
            b.MatMul(training ? LoraInput(b, x, scratch, seed) : x, false, lora.A.Value, true, u);
            if (Frozen is not null)
            {
                b.Linear(x, Frozen, FrozenBias, y, accumulate, u, lora.B.Value, lora.Scaling);
                return;
            }
        }
        if (Frozen is not null) b.Linear(x, Frozen, FrozenBias, y, accumulate);
        else
        {
            b.MatMul(x, false, Weight!.Value, true, y, 1f, accumulate);
            if (Bias is not null) b.AddBias(Bias.Value, y);
        }
        if (Lora is { } l) b.MatMul(u, false, l.B.Value, true, y, l.Scaling, accumulate: true);
    }

    /// <summary>
    /// From <c>dy [n, out]</c>: adds this projection's parameter gradients and writes (or, with
    /// <paramref name="accumulateDx"/>, adds) <c>dx [n, in]</c>. <c>x</c> and <c>u</c> are the forward's;
    /// <c>du [n, r]</c> and <c>scratch [n, ≥in]</c> are work space.
    /// </summary>
    public void Backward(IComputeBackend b, Tensor x, Tensor dy, Tensor dx, bool accumulateDx, Tensor u, Tensor du, Tensor scratch, ulong seed)
    {
        if (Weight is not null) b.MatMul(dy, true, x, false, Weight.Grad, 1f, accumulate: true);
        if (Bias is not null) b.SumRows(dy, Bias.Grad, accumulate: true);
        if (Lora is { } lora)
        {
            b.MatMul(dy, true, u, false, lora.B.Grad, lora.Scaling, accumulate: true);     // dB += s·dyᵀ·u
            b.MatMul(dy, false, lora.B.Value, false, du, lora.Scaling);                   // du = s·dy·B
            b.MatMul(du, true, LoraInput(b, x, scratch, seed), false, lora.A.Grad, 1f, accumulate: true); // dA += duᵀ·dropout(x)
        }
        if (Frozen is not null && Lora is { Dropout: <= 0 } fused)
        {
            b.LinearBackward(dy, Frozen, dx, accumulateDx, du, fused.A.Value); // dx (+)= dy·W + du·A in one pass
            return;
        }
        if (Frozen is not null) b.LinearBackward(dy, Frozen, dx, accumulateDx);
        else b.MatMul(dy, false, Weight!.Value, false, dx, 1f, accumulateDx);
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

    private Tensor LoraInput(IComputeBackend b, Tensor x, Tensor scratch, ulong seed)
    {
        if (Lora!.Dropout <= 0) return x;
        var t = new Tensor(scratch.Buffer, scratch.Offset, x.Rows, In);
        b.Dropout(x, Lora.Dropout, seed, t);
        return t;
    }
}
