using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// One linear projection as the layer forward runs it: <c>y (+)= x·Wᵀ (+ bias) (+ s·dropout(x)·Aᵀ·Bᵀ)</c>. The base
/// weight is either packed (<see cref="Packed"/>, loaded from a checkpoint, frozen) or a row-major fp32 tensor
/// (<see cref="Dense"/>, a full fine-tuning parameter); a LoRA adapter, when attached, adds its low-rank update
/// without being merged. Also serves as the embedding table and the LM head (no bias, no adapter).
/// </summary>
internal sealed class ProjectionWeights
{
    public required int In { get; init; }
    public required int Out { get; init; }
    public LinearWeight? Packed { get; init; }   // [out, in] in the backend's GEMM layout
    public Tensor Dense { get; init; }           // [out, in] row-major fp32 (when not packed)
    public Tensor Bias { get; init; }            // [1, out] or invalid
    public LoraWeights? Lora { get; set; }       // attached adapter or null

    /// <summary>
    /// <c>x [n, in] → y [n, out]</c> (added to with <paramref name="accumulate"/>). With an adapter, the first
    /// <c>n·r</c> elements of <paramref name="loraInput"/> receive <c>u = dropout(x)·Aᵀ [n, r]</c> (the training
    /// backward reads it there); <paramref name="dropout"/> switches the adapter's dropout on, its mask drawn from
    /// <paramref name="seed"/> into <paramref name="scratch"/> <c>[≥ n·in]</c>.
    /// </summary>
    public void Forward(IComputeBackend b, Tensor x, Tensor y, bool accumulate, Tensor loraInput, Tensor scratch, ulong seed, bool dropout)
    {
        Tensor u = default;
        if (Lora is { } lora)
        {
            // u first, then base and low-rank product in one pass over y.
            u = LowRankInput(loraInput, x.Rows, lora.Rank);
            b.MatMul(dropout ? DroppedOut(b, x, scratch, seed) : x, false, lora.A, true, u);
            if (Packed is not null)
            {
                b.Linear(x, Packed, Bias, y, accumulate, u, lora.B, lora.Scaling);
                return;
            }
        }
        if (Packed is not null) b.Linear(x, Packed, Bias, y, accumulate);
        else
        {
            b.MatMul(x, false, Dense, true, y, 1f, accumulate);
            if (Bias.IsValid) b.AddBias(Bias, y);
        }
        if (Lora is { } l) b.MatMul(u, false, l.B, true, y, l.Scaling, accumulate: true);
    }

    /// <summary>The weight read as an embedding table: row <c>ids[t]</c> for each token, <c>ids [n] → destination [n, in]</c>.</summary>
    public void Lookup(IComputeBackend b, Tensor ids, Tensor destination)
    {
        if (Packed is not null) b.Embedding(ids, Packed, destination);
        else b.Embedding(ids, Dense, destination);
    }

    /// <summary><c>[rows, rank]</c> at the start of <paramref name="storage"/> (a per-projection buffer, or one shared by all of a layer's adapters).</summary>
    public static Tensor LowRankInput(Tensor storage, int rows, int rank) => new(storage.Buffer, storage.Offset, rows, rank);

    /// <summary><c>dropout(x)</c> with the adapter's probability in <paramref name="scratch"/> (or x itself without dropout).</summary>
    public Tensor DroppedOut(IComputeBackend b, Tensor x, Tensor scratch, ulong seed)
    {
        if (Lora!.Dropout <= 0) return x;
        var t = new Tensor(scratch.Buffer, scratch.Offset, x.Rows, In);
        b.Dropout(x, Lora.Dropout, seed, t);
        return t;
    }
}
