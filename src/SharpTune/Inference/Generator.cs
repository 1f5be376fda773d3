using SharpTune.Text;
using SharpTune.Models;

namespace SharpTune.Inference;

/// <summary>
/// Batched generation with a preallocated KV cache: one prefill of all prompts (logits only at each prompt's
/// last token), then one decode step per new token for the sequences still running. Greedy is deterministic;
/// sampling is reproducible with its seed. Independent of the tokenizer: text goes through an <see cref="ITextTokenizer"/>.
/// </summary>
public sealed class Generator : IDisposable
{
    private readonly DecoderModel _model;
    private readonly KvCache _cache;
    private readonly float[] _logits;
    private readonly bool _pruneLastLayer;

    /// <summary>
    /// Allocates the cache for <paramref name="maxBatch"/> sequences of up to <paramref name="maxLength"/> tokens (prompt +
    /// generated). <paramref name="pruneLastLayer"/> runs the last layer's attention and MLP only at the tokens whose
    /// logits choose a next token (a prompt's last one; every decode token): the other prompt tokens need only their
    /// keys and values there, as llama.cpp does. Off, every token runs the whole last layer (the logits differ by float
    /// rounding only).
    /// </summary>
    public Generator(DecoderModel model, int maxBatch, int maxLength, bool pruneLastLayer = true)
    {
        _pruneLastLayer = pruneLastLayer;
        _model = model;
        _cache = new KvCache(model.Config, model.Weights.Backend, maxBatch, maxLength);
        _logits = new float[(long)maxBatch * model.Config.VocabSize];
    }

    /// <summary>Bytes of the KV cache.</summary>
    public long CacheBytes => _cache.Bytes;

    /// <summary>Generates for every prompt (in groups of the cache's batch size); results in prompt order.</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options, ITextTokenizer? decoder = null)
    {
        options.Validate();
        if (options.StopStrings.Count > 0 && decoder is null) throw new ArgumentException("stop strings need a token decoder", nameof(decoder));
        var sampler = new TokenSampler(options);
        var results = new List<GenerationResult>(prompts.Count);
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Length == 0) throw new UserException($"prompt {i + 1} is empty");
            if (prompts[i].Length + options.MaxNewTokens > _cache.MaxLength)
                throw new UserException($"prompt {i + 1} has {prompts[i].Length} tokens; with max_new_tokens {options.MaxNewTokens} it exceeds the context of {_cache.MaxLength}");
        }
        for (int start = 0; start < prompts.Count; start += _cache.MaxBatch)
            results.AddRange(GenerateGroup(prompts.Skip(start).Take(_cache.MaxBatch).ToArray(), options, decoder, sampler));
        return results;
    }

    /// <summary>Prompt tokens the last <see cref="GenerateContinuous"/> took from the prefix cache instead of computing.</summary>
    public long ReusedTokens { get; private set; }

    /// <summary>Timings of the last group, for benchmarks: prefill seconds and each decode step's seconds.</summary>
    public (double PrefillSeconds, List<double> StepSeconds) LastTimings { get; private set; } = (0, []);

    private GenerationResult[] GenerateGroup(int[][] prompts, GenerationOptions options, ITextTokenizer? decoder, TokenSampler sampler)
    {
        int batch = prompts.Length, vocab = _model.Config.VocabSize;
        _cache.Reset();
        var generated = new List<int>[batch];
        var finish = new FinishReason?[batch];
        var texts = new string?[batch];
        var eos = new HashSet<int>(options.EosTokenIds);
        var steps = new List<double>();
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();

        // Prefill: every prompt token, logits at each prompt's last token.
        int total = prompts.Sum(p => p.Length);
        var ids = new int[total];
        var seqs = new int[total];
        var pos = new int[total];
        var last = new int[batch];
        int n = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < prompts[b].Length; t++) { ids[n] = prompts[b][t]; seqs[n] = b; pos[n] = t; n++; }
            last[b] = n - 1;
            generated[b] = [];
        }
        if (options.MaxNewTokens == 0)
            return Enumerable.Range(0, batch).Select(b => new GenerationResult([], decoder is null ? null : "", FinishReason.Length)).ToArray();
        _model.Forward(_cache, ids, seqs, pos, last, _logits, _pruneLastLayer);
        double prefill = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;

        var active = new List<int>(batch);
        var stepIds = new int[batch];
        var stepSeqs = new int[batch];
        var stepPos = new int[batch];
        var rows = Enumerable.Range(0, batch).ToArray();
        for (int b = 0; b < batch; b++) active.Add(b);
        while (true)
        {
            // Choose the next token of each active sequence from its logits row (row i ↔ active[i]).
            for (int i = 0; i < active.Count; i++)
            {
                int b = active[i];
                int token = sampler.Next(_logits.AsSpan(i * vocab, vocab));
                generated[b].Add(token);
                if (eos.Contains(token)) finish[b] = FinishReason.Eos;
                else if (options.StopStrings.Count > 0 && StopAt(decoder!.Decode(generated[b].ToArray(), skipSpecialTokens: true), options.StopStrings) >= 0) finish[b] = FinishReason.Stop;
                else if (generated[b].Count >= options.MaxNewTokens) finish[b] = FinishReason.Length;
            }
            active.RemoveAll(b => finish[b] is not null);
            if (active.Count == 0) break;
            long ts = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int i = 0; i < active.Count; i++)
            {
                int b = active[i];
                stepIds[i] = generated[b][^1];
                stepSeqs[i] = b;
                stepPos[i] = prompts[b].Length + generated[b].Count - 1;
            }
            _model.Forward(_cache, stepIds.AsSpan(0, active.Count), stepSeqs.AsSpan(0, active.Count), stepPos.AsSpan(0, active.Count), rows.AsSpan(0, active.Count), _logits, _pruneLastLayer);
            steps.Add(System.Diagnostics.Stopwatch.GetElapsedTime(ts).TotalSeconds);
        }
        LastTimings = (prefill, steps);

        var results = new GenerationResult[batch];
        for (int b = 0; b < batch; b++)
        {
            string? text = null;
            if (decoder is not null)
            {
                var g = generated[b];
                int count = finish[b] == FinishReason.Eos ? g.Count - 1 : g.Count;
                text = decoder.Decode(g.GetRange(0, count).ToArray(), skipSpecialTokens: true);
                int cut = StopAt(text, options.StopStrings);
                if (cut >= 0) text = text[..cut];
            }
            results[b] = new GenerationResult(generated[b], text, finish[b]!.Value);
        }
        return results;
    }

    /// <summary>
    /// Continuous batching: generates for each prompt of <paramref name="prompts"/> (read lazily, each with the key the
    /// caller uses to place its result), keeping up to the cache's batch size of sequences running; a finished
    /// sequence's slot takes the next prompt in the very next step, whose prefill runs in the same forward as the
    /// others' decode tokens. <paramref name="finished"/> is called as each sequence ends (not in key order). Sampling
    /// draws from a generator seeded by (seed, key), so a prompt's output does not depend on which prompts ran beside it.
    /// With <paramref name="reusePrefixes"/>, a prompt's leading tokens that a prompt already in the cache shares are
    /// copied, not computed (<see cref="PrefixReuse"/>).
    /// </summary>
    public void GenerateContinuous(IEnumerable<(long Key, int[] Prompt)> prompts, GenerationOptions options, ITextTokenizer? decoder, Action<long, GenerationResult> finished,
        bool reusePrefixes = false)
    {
        options.Validate();
        if (options.StopStrings.Count > 0 && decoder is null) throw new ArgumentException("stop strings need a token decoder", nameof(decoder));
        int slots = _cache.MaxBatch, vocab = _model.Config.VocabSize;
        var eos = new HashSet<int>(options.EosTokenIds);
        var key = new long[slots];
        var prompt = new int[slots][];
        var generated = new List<int>[slots];
        var sampler = new TokenSampler[slots];
        var running = new bool[slots];
        var fresh = new bool[slots];
        var start = new int[slots];   // first prompt token a fresh slot computes (the ones before it are reused)
        var prefixes = new PrefixReuse(_cache, reusePrefixes);
        var ids = new List<int>();
        var seqs = new List<int>();
        var pos = new List<int>();
        var rows = new List<int>();
        using var source = prompts.GetEnumerator();
        bool more = true;
        while (true)
        {
            // Free slots take the next prompts.
            for (int s = 0; s < slots && more; s++)
            {
                if (running[s]) continue;
                if (!(more = source.MoveNext())) break;
                var (k, p) = source.Current;
                if (p.Length == 0) throw new UserException($"prompt {k + 1} is empty");
                if (p.Length + options.MaxNewTokens > _cache.MaxLength)
                    throw new UserException($"prompt {k + 1} has {p.Length} tokens; with max_new_tokens {options.MaxNewTokens} it exceeds the context of {_cache.MaxLength}");
                if (options.MaxNewTokens == 0) { finished(k, new GenerationResult([], decoder is null ? null : "", FinishReason.Length)); s--; continue; }
                key[s] = k; prompt[s] = p; generated[s] = []; running[s] = true; fresh[s] = true;
                sampler[s] = new TokenSampler(options with { Seed = SequenceSeed(options.Seed, k) });
                start[s] = prefixes.Start(s, p);
            }
            ids.Clear(); seqs.Clear(); pos.Clear(); rows.Clear();
            for (int s = 0; s < slots; s++)
            {
                if (!running[s]) continue;
                if (fresh[s])
                    for (int t = start[s]; t < prompt[s].Length; t++) { ids.Add(prompt[s][t]); seqs.Add(s); pos.Add(t); }
                else { ids.Add(generated[s][^1]); seqs.Add(s); pos.Add(prompt[s].Length + generated[s].Count - 1); }
                rows.Add(ids.Count - 1);
            }
            if (rows.Count == 0) break;
            _model.Forward(_cache, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seqs),
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pos), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows), _logits, _pruneLastLayer);
            for (int s = 0; s < slots; s++)
                if (fresh[s]) { prefixes.Prefilled(s); fresh[s] = false; }
            ReusedTokens = prefixes.ReusedTokens;
            int row = 0;
            for (int s = 0; s < slots; s++)
            {
                if (!running[s]) continue;
                int token = sampler[s].Next(_logits.AsSpan(row++ * vocab, vocab));
                var g = generated[s];
                g.Add(token);
                FinishReason? reason = null;
                if (eos.Contains(token)) reason = FinishReason.Eos;
                else if (options.StopStrings.Count > 0 && StopAt(decoder!.Decode(g.ToArray(), skipSpecialTokens: true), options.StopStrings) >= 0) reason = FinishReason.Stop;
                else if (g.Count >= options.MaxNewTokens) reason = FinishReason.Length;
                if (reason is not { } r) continue;
                running[s] = false;
                finished(key[s], Result(g, r, options, decoder));
            }
        }
    }

    /// <summary>The sampling seed of the sequence with key <paramref name="key"/>: a SplitMix64 finalizer of (seed, key).</summary>
    internal static int SequenceSeed(int seed, long key) =>
        (int)(SharpTune.Numerics.SplitMix64.Mix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)key) & 0x7FFFFFFF);

    private static GenerationResult Result(List<int> generated, FinishReason finish, GenerationOptions options, ITextTokenizer? decoder)
    {
        string? text = null;
        if (decoder is not null)
        {
            int count = finish == FinishReason.Eos ? generated.Count - 1 : generated.Count;
            text = decoder.Decode(generated.GetRange(0, count).ToArray(), skipSpecialTokens: true);
            int cut = StopAt(text, options.StopStrings);
            if (cut >= 0) text = text[..cut];
        }
        return new GenerationResult(generated, text, finish);
    }

    /// <summary>Index of the earliest stop string in <paramref name="text"/>, or -1.</summary>
    private static int StopAt(string text, IReadOnlyList<string> stops)
    {
        int best = -1;
        foreach (var s in stops)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
