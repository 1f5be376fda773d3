using SharpTune.Engine.Cpu.Gemm;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// One implementation of the CPU kernels on raw contiguous memory. <see cref="ScalarKernels"/> is the plain
/// reference; <see cref="SimdKernels"/> the fast one for an instruction set. The backend resolves tensor handles to
/// pointers and checks shapes and indices before calling these, and does no arithmetic itself. Members follow the
/// order of <see cref="IComputeBackend"/>: each forward immediately followed by its backward.
/// </summary>
internal abstract unsafe class CpuKernels
{
    /// <summary>Short name, e.g. <c>avx2</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Output features per packed weight panel; 0 keeps weights in HF row-major layout.</summary>
    public abstract int PanelWidth { get; }

    /// <summary>
    /// Rows of a linear weight used as an embedding table, widened to fp32: <c>dst[t] = table[ids[t]]</c>;
    /// <c>ids [n] → dst [n, table.InFeatures]</c>. The ids are in range (checked by the caller).
    /// </summary>
    public abstract void Embedding(int* ids, int n, CpuLinearWeight table, float* dst);

    /// <summary>Selected rows: <c>source [·, cols], indices [n] → dst [n, cols]</c> (an fp32 embedding, the LM head's rows).</summary>
    public abstract void GatherRows(float* source, int cols, int* indices, int n, float* dst);

    /// <summary>
    /// The gradient of <see cref="GatherRows"/> and of an embedding: <c>dst[indices[i]] += source[i]</c> for i = 0, 1, …
    /// in order (repeated indices add up in that order); <c>source [n, cols], indices [n] → dst [·, cols]</c>.
    /// </summary>
    public abstract void ScatterAddRows(float* source, int cols, int* indices, int n, float* dst);

    /// <summary>Row-wise RMSNorm of <c>x [rows, n]</c> with weight <c>[n]</c>.</summary>
    public abstract void RmsNorm(float* x, int rows, int n, float* weight, float eps, float* dst);

    /// <summary>
    /// RMSNorm backward: with <c>r = rsqrt(mean(x²)+eps)</c> and <c>g = dy·w</c>,
    /// <c>dx (+)= r·g − x·r³·Σ(g·x)/n</c>; <c>dWeight += Σ_rows dy·x·r</c> when not null.
    /// </summary>
    public abstract void RmsNormBackward(float* x, int rows, int n, float* weight, float eps, float* dy, float* dx, bool accumulate, float* dWeight);

    /// <summary>Any GEMM of the engine (Linear, its input gradient, MatMul): <c>C (+)= α · A · B (+ bias)</c> with the operands <paramref name="job"/> describes.</summary>
    public abstract void Gemm(in GemmJob job);

    /// <summary>Adds a row vector to every row: <c>bias [n] → dst [rows, n]</c>.</summary>
    public abstract void AddBias(float* bias, int rows, int n, float* dst);

    /// <summary>
    /// The gradient of <see cref="AddBias"/>, column sums: <c>x [rows, n] → dst [n]</c>; each column is summed over the
    /// rows in order onto 0 (or onto dst with <paramref name="accumulate"/>).
    /// </summary>
    public abstract void SumRows(float* x, int rows, int n, float* dst, bool accumulate);

    /// <summary>Rotate-half RoPE of <c>x [tokens, width]</c>, heads of <paramref name="headDim"/>; <paramref name="inverse"/> rotates back (the backward).</summary>
    public abstract void Rope(float* x, int tokens, int width, int* positions, float* cos, float* sin, int headDim, float* dst, bool inverse);

    /// <summary>Copies row i of <c>source [n, cols]</c> to row <c>indices[i]</c> of <c>dst</c> (the KV cache's slots).</summary>
    public abstract void ScatterRows(float* source, int cols, int* indices, int n, float* dst);

    /// <summary>
    /// Grouped-query attention over cache ranges (see <see cref="IComputeBackend.Attention(Tensor, Tensor, Tensor, Tensor, Tensor, int, int, float, Tensor, Tensor)"/>);
    /// <paramref name="groupStart"/> lists the runs of tokens sharing their first key row (sequences); <paramref name="lse"/> [tokens, heads] may be null.
    /// </summary>
    public abstract void Attention(float* q, int tokens, float* kCache, float* vCache, int* kvStart, int* kvCount, int* groupStart, int groups,
        int heads, int kvHeads, int headDim, float scale, float* dst, float* lse);

    /// <summary>
    /// Attention backward over <paramref name="groups"/> (token ranges <c>groupStart[g] .. groupStart[g+1]</c> whose
    /// queries share key rows): recomputes each probability from <paramref name="lse"/>, writes dQ and accumulates
    /// dK, dV, which the caller has zeroed.
    /// </summary>
    public abstract void AttentionBackward(float* q, float* k, float* v, float* o, float* dO, float* lse, int* kvStart, int* kvCount,
        int* groupStart, int groups, int heads, int kvHeads, int headDim, float scale, float* dQ, float* dK, float* dV);

    /// <summary><c>silu(gate) * up</c> elementwise over <paramref name="n"/> elements.</summary>
    public abstract void SwiGlu(float* gate, float* up, long n, float* dst);

    /// <summary>SwiGLU backward: <c>dUp = dy·silu(g)</c>, <c>dGate = dy·u·σ(g)·(1 + g·(1 − σ(g)))</c>.</summary>
    public abstract void SwiGluBackward(float* gate, float* up, float* dy, long n, float* dGate, float* dUp);

    /// <summary>
    /// Inverted dropout of <paramref name="n"/> elements with <paramref name="probability"/> in [0, 1), its own backward
    /// (the same seed regenerates the mask): element i becomes 0 when <c>Mix(Mix(seed) + i) / 2⁶⁴ &lt; p</c>
    /// (<see cref="Numerics.SplitMix64.Mix(ulong)"/>), else <c>x[i] · 1/(1 − p)</c>. May run in place.
    /// </summary>
    public abstract void Dropout(float* x, long n, float probability, ulong seed, float* dst);

    /// <summary>The fp32 factor kept elements are scaled by and the 64-bit hash below which an element is dropped.</summary>
    protected static (float Keep, ulong Threshold) DropoutConstants(float probability) =>
        (1f / (1f - probability), (ulong)(probability * 18446744073709551616.0));

    /// <summary>Cross-entropy with gradient and per-row (loss, correct, entropy) statistics (see <see cref="IComputeBackend.CrossEntropy"/>).</summary>
    public abstract void CrossEntropy(float* logits, int rows, int vocab, int* targets, float gradScale, float* dLogits, float* stats);

    /// <summary>Row-wise softmax of <c>x [rows, n]</c>.</summary>
    public abstract void Softmax(float* x, int rows, int n, float* dst);

    /// <summary>Row-wise argmax of <c>x [rows, n]</c> (first index on ties).</summary>
    public abstract void Argmax(float* x, int rows, int n, int* dst);

    /// <summary><c>y += alpha · x</c>.</summary>
    public abstract void Axpy(float alpha, float* x, long n, float* y);

    /// <summary><c>x *= factor</c>.</summary>
    public abstract void Scale(float* x, long n, float factor);

    /// <summary>Σ x² in double, in a fixed order.</summary>
    public abstract double SumOfSquares(float* x, long n);

    /// <summary>One AdamW update of <paramref name="n"/> parameters.</summary>
    public abstract void AdamW(float* p, float* g, float* m, float* v, long n, in AdamWStep step);
}
