using SharpTune.Models;

namespace SharpTune.Inference;

/// <summary>
/// Teacher-forced label scoring without generation: for each prompt, the log-probability of every label's complete
/// token sequence after it. One prefill per prompt (logits only at its last token, which scores every label's first
/// token); a label of several tokens then runs only its own tokens on top of the prompt's cached keys and values —
/// the labels share the prompt's KV cache and overwrite each other's continuation rows in turn. With prefix reuse
/// (<see cref="PrefixReuse"/>) a prompt's leading tokens that an earlier prompt in the cache shares are not computed again.
/// </summary>
public sealed class LabelScorer : IDisposable
{
    private readonly DecoderModel _model;
    private readonly KvCache _cache;
    private readonly PrefixReuse _prefixes;
    private readonly bool _pruneLastLayer;
    private float[] _logits = [];

    /// <summary>
    /// Allocates the cache for <paramref name="maxBatch"/> prompts of up to <paramref name="maxLength"/> tokens (prompt +
    /// longest label); <paramref name="reusePrefixes"/> turns the prefix cache on; <paramref name="pruneLastLayer"/> runs the
    /// last layer's attention and MLP only at the tokens whose logits score labels (the other tokens need only their
    /// keys and values there).
    /// </summary>
    public LabelScorer(DecoderModel model, int maxBatch, int maxLength, bool reusePrefixes = true, bool pruneLastLayer = true)
    {
        _pruneLastLayer = pruneLastLayer;
        _model = model;
        _cache = new KvCache(model.Config, model.Weights.Backend, maxBatch, maxLength);
        _prefixes = new PrefixReuse(_cache, reusePrefixes);
    }

    /// <summary>Prompt tokens taken from the prefix cache instead of computed, so far.</summary>
    public long ReusedTokens => _prefixes.ReusedTokens;

    /// <summary>Prompt tokens computed, so far.</summary>
    public long ComputedTokens { get; private set; }

    /// <summary>
    /// Scores each item (a prompt and its label token sequences, all non-empty) in groups of the cache's batch size;
    /// <paramref name="scored"/> receives, per item key, each label's summed log-probability in label order.
    /// </summary>
    public void Score(IEnumerable<(long Key, int[] Prompt, int[][] Labels)> items, Action<long, double[]> scored)
    {
        var group = new List<(long Key, int[] Prompt, int[][] Labels)>(_cache.MaxBatch);
        foreach (var item in items)
        {
            if (item.Prompt.Length == 0) throw new UserException($"prompt {item.Key + 1} is empty");
            if (item.Labels.Length == 0 || item.Labels.Any(l => l.Length == 0)) throw new ArgumentException("every label needs at least one token");
            int longest = item.Labels.Max(l => l.Length);
            if (item.Prompt.Length + longest - 1 > _cache.MaxLength)
                throw new UserException($"prompt {item.Key + 1} has {item.Prompt.Length} tokens; with its longest label it exceeds the context of {_cache.MaxLength}");
            group.Add(item);
            if (group.Count == _cache.MaxBatch) { ScoreGroup(group, scored); group.Clear(); }
        }
        if (group.Count > 0) ScoreGroup(group, scored);
    }

    private void ScoreGroup(List<(long Key, int[] Prompt, int[][] Labels)> group, Action<long, double[]> scored)
    {
        int vocab = _model.Config.VocabSize, batch = group.Count;
        var ids = new List<int>();
        var seqs = new List<int>();
        var pos = new List<int>();
        var rows = new List<int>();
        for (int b = 0; b < batch; b++)
        {
            var p = group[b].Prompt;
            for (int t = _prefixes.Start(b, p); t < p.Length; t++) { ids.Add(p[t]); seqs.Add(b); pos.Add(t); }
            rows.Add(ids.Count - 1);
        }
        ComputedTokens += ids.Count;
        Forward(ids, seqs, pos, rows);
        for (int b = 0; b < batch; b++) _prefixes.Prefilled(b);
        var result = new double[batch][];
        for (int b = 0; b < batch; b++)
        {
            var labels = group[b].Labels;
            result[b] = new double[labels.Length];
            var row = _logits.AsSpan(b * vocab, vocab);
            double lse = LogSumExp(row);
            for (int j = 0; j < labels.Length; j++) result[b][j] = row[labels[j][0]] - lse;
        }
        // Continuations: label j's tokens 0..k-2 at positions L..L+k-2 give the logits of its tokens 1..k-1.
        int maxLabels = group.Max(g => g.Labels.Length);
        for (int j = 0; j < maxLabels; j++)
        {
            ids.Clear(); seqs.Clear(); pos.Clear(); rows.Clear();
            for (int b = 0; b < batch; b++)
            {
                var labels = group[b].Labels;
                if (j >= labels.Length) continue;
                var label = labels[j];
                for (int t = 0; t + 1 < label.Length; t++)
                {
                    ids.Add(label[t]); seqs.Add(b); pos.Add(group[b].Prompt.Length + t);
                    rows.Add(ids.Count - 1);
                }
            }
            if (ids.Count == 0) continue;
            Forward(ids, seqs, pos, rows);
            int r = 0;
            for (int b = 0; b < batch; b++)
            {
                var labels = group[b].Labels;
                if (j >= labels.Length) continue;
                var label = labels[j];
                for (int t = 1; t < label.Length; t++, r++)
                {
                    var row = _logits.AsSpan(r * vocab, vocab);
                    result[b][j] += row[label[t]] - LogSumExp(row);
                }
            }
        }
        for (int b = 0; b < batch; b++) scored(group[b].Key, result[b]);
    }

    private void Forward(List<int> ids, List<int> seqs, List<int> pos, List<int> rows)
    {
        long need = (long)rows.Count * _model.Config.VocabSize;
        if (_logits.Length < need) _logits = new float[need];
        _model.Forward(_cache, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seqs),
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pos), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows), _logits,
            lastLayerAtLogitTokensOnly: _pruneLastLayer);
    }

    /// <summary>log Σ exp(x), in double.</summary>
    public static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (var v in x) max = MathF.Max(max, v);
        double sum = 0;
        foreach (var v in x) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    /// <summary>The softmax of <paramref name="scores"/> (log-probabilities) over the label set.</summary>
    public static double[] Normalize(IReadOnlyList<double> scores)
    {
        double max = scores.Max();
        var p = scores.Select(s => Math.Exp(s - max)).ToArray();
        double sum = p.Sum();
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
