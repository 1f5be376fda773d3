using SharpTune.Numerics;

namespace SharpTune.Engine;

/// <summary>
/// The kernel boundary: every computation of the model goes through this interface, on <see cref="Tensor"/> views
/// of backend-owned buffers, so that another backend (CUDA) can be added without touching model code.
/// Arguments are ordered source → parameters → destination. A backend instance is used by one thread at a time
/// (it may use more threads inside a kernel). Kernels do not allocate. Each forward kernel is immediately followed by
/// its backward; backends are created by <see cref="ComputeBackends.Create"/>.
/// </summary>
public interface IComputeBackend : IDisposable
{
    // Memory: arenas, weights, host transfers.

    /// <summary>Which implementation runs, e.g. <c>cpu-avx2</c>.</summary>
    string Name { get; }

    /// <summary>Creates an arena for allocations that share a lifetime.</summary>
    Arena CreateArena(string name);

    /// <summary>
    /// Loads a linear weight from raw little-endian checkpoint bytes <c>[outFeatures, inFeatures]</c> of
    /// <paramref name="dtype"/>, stored as <paramref name="storage"/> (F32 or BF16) in <paramref name="arena"/>.
    /// </summary>
    LinearWeight LoadLinear(ReadOnlySpan<byte> data, TensorDType dtype, int outFeatures, int inFeatures, ElementType storage, Arena arena);

    /// <summary>Copies host floats into an F32 tensor (lengths must match).</summary>
    void Upload(ReadOnlySpan<float> source, Tensor destination);

    /// <summary>Copies host integers into an I32 tensor (lengths must match).</summary>
    void Upload(ReadOnlySpan<int> source, Tensor destination);

    /// <summary>Copies an F32 tensor to the host.</summary>
    void Download(Tensor source, Span<float> destination);

    /// <summary>Copies an I32 tensor to the host.</summary>
    void Download(Tensor source, Span<int> destination);

    // Embeddings and row selection, each with its gradient.

    /// <summary>Rows of <paramref name="table"/> for each id: <c>ids [n] → destination [n, table.InFeatures]</c>.</summary>
    void Embedding(Tensor ids, LinearWeight table, Tensor destination);

    /// <summary>Rows of an fp32 matrix: <c>ids [n], table [vocab, dim] → destination [n, dim]</c> (a trainable embedding).</summary>
    void Embedding(Tensor ids, Tensor table, Tensor destination);

    /// <summary>
    /// The embedding's gradient: <c>tableGrad[ids[t]] += outputGrad[t]</c>; <c>ids [n], outputGrad [n, dim] → tableGrad [vocab, dim]</c>
    /// (only the rows of the ids change).
    /// </summary>
    void EmbeddingBackward(Tensor ids, Tensor outputGrad, Tensor tableGrad);

    /// <summary>Selected rows: <c>source [rows, n], indices [k] → destination [k, n]</c>.</summary>
    void GatherRows(Tensor source, Tensor indices, Tensor destination);

    /// <summary>Adds selected rows back: <c>destination[indices[i]] += source[i]</c>; <c>source [k, n], indices [k] → destination [rows, n]</c> (the gradient of <see cref="GatherRows"/>).</summary>
    void ScatterAddRows(Tensor source, Tensor indices, Tensor destination);

    // Normalisation.

    /// <summary>
    /// Row-wise RMSNorm as Hugging Face computes it in fp32: <c>weight * (x * rsqrt(mean(x²) + eps))</c>.
    /// <c>x [rows, n], weight [1, n] → destination [rows, n]</c> (may alias x).
    /// </summary>
    void RmsNorm(Tensor x, Tensor weight, float eps, Tensor destination);

    /// <summary>
    /// Gradients of <see cref="RmsNorm"/>: <c>x, outputGrad [rows, n], weight [1, n] → inputGrad [rows, n]</c> (written, or
    /// added to with <paramref name="accumulate"/>; may alias outputGrad when not accumulating), and, when
    /// <paramref name="weightGrad"/> is valid, <c>weightGrad [1, n] += Σ_rows outputGrad · x · rsqrt(mean(x²) + eps)</c>.
    /// </summary>
    void RmsNormBackward(Tensor x, Tensor weight, float eps, Tensor outputGrad, Tensor inputGrad, bool accumulate, Tensor weightGrad);

    // Linear layers and matrix products.

    /// <summary>
    /// <c>destination (+)= x · weightᵀ (+ bias)</c>: <c>x [m, in], weight [out, in], bias [1, out] → destination [m, out]</c>.
    /// With <paramref name="accumulate"/> the product is added to destination (a residual connection).
    /// </summary>
    void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate);

    /// <summary>
    /// <see cref="Linear(Tensor, LinearWeight, Tensor, Tensor, bool)"/> plus a low-rank (LoRA) update in the same pass over
    /// the destination: <c>destination (+)= x · weightᵀ (+ bias) + scale · lowRankInput · lowRankWeightᵀ</c>, with
    /// <c>lowRankInput [m, r]</c> (= dropout(x)·Aᵀ) and <c>lowRankWeight [out, r]</c> (B).
    /// </summary>
    void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate, Tensor lowRankInput, Tensor lowRankWeight, float scale);

    /// <summary>
    /// The input gradient of <see cref="Linear(Tensor, LinearWeight, Tensor, Tensor, bool)"/>: <c>inputGrad (+)= outputGrad · weight</c>, i.e.
    /// <c>outputGrad [m, out], weight [out, in] → inputGrad [m, in]</c>.
    /// </summary>
    void LinearBackward(Tensor outputGrad, LinearWeight weight, Tensor inputGrad, bool accumulate);

    /// <summary>
    /// <see cref="LinearBackward(Tensor, LinearWeight, Tensor, bool)"/> plus the low-rank path's share in the same pass:
    /// <c>inputGrad (+)= outputGrad · weight + lowRankGrad · lowRankWeight</c>, with <c>lowRankGrad [m, r]</c> (dU) and
    /// <c>lowRankWeight [r, in]</c> (A).
    /// </summary>
    void LinearBackward(Tensor outputGrad, LinearWeight weight, Tensor inputGrad, bool accumulate, Tensor lowRankGrad, Tensor lowRankWeight);

    /// <summary>
    /// General fp32 matrix product of activation tensors: <c>destination (+)= alpha · op(a) · op(b)</c>, where op transposes
    /// when asked; <c>op(a) [m, k], op(b) [k, n] → destination [m, n]</c>. Serves LoRA's products and every weight
    /// gradient (<c>dW = dYᵀ · X</c>).
    /// </summary>
    void MatMul(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor destination, float alpha = 1f, bool accumulate = false);

    /// <summary>Adds a row vector to every row: <c>bias [1, n] → destination [m, n]</c>.</summary>
    void AddBias(Tensor bias, Tensor destination);

    /// <summary>Column sums (a bias gradient): <c>x [m, n] → destination [1, n]</c> (written, or added to with <paramref name="accumulate"/>).</summary>
    void SumRows(Tensor x, Tensor destination, bool accumulate);

    // Attention.

    /// <summary>
    /// Rotary position embedding in the rotate-half layout for every head of every row:
    /// <c>x [tokens, heads·headDim], positions [tokens], cos/sin [maxPositions, headDim/2] → destination</c> (may alias x).
    /// </summary>
    void Rope(Tensor x, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor destination);

    /// <summary>Gradient of <see cref="Rope"/> (the inverse rotation): <c>outputGrad [tokens, heads·headDim] → inputGrad</c> (may alias).</summary>
    void RopeBackward(Tensor outputGrad, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor inputGrad);

    /// <summary>
    /// Stores each token's key and value rows into the cache rows named by <paramref name="slots"/>:
    /// <c>k, v [tokens, kvHeads·headDim], slots [tokens] → kCache, vCache [cacheRows, kvHeads·headDim]</c>.
    /// </summary>
    void WriteKv(Tensor k, Tensor v, Tensor slots, Tensor kCache, Tensor vCache);

    /// <summary>
    /// Grouped-query attention of each query token over its visible cache rows (causal and padding masks are
    /// expressed by the ranges): token t attends to cache rows <c>kvStart[t] .. kvStart[t] + kvCount[t]</c>; a token
    /// with count 0 gets zeros. Softmax in fp32 with scale <paramref name="scale"/>.
    /// <c>q [tokens, heads·headDim], kCache, vCache [cacheRows, kvHeads·headDim], kvStart, kvCount [tokens] → destination [tokens, heads·headDim]</c>.
    /// </summary>
    void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination);

    /// <summary>
    /// <see cref="Attention(Tensor, Tensor, Tensor, Tensor, Tensor, int, int, float, Tensor)"/> that also writes, for the
    /// backward pass, the log-sum-exp of each (token, head)'s scaled scores: <c>logSumExp [tokens, heads]</c>
    /// (0 for a token with no visible rows).
    /// </summary>
    void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination, Tensor logSumExp);

    /// <summary>
    /// Gradients of <see cref="Attention(Tensor, Tensor, Tensor, Tensor, Tensor, int, int, float, Tensor, Tensor)"/>
    /// from the forward's inputs, output and log-sum-exp: <c>q, output, outputGrad [tokens, heads·headDim],
    /// k, v [rows, kvHeads·headDim], logSumExp [tokens, heads], kvStart, kvCount [tokens] → queryGrad [tokens, heads·headDim]
    /// (overwritten), keyGrad, valueGrad [rows, kvHeads·headDim]</c> (overwritten: zero outside the visible rows).
    /// Tokens whose ranges overlap must share their <c>kvStart</c> (one group per sequence, as training lays them out).
    /// </summary>
    void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor outputGrad, Tensor logSumExp, Tensor kvStart, Tensor kvCount,
        int heads, int kvHeads, float scale, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad);

    // Feed-forward and regularisation.

    /// <summary><c>silu(gate) * up</c>: <c>gate, up [m, n] → destination [m, n]</c> (may alias either).</summary>
    void SwiGlu(Tensor gate, Tensor up, Tensor destination);

    /// <summary>
    /// Gradients of <see cref="SwiGlu"/>: <c>gate, up, outputGrad [m, n] → gateGrad, upGrad [m, n]</c>
    /// (each may alias any input: every element is read before it is written).
    /// </summary>
    void SwiGluBackward(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad);

    /// <summary>
    /// Inverted dropout with a counter-based mask: element <c>i</c> is kept (and multiplied by 1/(1−p)) unless
    /// <c>h / 2⁶⁴ &lt; p</c> with <c>h = Mix(Mix(seed) + i)</c> (<see cref="Numerics.SplitMix64.Mix(ulong)"/>), so the
    /// same seed regenerates the same mask in the backward pass: the kernel is its own backward.
    /// <c>x [m, n] → destination [m, n]</c> (may alias).
    /// </summary>
    void Dropout(Tensor x, float probability, ulong seed, Tensor destination);

    // Outputs: the loss with its gradient, and sampling.

    /// <summary>
    /// Cross-entropy of each row's logits against its target, with its gradient: <c>logits [rows, vocab], targets [rows]
    /// → logitsGrad [rows, vocab] = (softmax − onehot(target)) · gradScale</c> (may alias logits) and <c>stats [rows, 3]</c> =
    /// (loss = logsumexp − logit[target], 1 if the first maximal logit is the target else 0, entropy of the softmax).
    /// </summary>
    void CrossEntropy(Tensor logits, Tensor targets, float gradScale, Tensor logitsGrad, Tensor stats);

    /// <summary>Row-wise softmax: <c>x [rows, n] → destination [rows, n]</c> (may alias x).</summary>
    void Softmax(Tensor x, Tensor destination);

    /// <summary>Index of the largest element of each row (the first on ties): <c>x [rows, n] → destination [rows]</c>.</summary>
    void Argmax(Tensor x, Tensor destination);

    // Elementwise updates and the optimiser.

    /// <summary><c>destination += alpha · source</c> elementwise (same shape).</summary>
    void Add(Tensor source, float alpha, Tensor destination);

    /// <summary><c>destination = source</c> (same element count and type).</summary>
    void Copy(Tensor source, Tensor destination);

    /// <summary>Sets every element of <paramref name="destination"/> to 0.</summary>
    void Zero(Tensor destination);

    /// <summary><c>x *= factor</c> elementwise.</summary>
    void Scale(Tensor x, float factor);

    /// <summary>Σ x² over all elements, accumulated in double in a fixed order (deterministic for a given thread count).</summary>
    double SumOfSquares(Tensor x);

    /// <summary>
    /// One AdamW update as PyTorch's <c>torch.optim.AdamW</c> does it (decoupled weight decay, bias correction):
    /// <c>param, grad, expAvg, expAvgSq</c> all of one shape; <paramref name="step"/> holds the hyper-parameters and the
    /// 1-based step number.
    /// </summary>
    void AdamW(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamWStep step);
}

/// <summary>Host-side conveniences over the kernel boundary.</summary>
public static class ComputeBackendExtensions
{
    /// <summary>A new host array holding an F32 tensor's values.</summary>
    public static float[] DownloadArray(this IComputeBackend backend, Tensor source)
    {
        var values = new float[source.Length];
        backend.Download(source, values);
        return values;
    }
}
