using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Tests.Models;

namespace SharpTune.Tests.Inference;

/// <summary>Continuous batching gives each prompt what it gets alone; label scores equal full teacher-forced forwards.</summary>
public sealed class BatchingAndScoringTests
{
    private static readonly ModelConfig Config = RandomModels.Config(ModelArchitecture.Qwen3, tied: false, vocab: 61);
    private static readonly InMemoryTensorSource Weights = RandomModels.Weights(Config, 21, bf16: false);

    private static int[][] Prompts(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, rng.Next(1, 14)).Select(_ => rng.Next(Config.VocabSize)).ToArray()).ToArray();
    }

    [Fact]
    public void A_finished_slot_takes_the_next_prompt_and_every_prompt_gets_its_solo_result()
    {
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(Config, Weights, backend);
        using var model = new DecoderModel(weights, maxTokens: 16, maxLogitRows: 3);
        var prompts = Prompts(11, 3);
        // Two frequent tokens end sequences early, so slots free up at different steps.
        var options = new GenerationOptions { MaxNewTokens = 9, EosTokenIds = [5, 17, 40] };
        using var solo = new Generator(model, 1, 32);
        var expected = prompts.Select(p => solo.Generate([p], options)[0]).ToArray();
        Assert.Contains(expected, r => r.FinishReason == FinishReason.Eos);
        Assert.Contains(expected, r => r.FinishReason == FinishReason.Length);

        using var batched = new Generator(model, 3, 32);
        var got = new GenerationResult?[prompts.Length];
        var order = new List<long>();
        batched.GenerateContinuous(prompts.Select((p, i) => ((long)i, p)), options, null, (k, r) => { got[k] = r; order.Add(k); });
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i].Ids, got[i]!.Ids);
            Assert.Equal(expected[i].FinishReason, got[i]!.FinishReason);
        }
        // Continuous batching: results come back as sequences finish, not in groups of three in order.
        Assert.NotEqual(Enumerable.Range(0, prompts.Length).Select(i => (long)i), order);
    }

    [Fact]
    public void Sampled_outputs_do_not_depend_on_the_batch_a_prompt_runs_in()
    {
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(Config, Weights, backend);
        using var model = new DecoderModel(weights);
        var prompts = Prompts(6, 4);
        var options = new GenerationOptions { MaxNewTokens = 6, Temperature = 1.3f, TopK = 20, Seed = 9 };
        IReadOnlyList<int>[] Run(int batch, int skip)
        {
            using var g = new Generator(model, batch, 32);
            var r = new IReadOnlyList<int>[prompts.Length];
            g.GenerateContinuous(prompts.Select((p, i) => ((long)i, p)).Skip(skip), options, null, (k, x) => r[k] = x.Ids);
            return r;
        }
        var all = Run(4, 0);
        var resumed = Run(1, 2);
        for (int i = 2; i < prompts.Length; i++) Assert.Equal(all[i], resumed[i]);
    }

    [Fact]
    public void Label_scores_equal_log_probabilities_from_full_forwards_and_p_is_their_softmax()
    {
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(Config, Weights, backend);
        using var model = new DecoderModel(weights, maxTokens: 8, maxLogitRows: 8);
        var prompts = Prompts(5, 7);
        int[][] labels = [[3], [9, 12, 4], [9, 30]];   // one single-token and two multi-token labels sharing a first token
        var got = new Dictionary<long, double[]>();
        using (var scorer = new LabelScorer(model, 2, 32))
            scorer.Score(prompts.Select((p, i) => ((long)i, p, labels)), (k, s) => got[k] = s);
        using var cache = new KvCache(Config, backend, 1, 32);
        int vocab = Config.VocabSize;
        for (int i = 0; i < prompts.Length; i++)
            for (int j = 0; j < labels.Length; j++)
            {
                int[] full = [.. prompts[i], .. labels[j]];
                var logits = model.ForwardPadded(cache, [full], [Enumerable.Repeat(1, full.Length).ToArray()])[0];
                double expected = 0;
                for (int t = 0; t < labels[j].Length; t++)
                {
                    int row = prompts[i].Length - 1 + t;
                    var r = logits.AsSpan(row * vocab, vocab);
                    double max = double.NegativeInfinity, sum = 0;
                    foreach (var v in r) max = Math.Max(max, v);
                    foreach (var v in r) sum += Math.Exp(v - max);
                    expected += r[labels[j][t]] - (max + Math.Log(sum));
                }
                Assert.Equal(expected, got[i][j], 4);
            }
        var p = LabelScorer.Normalize(got[0]);
        double z = got[0].Sum(Math.Exp);
        for (int j = 0; j < labels.Length; j++) Assert.Equal(Math.Exp(got[0][j]) / z, p[j], 12);
        Assert.Equal(1.0, p.Sum(), 12);
    }

    // Prompts that share prefixes as batch-inference prompts do: a common head (a system prompt), then per-group and
    // per-prompt parts; one prompt is a prefix of another and one repeats exactly.
    private static int[][] SharedPrefixPrompts(int seed)
    {
        var rng = new Random(seed);
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(Config.VocabSize)).ToArray();
        var head = Tokens(9);
        var groups = new[] { Tokens(4), Tokens(6) };
        var prompts = new List<int[]>();
        for (int i = 0; i < 9; i++) prompts.Add([.. head, .. groups[i % 2], .. Tokens(rng.Next(1, 8))]);
        prompts.Add(prompts[3][..^1]);   // a prefix of an earlier prompt
        prompts.Add(prompts[5]);         // the same prompt again
        prompts.Add(Tokens(5));          // nothing shared
        return prompts.ToArray();
    }

    [Fact]
    public void Prefix_cached_scoring_gives_the_scores_of_the_plain_path()
    {
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(Config, Weights, backend);
        using var model = new DecoderModel(weights, maxTokens: 16, maxLogitRows: 8);
        var prompts = SharedPrefixPrompts(11);
        int[][] labels = [[3], [9, 12, 4]];
        Dictionary<long, double[]> Score(bool reuse, out long reused, out long computed)
        {
            var got = new Dictionary<long, double[]>();
            using var scorer = new LabelScorer(model, 3, 40, reusePrefixes: reuse, pruneLastLayer: false);
            scorer.Score(prompts.Select((p, i) => ((long)i, p, labels)), (k, s) => got[k] = s);
            reused = scorer.ReusedTokens;
            computed = scorer.ComputedTokens;
            return got;
        }
        var plain = Score(false, out long plainReused, out long plainComputed);
        var cached = Score(true, out long reused, out long computed);
        Assert.Equal(0, plainReused);
        Assert.Equal(prompts.Sum(p => (long)p.Length), plainComputed);
        Assert.True(reused > prompts.Length * 5, $"only {reused} prompt tokens came from the prefix cache");
        Assert.Equal(plainComputed, computed + reused);
        for (int i = 0; i < prompts.Length; i++)
            for (int j = 0; j < labels.Length; j++)
                Assert.Equal(plain[i][j], cached[i][j], 1e-5);   // float rounding: the suffix runs through other chunks and attention tiles
    }

    [Fact]
    public void Scoring_with_the_last_layer_pruned_to_the_scored_tokens_gives_the_same_scores_with_less_work()
    {
        var prompts = SharedPrefixPrompts(12);
        int[][] labels = [[3], [7], [9, 12, 4]];
        (Dictionary<long, double[]> Scores, double LinearFlops) Score(bool prune)
        {
            using var backend = new ProfilingBackend(ComputeBackends.Create());
            using var weights = DecoderWeights.Load(Config, Weights, backend);
            using var model = new DecoderModel(weights, maxTokens: 64, maxLogitRows: 8);
            var got = new Dictionary<long, double[]>();
            using (var scorer = new LabelScorer(model, 4, 40, reusePrefixes: false, pruneLastLayer: prune))
                scorer.Score(prompts.Select((p, i) => ((long)i, p, labels)), (k, s) => got[k] = s);
            return (got, backend.Totals.Where(t => t.Key.StartsWith("Linear", StringComparison.Ordinal)).Sum(t => t.Value.Flops));
        }
        var (plain, plainFlops) = Score(false);
        var (pruned, prunedFlops) = Score(true);
        // Two layers: the last one's queries, output projection and MLP run for one token per prompt instead of all.
        Assert.True(prunedFlops < 0.7 * plainFlops, $"pruned {prunedFlops} vs plain {plainFlops} flops");
        for (int i = 0; i < prompts.Length; i++)
            for (int j = 0; j < labels.Length; j++)
                Assert.Equal(plain[i][j], pruned[i][j], 1e-5);   // float rounding: other attention kernels
    }

    [Fact]
    public void Prefix_cached_generation_gives_the_ids_of_the_plain_path()
    {
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(Config, Weights, backend);
        using var model = new DecoderModel(weights, maxTokens: 16, maxLogitRows: 3);
        var prompts = SharedPrefixPrompts(13);
        var options = new GenerationOptions { MaxNewTokens = 7, EosTokenIds = [5, 17, 40] };
        (GenerationResult[] Results, long Reused) Run(bool reuse)
        {
            using var g = new Generator(model, 3, 40);
            var r = new GenerationResult[prompts.Length];
            g.GenerateContinuous(prompts.Select((p, i) => ((long)i, p)), options, null, (k, x) => r[k] = x, reusePrefixes: reuse);
            return (r, g.ReusedTokens);
        }
        var (plain, none) = Run(false);
        var (cached, reused) = Run(true);
        Assert.Equal(0, none);
        Assert.True(reused > prompts.Length * 5, $"only {reused} prompt tokens came from the prefix cache");
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(plain[i].Ids, cached[i].Ids);
            Assert.Equal(plain[i].FinishReason, cached[i].FinishReason);
        }
    }

    [Fact]
    public void Generation_with_the_last_layer_pruned_gives_the_ids_of_the_whole_layer_with_less_work_and_one_lm_head_per_forward()
    {
        var prompts = SharedPrefixPrompts(17);
        var options = new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [5] };
        (GenerationResult[] Results, double LinearFlops, long HeadCalls, long Forwards) Run(bool prune)
        {
            using var backend = new ProfilingBackend(ComputeBackends.Create());
            using var weights = DecoderWeights.Load(Config, Weights, backend);
            // Chunks of 8 tokens: every prefill spans several chunks, whose logit rows share one LM head call.
            using var model = new DecoderModel(weights, maxTokens: 8, maxLogitRows: 4);
            var r = new GenerationResult[prompts.Length];
            long forwards = 0;
            using (var g = new Generator(model, 4, 40, pruneLastLayer: prune))
            {
                var results = g.Generate(prompts, options);
                for (int i = 0; i < r.Length; i++) r[i] = results[i];
                forwards = (prompts.Length + 3) / 4 + results.Chunk(4).Sum(group => group.Max(x => x.Ids.Count) - 1);
            }
            var linear = backend.Totals.Where(t => t.Key.StartsWith("Linear", StringComparison.Ordinal)).ToArray();
            long head = linear.Where(t => t.Key.Contains($"W[{Config.VocabSize},{Config.HiddenSize}]", StringComparison.Ordinal)).Sum(t => t.Value.Calls);
            return (r, linear.Sum(t => t.Value.Flops), head, forwards);
        }
        var (whole, wholeFlops, wholeHead, forwards) = Run(false);
        var (pruned, prunedFlops, prunedHead, _) = Run(true);
        Assert.True(prunedFlops < 0.8 * wholeFlops, $"pruned {prunedFlops} vs whole {wholeFlops} flops");
        // One LM head call per forward (every forward here has at most maxLogitRows logit rows), not one per chunk.
        Assert.Equal(forwards, wholeHead);
        Assert.Equal(forwards, prunedHead);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(whole[i].Ids, pruned[i].Ids);
            Assert.Equal(whole[i].FinishReason, pruned[i].FinishReason);
        }
    }
}
