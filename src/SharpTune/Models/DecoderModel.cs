using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// The activation arena of one inference forward chunk, allocated once for <see cref="MaxTokens"/> tokens: the
/// residual stream, one layer's intermediates (<see cref="LayerActivations"/> in their overwrite-each-other form), the
/// per-token index arrays and the logit rows.
/// </summary>
internal sealed class DecoderActivations : IDisposable
{
    private readonly Arena _arena;
    private Arena? _loraArena;

    public DecoderActivations(ModelConfig c, IComputeBackend backend, int maxTokens, int maxLogitRows)
    {
        MaxTokens = maxTokens;
        MaxLogitRows = maxLogitRows;
        _backend = backend;
        _arena = backend.CreateArena("activations");
        Hidden = _arena.Allocate(ElementType.F32, maxTokens, c.HiddenSize);
        Layer = new LayerActivations(_arena, c, maxTokens, forBackward: false, loraRank: 0);
        Ids = _arena.Allocate(ElementType.I32, 1, maxTokens);
        Positions = _arena.Allocate(ElementType.I32, 1, maxTokens);
        Slots = _arena.Allocate(ElementType.I32, 1, maxTokens);
        KvStart = _arena.Allocate(ElementType.I32, 1, maxTokens);
        KvCount = _arena.Allocate(ElementType.I32, 1, maxTokens);
        LogitRows = _arena.Allocate(ElementType.I32, 1, maxLogitRows);
        RowPositions = _arena.Allocate(ElementType.I32, 1, maxLogitRows);
        RowKvStart = _arena.Allocate(ElementType.I32, 1, maxLogitRows);
        RowKvCount = _arena.Allocate(ElementType.I32, 1, maxLogitRows);
        Selected = _arena.Allocate(ElementType.F32, maxLogitRows, c.HiddenSize);
        Logits = _arena.Allocate(ElementType.F32, maxLogitRows, c.VocabSize);
    }

    private readonly IComputeBackend _backend;

    public int MaxTokens { get; }
    public int MaxLogitRows { get; }
    public long Bytes => _arena.Bytes + (_loraArena?.Bytes ?? 0);

    /// <summary>Rank the LoRA work space holds (0: none yet).</summary>
    public int LoraRank { get; private set; }

    public Tensor Hidden { get; }     // [tokens, hidden]  the residual stream, updated in place by every layer
    public LayerActivations Layer { get; }
    public Tensor Ids { get; }        // [tokens]
    public Tensor Positions { get; }  // [tokens]
    public Tensor Slots { get; }      // [tokens]  cache row of each token
    public Tensor KvStart { get; }    // [tokens]  first cache row visible to each token
    public Tensor KvCount { get; }    // [tokens]  number of cache rows visible (position + 1)
    public Tensor LogitRows { get; }  // [logit rows]  which tokens of the chunk get logits
    public Tensor RowPositions { get; }  // [logit rows]  their positions
    public Tensor RowKvStart { get; }    // [logit rows]  their first visible cache row
    public Tensor RowKvCount { get; }    // [logit rows]  their visible cache rows
    public Tensor Selected { get; }   // [logit rows, hidden]
    public Tensor Logits { get; }     // [logit rows, vocab]

    /// <summary>
    /// Makes room for an attached adapter of rank <paramref name="rank"/>: one <c>u [tokens, rank]</c> buffer shared
    /// by every projection (each consumes its own u at once). Allocated when an adapter first needs it.
    /// </summary>
    public void EnsureLoraRank(int rank)
    {
        if (rank <= LoraRank) return;
        _loraArena?.Dispose();
        _loraArena = _backend.CreateArena("lora inputs");
        var u = _loraArena.Allocate(ElementType.F32, MaxTokens, rank);   // [tokens, r]
        for (int i = 0; i < Layer.LoraU.Length; i++) Layer.LoraU[i] = u;
        LoraRank = rank;
    }

    public void Dispose()
    {
        _loraArena?.Dispose();
        _arena.Dispose();
    }
}

/// <summary>
/// The decoder forward (Llama, Mistral, Qwen2, Qwen3) over a flat list of tokens, each belonging to a sequence at
/// a position, with a <see cref="KvCache"/>: prefill of a padded batch and single-token decode steps are both
/// such lists. Logits are computed only for the tokens asked for. All work runs through the backend's kernels; each
/// layer is <see cref="DecoderLayer"/>'s forward, the one training runs too. A LoRA adapter attached to the weights
/// (<c>SharpTune.Training.LoraAttachment</c>, or a trainable decoder's live adapter) runs unmerged.
/// </summary>
public sealed class DecoderModel : IDisposable
{
    private readonly DecoderActivations _act;
    private readonly int[] _ids, _pos, _slots, _start, _count, _rows, _rowPos, _rowStart, _rowCount;

    /// <summary>Creates the forward with an activation arena for chunks of up to <paramref name="maxTokens"/> tokens and <paramref name="maxLogitRows"/> logit rows.</summary>
    public DecoderModel(DecoderWeights weights, int maxTokens = 512, int maxLogitRows = 64)
    {
        Weights = weights;
        _act = new DecoderActivations(weights.Config, weights.Backend, maxTokens, maxLogitRows);
        _ids = new int[maxTokens]; _pos = new int[maxTokens]; _slots = new int[maxTokens];
        _start = new int[maxTokens]; _count = new int[maxTokens]; _rows = new int[maxLogitRows];
        _rowPos = new int[maxLogitRows]; _rowStart = new int[maxLogitRows]; _rowCount = new int[maxLogitRows];
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
    /// whose indices are listed in <paramref name="logitTokens"/> (ascending). With <paramref name="lastLayerAtLogitTokensOnly"/>
    /// the last layer computes only keys and values for the other tokens (<see cref="DecoderLayer.ForwardAtRows"/>): the
    /// same logits up to the attention kernel's rounding, for callers that need no more than these logits and the cache
    /// (generation, scoring). A caller should use one setting throughout, so that a token's logits never depend on
    /// how its forward was chunked or batched.
    /// </summary>
    public void Forward(KvCache cache, ReadOnlySpan<int> ids, ReadOnlySpan<int> sequences, ReadOnlySpan<int> positions, ReadOnlySpan<int> logitTokens, Span<float> logits,
        bool lastLayerAtLogitTokensOnly = false)
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
        _act.EnsureLoraRank(Weights.LoraRank);
        // Chunks of up to MaxTokens tokens run through all layers in turn; each chunk's logit rows (their final hidden
        // states) wait in Selected, and the LM head runs once over all of them — one read of the [vocab, hidden] head
        // per forward instead of one per chunk — or sooner when MaxLogitRows rows are waiting.
        int done = 0, logitDone = 0, pending = 0, flushed = 0;
        while (done < n)
        {
            int chunk = Math.Min(_act.MaxTokens, n - done);
            int logitStart = logitDone;
            while (logitDone < logitTokens.Length && logitTokens[logitDone] < done + chunk) logitDone++;
            if (pending + logitDone - logitStart > _act.MaxLogitRows)
            {
                if (pending > 0)
                {
                    LmHead(pending, logits.Slice(flushed * vocab, pending * vocab));
                    flushed += pending;
                    pending = 0;
                }
                // A chunk's own logit rows are bounded too: split the chunk further if needed.
                if (logitDone - logitStart > _act.MaxLogitRows)
                {
                    logitDone = logitStart + _act.MaxLogitRows;
                    chunk = logitTokens[logitDone - 1] + 1 - done;
                }
            }
            ForwardChunk(cache, ids.Slice(done, chunk), sequences.Slice(done, chunk), positions.Slice(done, chunk), logitTokens[logitStart..logitDone], done,
                pending, lastLayerAtLogitTokensOnly);
            pending += logitDone - logitStart;
            done += chunk;
        }
        if (pending > 0) LmHead(pending, logits.Slice(flushed * vocab, pending * vocab));
        for (int t = 0; t < n; t++)
            if (positions[t] + 1 > cache.Length(sequences[t])) cache.SetLength(sequences[t], positions[t] + 1);
    }

    /// <summary>
    /// Runs one chunk through every layer and leaves the final hidden state of its <paramref name="logitTokens"/>
    /// (indices into the whole forward, <paramref name="offset"/> being the chunk's first) in rows
    /// <paramref name="selectedRow"/>… of <c>Selected</c>.
    /// </summary>
    private void ForwardChunk(KvCache cache, ReadOnlySpan<int> ids, ReadOnlySpan<int> sequences, ReadOnlySpan<int> positions, ReadOnlySpan<int> logitTokens, int offset,
        int selectedRow, bool lastLayerAtRowsOnly)
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

        Tensor x = a.Hidden.SliceRows(0, n);
        Tensor idsT = a.Ids.Reshape(a.MaxTokens, 1).SliceRows(0, n), pos = a.Positions.Reshape(a.MaxTokens, 1).SliceRows(0, n);
        Tensor slots = a.Slots.Reshape(a.MaxTokens, 1).SliceRows(0, n);
        Tensor start = a.KvStart.Reshape(a.MaxTokens, 1).SliceRows(0, n), count = a.KvCount.Reshape(a.MaxTokens, 1).SliceRows(0, n);
        b.Upload(_ids.AsSpan(0, n), idsT);
        b.Upload(_pos.AsSpan(0, n), pos);
        b.Upload(_slots.AsSpan(0, n), slots);
        b.Upload(_start.AsSpan(0, n), start);
        b.Upload(_count.AsSpan(0, n), count);

        var w = Weights;
        w.Embedding.Lookup(b, idsT, x);
        Tensor rows = default, sel = default;
        if (r > 0)
        {
            rows = a.LogitRows.Reshape(a.MaxLogitRows, 1).SliceRows(0, r);
            sel = a.Selected.SliceRows(selectedRow, r);   // [r, hidden]
            b.Upload(_rows.AsSpan(0, r), rows);
        }
        for (int l = 0; l < c.NumLayers; l++)
        {
            // Pruned whenever asked, whatever the chunk holds, so that a token's logits take the same path however the
            // tokens were chunked and batched (a prefix-cached prompt's last token gets the plain run's logits).
            if (lastLayerAtRowsOnly && l == c.NumLayers - 1)
            {
                for (int i = 0; i < r; i++) { _rowPos[i] = _pos[_rows[i]]; _rowStart[i] = _start[_rows[i]]; _rowCount[i] = _count[_rows[i]]; }
                Tensor rowPos = a.RowPositions.Reshape(a.MaxLogitRows, 1).SliceRows(0, r);
                Tensor rowStart = a.RowKvStart.Reshape(a.MaxLogitRows, 1).SliceRows(0, r), rowCount = a.RowKvCount.Reshape(a.MaxLogitRows, 1).SliceRows(0, r);
                if (r > 0)
                {
                    b.Upload(_rowPos.AsSpan(0, r), rowPos);
                    b.Upload(_rowStart.AsSpan(0, r), rowStart);
                    b.Upload(_rowCount.AsSpan(0, r), rowCount);
                }
                DecoderLayer.ForwardAtRows(b, c, w.Layers[l], w.RopeCos, w.RopeSin, x, sel, a.Layer, n, pos, slots, cache.Keys[l], cache.Values[l],
                    rows, r, rowPos, rowStart, rowCount);
                return;
            }
            DecoderLayer.Forward(b, c, w.Layers[l], w.RopeCos, w.RopeSin, l, x, x, a.Layer, n, pos,
                LayerAttention.OverCache(start, count, slots, cache.Keys[l], cache.Values[l]), LoraDropout.Off);
        }
        if (r > 0) b.GatherRows(x, rows, sel);
    }

    /// <summary>Final norm and LM head over the first <paramref name="r"/> rows of <c>Selected</c>, into <paramref name="logits"/> <c>[r, vocab]</c>.</summary>
    private void LmHead(int r, Span<float> logits)
    {
        var b = Weights.Backend;
        Tensor sel = _act.Selected.SliceRows(0, r), lg = _act.Logits.SliceRows(0, r);   // [r, hidden], [r, vocab]
        b.RmsNorm(sel, Weights.FinalNorm, (float)Config.RmsNormEps, sel);
        Weights.LmHead.Forward(b, sel, lg, false, default, default, 0, dropout: false);
        b.Download(lg, logits[..(r * Config.VocabSize)]);
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
