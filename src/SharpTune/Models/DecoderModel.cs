using SharpTune.Engine;
using SharpTune.Inference;

namespace SharpTune.Models;

/// <summary>
/// The activation arena of one forward chunk: every intermediate of a layer as a named tensor, allocated once
/// for <see cref="MaxTokens"/> tokens. (Training will allocate one set per layer to keep what the backward pass
/// needs; the names stay the same.)
/// </summary>
internal sealed class DecoderActivations : IDisposable
{
    private readonly Arena _arena;

    public DecoderActivations(ModelConfig c, IComputeBackend backend, int maxTokens, int maxLogitRows)
    {
        MaxTokens = maxTokens;
        MaxLogitRows = maxLogitRows;
        _arena = backend.CreateArena("activations");
        Hidden = _arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        Normed = _arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        Q = _arena.Allocate(ElementType.F32, maxTokens, c.QueryDim);
        K = _arena.Allocate(ElementType.F32, maxTokens, c.KvDim);
        V = _arena.Allocate(ElementType.F32, maxTokens, c.KvDim);
        Attention = _arena.Allocate(ElementType.F32, maxTokens, c.QueryDim);
        Gate = _arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        Up = _arena.Allocate(ElementType.F32, maxTokens, c.IntermediateSize);
        Ids = _arena.Allocate(ElementType.I32, 1, maxTokens);
        Positions = _arena.Allocate(ElementType.I32, 1, maxTokens);
        Slots = _arena.Allocate(ElementType.I32, 1, maxTokens);
        KvStart = _arena.Allocate(ElementType.I32, 1, maxTokens);
        KvCount = _arena.Allocate(ElementType.I32, 1, maxTokens);
        LogitRows = _arena.Allocate(ElementType.I32, 1, maxLogitRows);
        Selected = _arena.Allocate(ElementType.F32, maxLogitRows, c.HiddenSize);
        Logits = _arena.Allocate(ElementType.F32, maxLogitRows, c.VocabSize);
    }

    public int MaxTokens { get; }
    public int MaxLogitRows { get; }
    public long Bytes => _arena.Bytes;

    public Tensor Hidden { get; }     // [tokens, hidden]  the residual stream
    public Tensor Normed { get; }     // [tokens, hidden]  RMSNorm output feeding attention / MLP
    public Tensor Q { get; }          // [tokens, heads·headDim]
    public Tensor K { get; }          // [tokens, kvHeads·headDim]
    public Tensor V { get; }          // [tokens, kvHeads·headDim]
    public Tensor Attention { get; }  // [tokens, heads·headDim]  attention output before o_proj
    public Tensor Gate { get; }       // [tokens, intermediate]  gate_proj, then silu(gate)·up
    public Tensor Up { get; }         // [tokens, intermediate]
    public Tensor Ids { get; }        // [tokens]
    public Tensor Positions { get; }  // [tokens]
    public Tensor Slots { get; }      // [tokens]  cache row of each token
    public Tensor KvStart { get; }    // [tokens]  first cache row visible to each token
    public Tensor KvCount { get; }    // [tokens]  number of cache rows visible (position + 1)
    public Tensor LogitRows { get; }  // [logit rows]  which tokens of the chunk get logits
    public Tensor Selected { get; }   // [logit rows, hidden]
    public Tensor Logits { get; }     // [logit rows, vocab]

    public void Dispose() => _arena.Dispose();
}

/// <summary>
/// The decoder forward (Llama, Mistral, Qwen2, Qwen3) over a flat list of tokens, each belonging to a sequence at
/// a position, with a <see cref="KvCache"/>: prefill of a padded batch and single-token decode steps are both
/// such lists. Logits are computed only for the tokens asked for. All work runs through the backend's kernels.
/// </summary>
public sealed class DecoderModel : IDisposable
{
    private readonly DecoderActivations _act;
    private readonly int[] _ids, _pos, _slots, _start, _count, _rows;

    /// <summary>Creates the forward with an activation arena for chunks of up to <paramref name="maxTokens"/> tokens and <paramref name="maxLogitRows"/> logit rows.</summary>
    public DecoderModel(DecoderWeights weights, int maxTokens = 512, int maxLogitRows = 64)
    {
        Weights = weights;
        _act = new DecoderActivations(weights.Config, weights.Backend, maxTokens, maxLogitRows);
        _ids = new int[maxTokens]; _pos = new int[maxTokens]; _slots = new int[maxTokens];
        _start = new int[maxTokens]; _count = new int[maxTokens]; _rows = new int[maxLogitRows];
    }

    /// <summary>The parameters.</summary>
    public DecoderWeights Weights { get; }

    /// <summary>The model's configuration.</summary>
    public ModelConfig Config => Weights.Config;

    /// <summary>Bytes of the activation arena.</summary>
    public long ActivationBytes => _act.Bytes;

    /// <summary>
    /// Runs <paramref name="ids"/> (token t belongs to sequence <c>sequences[t]</c> at position <c>positions[t]</c>;
    /// a sequence's tokens in order and contiguous with what the cache holds) through the model, appending their
    /// keys and values to <paramref name="cache"/>. Writes logits <c>[logitTokens.Length, vocab]</c> for the tokens
    /// whose indices are listed in <paramref name="logitTokens"/> (ascending).
    /// </summary>
    public void Forward(KvCache cache, ReadOnlySpan<int> ids, ReadOnlySpan<int> sequences, ReadOnlySpan<int> positions, ReadOnlySpan<int> logitTokens, Span<float> logits)
    {
        int n = ids.Length, vocab = Config.VocabSize;
        if (sequences.Length != n || positions.Length != n) throw new ArgumentException("ids, sequences and positions must have the same length");
        if (logits.Length < (long)logitTokens.Length * vocab) throw new ArgumentException("logits span too short");
        for (int t = 0; t < n; t++)
        {
            if ((uint)sequences[t] >= (uint)cache.MaxBatch) throw new ArgumentOutOfRangeException(nameof(sequences), $"sequence {sequences[t]} but the cache holds {cache.MaxBatch}");
            if ((uint)positions[t] >= (uint)cache.MaxLength)
                throw new UserException($"sequence {sequences[t]} reaches position {positions[t]}, beyond the cache length {cache.MaxLength}");
            if ((uint)ids[t] >= (uint)vocab) throw new UserException($"token id {ids[t]} is outside the vocabulary (0..{vocab - 1})");
        }
        int done = 0, logitDone = 0;
        while (done < n)
        {
            int chunk = Math.Min(_act.MaxTokens, n - done);
            int logitStart = logitDone;
            while (logitDone < logitTokens.Length && logitTokens[logitDone] < done + chunk) logitDone++;
            // Logit rows per chunk are bounded too: split the chunk further if needed.
            if (logitDone - logitStart > _act.MaxLogitRows)
            {
                logitDone = logitStart + _act.MaxLogitRows;
                chunk = logitTokens[logitDone - 1] + 1 - done;
            }
            ForwardChunk(cache, ids.Slice(done, chunk), sequences.Slice(done, chunk), positions.Slice(done, chunk), logitTokens[logitStart..logitDone], done,
                logits.Slice(logitStart * vocab, (logitDone - logitStart) * vocab));
            done += chunk;
        }
        for (int t = 0; t < n; t++)
            if (positions[t] + 1 > cache.Length(sequences[t])) cache.SetLength(sequences[t], positions[t] + 1);
    }

    private void ForwardChunk(KvCache cache, ReadOnlySpan<int> ids, ReadOnlySpan<int> sequences, ReadOnlySpan<int> positions, ReadOnlySpan<int> logitTokens, int offset, Span<float> logits)
    {
        var c = Config;
        var b = Weights.Backend;
        var a = _act;
        int n = ids.Length, r = logitTokens.Length;
        for (int t = 0; t < n; t++)
        {
            _ids[t] = ids[t];
            _pos[t] = positions[t];
            _start[t] = sequences[t] * cache.MaxLength;
            _slots[t] = _start[t] + positions[t];
            _count[t] = positions[t] + 1; // causal: keys at positions 0..p of its own sequence
        }
        for (int i = 0; i < r; i++) _rows[i] = logitTokens[i] - offset;

        Tensor x = a.Hidden.SliceRows(0, n), h = a.Normed.SliceRows(0, n);
        Tensor q = a.Q.SliceRows(0, n), k = a.K.SliceRows(0, n), v = a.V.SliceRows(0, n);
        Tensor att = a.Attention.SliceRows(0, n), gate = a.Gate.SliceRows(0, n), up = a.Up.SliceRows(0, n);
        Tensor idsT = a.Ids.Reshape(a.MaxTokens, 1).SliceRows(0, n), pos = a.Positions.Reshape(a.MaxTokens, 1).SliceRows(0, n);
        Tensor slots = a.Slots.Reshape(a.MaxTokens, 1).SliceRows(0, n);
        Tensor start = a.KvStart.Reshape(a.MaxTokens, 1).SliceRows(0, n), count = a.KvCount.Reshape(a.MaxTokens, 1).SliceRows(0, n);
        b.Upload(_ids.AsSpan(0, n), idsT);
        b.Upload(_pos.AsSpan(0, n), pos);
        b.Upload(_slots.AsSpan(0, n), slots);
        b.Upload(_start.AsSpan(0, n), start);
        b.Upload(_count.AsSpan(0, n), count);

        float eps = (float)c.RmsNormEps, scale = 1f / MathF.Sqrt(c.HeadDim);
        b.Embedding(idsT, Weights.Embedding, x);
        for (int l = 0; l < c.NumLayers; l++)
        {
            var w = Weights.Layers[l];
            b.RmsNorm(x, w.InputNorm, eps, h);
            b.Linear(h, w.Q, w.QBias, q, accumulate: false);
            b.Linear(h, w.K, w.KBias, k, accumulate: false);
            b.Linear(h, w.V, w.VBias, v, accumulate: false);
            if (c.QkNorm)
            {
                var qh = q.Reshape(n * c.NumHeads, c.HeadDim);    // [tokens·heads, headDim]
                var kh = k.Reshape(n * c.NumKvHeads, c.HeadDim);  // [tokens·kvHeads, headDim]
                b.RmsNorm(qh, w.QNorm, eps, qh);
                b.RmsNorm(kh, w.KNorm, eps, kh);
            }
            b.Rope(q, pos, Weights.RopeCos, Weights.RopeSin, c.HeadDim, q);
            b.Rope(k, pos, Weights.RopeCos, Weights.RopeSin, c.HeadDim, k);
            b.WriteKv(k, v, slots, cache.Keys[l], cache.Values[l]);
            b.Attention(q, cache.Keys[l], cache.Values[l], start, count, c.NumHeads, c.NumKvHeads, scale, att);
            b.Linear(att, w.O, w.OBias, x, accumulate: true);
            b.RmsNorm(x, w.PostAttentionNorm, eps, h);
            b.Linear(h, w.Gate, default, gate, accumulate: false);
            b.Linear(h, w.Up, default, up, accumulate: false);
            b.SwiGlu(gate, up, gate);
            b.Linear(gate, w.Down, default, x, accumulate: true);
        }
        if (r == 0) return;
        Tensor rows = a.LogitRows.Reshape(a.MaxLogitRows, 1).SliceRows(0, r), sel = a.Selected.SliceRows(0, r), lg = a.Logits.SliceRows(0, r);
        b.Upload(_rows.AsSpan(0, r), rows);
        b.GatherRows(x, rows, sel);
        b.RmsNorm(sel, Weights.FinalNorm, eps, sel);
        b.Linear(sel, Weights.LmHead, default, lg, accumulate: false);
        b.Download(lg, logits[..(r * c.VocabSize)]);
    }

    /// <summary>
    /// Forward of a right-padded batch as transformers takes it: <c>ids [batch][time]</c> with an attention mask
    /// (1 = token, 0 = padding); positions are counted per sequence over its unmasked tokens. Starts each sequence
    /// afresh in <paramref name="cache"/>. Returns, per sequence, the logits <c>[unmasked tokens, vocab]</c> flattened.
    /// Masked tokens are not computed at all.
    /// </summary>
    public float[][] ForwardPadded(KvCache cache, IReadOnlyList<int[]> ids, IReadOnlyList<int[]> attentionMask)
    {
        if (ids.Count != attentionMask.Count || ids.Count > cache.MaxBatch) throw new ArgumentException("ids and mask must have the same batch size, at most the cache's");
        var flatIds = new List<int>();
        var seqs = new List<int>();
        var pos = new List<int>();
        var counts = new int[ids.Count];
        for (int s = 0; s < ids.Count; s++)
        {
            if (ids[s].Length != attentionMask[s].Length) throw new ArgumentException($"sequence {s}: ids and mask lengths differ");
            cache.SetLength(s, 0);
            for (int t = 0; t < ids[s].Length; t++)
            {
                if (attentionMask[s][t] == 0) continue;
                flatIds.Add(ids[s][t]);
                seqs.Add(s);
                pos.Add(counts[s]++);
            }
        }
        var all = Enumerable.Range(0, flatIds.Count).ToArray();
        var logits = new float[(long)all.Length * Config.VocabSize];
        Forward(cache, flatIds.ToArray(), seqs.ToArray(), pos.ToArray(), all, logits);
        var result = new float[ids.Count][];
        long offset = 0;
        for (int s = 0; s < ids.Count; s++)
        {
            result[s] = logits.AsSpan((int)offset, counts[s] * Config.VocabSize).ToArray();
            offset += (long)counts[s] * Config.VocabSize;
        }
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _act.Dispose();
}
