using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// What a layer's attention reads: per token the first key row it may see and how many (<c>kvStart</c>,
/// <c>kvCount</c> <c>[tokens]</c>), and where the keys are — the batch's own K and V (training: every sequence is in
/// the batch), or a KV cache into which the tokens' keys and values are first written at <c>slots [tokens]</c>.
/// </summary>
internal readonly struct LayerAttention
{
    private LayerAttention(Tensor kvStart, Tensor kvCount, Tensor slots, Tensor keys, Tensor values)
    {
        KvStart = kvStart;
        KvCount = kvCount;
        Slots = slots;
        CacheKeys = keys;
        CacheValues = values;
    }

    public Tensor KvStart { get; }      // [tokens]
    public Tensor KvCount { get; }      // [tokens]
    public Tensor Slots { get; }        // [tokens] cache row of each token, or invalid
    public Tensor CacheKeys { get; }    // [cacheRows, kvHeads·headDim] or invalid
    public Tensor CacheValues { get; }  // [cacheRows, kvHeads·headDim] or invalid

    /// <summary>Attention over the batch's own keys (row t of K is token t).</summary>
    public static LayerAttention WithinBatch(Tensor kvStart, Tensor kvCount) => new(kvStart, kvCount, default, default, default);

    /// <summary>Writes the tokens' keys and values into the cache at <paramref name="slots"/>, then attends over cache rows.</summary>
    public static LayerAttention OverCache(Tensor kvStart, Tensor kvCount, Tensor slots, Tensor keys, Tensor values) => new(kvStart, kvCount, slots, keys, values);
}

/// <summary>
/// LoRA dropout of one forward: off for inference and evaluation; in a training forward on, with masks drawn from a
/// seed per (layer, projection) that the backward pass regenerates (<see cref="SeedFor"/>).
/// </summary>
internal readonly record struct LoraDropout(bool On, ulong Seed, Tensor Scratch)
{
    /// <summary>No dropout.</summary>
    public static LoraDropout Off => default;

    /// <summary>The mask seed of <paramref name="projection"/> in <paramref name="layer"/>.</summary>
    public ulong SeedFor(int layer, DecoderProjection projection) =>
        Seed * 0x9E3779B97F4A7C15UL + (ulong)(layer * 8 + (int)projection + 1) * 0xD1B54A32D192ED03UL;
}

/// <summary>
/// The decoder layer forward (Llama, Mistral, Qwen2, Qwen3), the one both inference and training run:
/// <c>h1 = norm(x); q, k, v = proj(h1) [+ q/k norm]; RoPE; attention; mid = x + o(att); h2 = norm(mid);
/// out = mid + down(silu(gate(h2))·up(h2))</c>. Inference passes a KV cache and activations that overwrite each other
/// (the residual stream <c>x</c> is updated in place); training attends within the batch and keeps in
/// <see cref="LayerActivations"/> what its hand-written backward (<c>Training/DecoderBackward</c>) reads.
/// </summary>
internal static class DecoderLayer
{
    /// <summary>
    /// Runs layer <paramref name="layer"/> on <paramref name="n"/> tokens: <c>x [n, hidden] → output [n, hidden]</c>
    /// (the same tensor as x when <c>a.Mid</c> is invalid), <c>positions [n]</c> indexing the RoPE tables.
    /// </summary>
    public static void Forward(IComputeBackend b, ModelConfig c, DecoderLayerWeights w, Tensor ropeCos, Tensor ropeSin, int layer,
        Tensor x, Tensor output, LayerActivations a, int n, Tensor positions, in LayerAttention attention, in LoraDropout dropout)
    {
        float eps = (float)c.RmsNormEps;
        bool keepMid = a.Mid.IsValid;
        Tensor h1 = a.H1.SliceRows(0, n), q = a.Q.SliceRows(0, n), k = a.K.SliceRows(0, n), v = a.V.SliceRows(0, n);
        Tensor att = a.Attention.SliceRows(0, n), h2 = a.H2.SliceRows(0, n);
        Tensor gate = a.Gate.SliceRows(0, n), up = a.Up.SliceRows(0, n), act = a.Act.SliceRows(0, n);
        Tensor mid = keepMid ? a.Mid.SliceRows(0, n) : x;   // [n, hidden]

        b.RmsNorm(x, w.InputNorm, eps, h1);
        Tensor qOut = a.QRaw.SliceRows(0, n), kOut = a.KRaw.SliceRows(0, n);   // q, k themselves unless the q/k norms keep their inputs
        Project(b, w, DecoderProjection.QProj, h1, qOut, false, a, layer, dropout);
        Project(b, w, DecoderProjection.KProj, h1, kOut, false, a, layer, dropout);
        Project(b, w, DecoderProjection.VProj, h1, v, false, a, layer, dropout);
        if (c.QkNorm)
        {
            b.RmsNorm(qOut.Reshape(n * c.NumHeads, c.HeadDim), w.QNorm, eps, q.Reshape(n * c.NumHeads, c.HeadDim));    // [tokens·heads, headDim]
            b.RmsNorm(kOut.Reshape(n * c.NumKvHeads, c.HeadDim), w.KNorm, eps, k.Reshape(n * c.NumKvHeads, c.HeadDim)); // [tokens·kvHeads, headDim]
        }
        b.Rope(q, positions, ropeCos, ropeSin, c.HeadDim, q);
        b.Rope(k, positions, ropeCos, ropeSin, c.HeadDim, k);
        Tensor keys = k, values = v;
        if (attention.Slots.IsValid)
        {
            b.WriteKv(k, v, attention.Slots, attention.CacheKeys, attention.CacheValues);
            keys = attention.CacheKeys;
            values = attention.CacheValues;
        }
        float scale = 1f / MathF.Sqrt(c.HeadDim);
        if (a.Lse.IsValid) b.Attention(q, keys, values, attention.KvStart, attention.KvCount, c.NumHeads, c.NumKvHeads, scale, att, a.Lse.SliceRows(0, n));
        else b.Attention(q, keys, values, attention.KvStart, attention.KvCount, c.NumHeads, c.NumKvHeads, scale, att);
        if (keepMid) b.Copy(x, mid);
        Project(b, w, DecoderProjection.OProj, att, mid, true, a, layer, dropout);
        b.RmsNorm(mid, w.PostAttentionNorm, eps, h2);
        Project(b, w, DecoderProjection.GateProj, h2, gate, false, a, layer, dropout);
        Project(b, w, DecoderProjection.UpProj, h2, up, false, a, layer, dropout);
        b.SwiGlu(gate, up, act);
        if (keepMid) b.Copy(mid, output);
        Project(b, w, DecoderProjection.DownProj, act, output, true, a, layer, dropout);
    }

    /// <summary>
    /// The layer for a forward that needs its output only at some tokens (the last layer when only the logits of
    /// those tokens are wanted): keys and values of all <paramref name="n"/> tokens are computed and written into the
    /// cache (later tokens attend to them), but queries, attention, the output projection and the MLP run only for the
    /// <paramref name="r"/> tokens listed in <paramref name="rows"/> <c>[r]</c>, whose RoPE positions and visible cache
    /// rows are <paramref name="rowPositions"/>, <paramref name="rowKvStart"/>, <paramref name="rowKvCount"/> <c>[r]</c>.
    /// <c>x [n, hidden]</c> is read; the selected tokens' outputs go to <paramref name="output"/> <c>[r, hidden]</c>
    /// (with <paramref name="r"/> = 0 only the keys and values are computed).
    /// Inference only (no dropout, nothing kept for a backward).
    /// </summary>
    public static void ForwardAtRows(IComputeBackend b, ModelConfig c, DecoderLayerWeights w, Tensor ropeCos, Tensor ropeSin,
        Tensor x, Tensor output, LayerActivations a, int n, Tensor positions, Tensor slots, Tensor keyCache, Tensor valueCache,
        Tensor rows, int r, Tensor rowPositions, Tensor rowKvStart, Tensor rowKvCount)
    {
        float eps = (float)c.RmsNormEps;
        Tensor h1 = a.H1.SliceRows(0, n), k = a.K.SliceRows(0, n), v = a.V.SliceRows(0, n), kOut = a.KRaw.SliceRows(0, n);   // [n, …]
        Tensor hq = a.H2.SliceRows(0, r), q = a.Q.SliceRows(0, r), qOut = a.QRaw.SliceRows(0, r), att = a.Attention.SliceRows(0, r);   // [r, …]
        Tensor h2 = a.H2.SliceRows(0, r), gate = a.Gate.SliceRows(0, r), up = a.Up.SliceRows(0, r), act = a.Act.SliceRows(0, r);      // [r, …]

        // Keys and values of every token.
        b.RmsNorm(x, w.InputNorm, eps, h1);
        Project(b, w, DecoderProjection.KProj, h1, kOut);
        Project(b, w, DecoderProjection.VProj, h1, v);
        if (c.QkNorm) b.RmsNorm(kOut.Reshape(n * c.NumKvHeads, c.HeadDim), w.KNorm, eps, k.Reshape(n * c.NumKvHeads, c.HeadDim)); // [tokens·kvHeads, headDim]
        b.Rope(k, positions, ropeCos, ropeSin, c.HeadDim, k);
        b.WriteKv(k, v, slots, keyCache, valueCache);
        if (r == 0) return;

        // Everything else only at the selected tokens.
        b.GatherRows(h1, rows, hq);
        Project(b, w, DecoderProjection.QProj, hq, qOut);
        if (c.QkNorm) b.RmsNorm(qOut.Reshape(r * c.NumHeads, c.HeadDim), w.QNorm, eps, q.Reshape(r * c.NumHeads, c.HeadDim)); // [r·heads, headDim]
        b.Rope(q, rowPositions, ropeCos, ropeSin, c.HeadDim, q);
        b.Attention(q, keyCache, valueCache, rowKvStart, rowKvCount, c.NumHeads, c.NumKvHeads, 1f / MathF.Sqrt(c.HeadDim), att);
        b.GatherRows(x, rows, output);
        Project(b, w, DecoderProjection.OProj, att, output, accumulate: true);
        b.RmsNorm(output, w.PostAttentionNorm, eps, h2);
        Project(b, w, DecoderProjection.GateProj, h2, gate);
        Project(b, w, DecoderProjection.UpProj, h2, up);
        b.SwiGlu(gate, up, act);
        Project(b, w, DecoderProjection.DownProj, act, output, accumulate: true);

        void Project(IComputeBackend b, DecoderLayerWeights w, DecoderProjection p, Tensor x, Tensor y, bool accumulate = false) =>
            w[p].Forward(b, x, y, accumulate, a.LoraU[(int)p], default, 0, false);
    }

    private static void Project(IComputeBackend b, DecoderLayerWeights w, DecoderProjection p, Tensor x, Tensor y, bool accumulate,
        LayerActivations a, int layer, in LoraDropout dropout) =>
        w[p].Forward(b, x, y, accumulate, a.LoraU[(int)p], dropout.Scratch, dropout.SeedFor(layer, p), dropout.On);
}
