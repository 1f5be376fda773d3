using SharpTune.Models;

namespace SharpTune.Engine;

/// <summary>
/// The kernel boundary: every computation of the model goes through this interface, on <see cref="Tensor"/> views
/// of backend-owned buffers, so that another backend (CUDA) can be added without touching model code.
/// Arguments are ordered source → parameters → destination. A backend instance is used by one thread at a time
/// (it may use more threads inside a kernel). Kernels do not allocate.
/// </summary>
public interface IComputeBackend : IDisposable
{
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

    /// <summary>Rows of <paramref name="table"/> for each id: <c>ids [n] → destination [n, table.InFeatures]</c>.</summary>
    void Embedding(Tensor ids, LinearWeight table, Tensor destination);

    /// <summary>
    /// Row-wise RMSNorm as Hugging Face computes it in fp32: <c>weight * (x * rsqrt(mean(x²) + eps))</c>.
    /// <c>x [rows, n], weight [1, n] → destination [rows, n]</c> (may alias x).
    /// </summary>
    void RmsNorm(Tensor x, Tensor weight, float eps, Tensor destination);

    /// <summary>
    /// <c>destination (+)= x · weightᵀ (+ bias)</c>: <c>x [m, in], weight [out, in], bias [1, out] → destination [m, out]</c>.
    /// With <paramref name="accumulate"/> the product is added to destination (a residual connection).
    /// </summary>
    void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate);

    /// <summary>
    /// Rotary position embedding in the rotate-half layout for every head of every row:
    /// <c>x [tokens, heads·headDim], positions [tokens], cos/sin [maxPositions, headDim/2] → destination</c> (may alias x).
    /// </summary>
    void Rope(Tensor x, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor destination);

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

    /// <summary><c>silu(gate) * up</c>: <c>gate, up [m, n] → destination [m, n]</c> (may alias either).</summary>
    void SwiGlu(Tensor gate, Tensor up, Tensor destination);

    /// <summary>Row-wise softmax: <c>x [rows, n] → destination [rows, n]</c> (may alias x).</summary>
    void Softmax(Tensor x, Tensor destination);

    /// <summary>Selected rows: <c>source [rows, n], indices [k] → destination [k, n]</c>.</summary>
    void GatherRows(Tensor source, Tensor indices, Tensor destination);

    /// <summary>Index of the largest element of each row (the first on ties): <c>x [rows, n] → destination [rows]</c>.</summary>
    void Argmax(Tensor x, Tensor destination);
}
