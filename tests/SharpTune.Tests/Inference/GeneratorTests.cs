using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Tests.Models;

namespace SharpTune.Tests.Inference;

/// <summary>Generation behaviour that needs no oracle: cache consistency, finish reasons, sampling with a seed.</summary>
public sealed class GeneratorTests : IDisposable
{
    private readonly IComputeBackend _backend = ComputeBackends.Create();
    private readonly ModelConfig _config = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, vocab: 61);
    private readonly DecoderWeights _weights;
    private readonly DecoderModel _model;

    public GeneratorTests()
    {
        _weights = DecoderWeights.Load(_config, RandomModels.Weights(_config, 7, bf16: false), _backend);
        _model = new DecoderModel(_weights, maxTokens: 32, maxLogitRows: 8);
    }

    public void Dispose()
    {
        _model.Dispose();
        _weights.Dispose();
        _backend.Dispose();
    }

    private static readonly int[][] Prompts = [[1, 2, 3, 4, 5, 6, 7], [8, 9], [10, 11, 12, 13]];

    [Fact]
    public void Cached_decode_gives_the_same_logits_as_a_full_forward()
    {
        using var cache = new KvCache(_config, _backend, 2, 32);
        int[] seq = [4, 8, 15, 16, 23, 42, 7, 1];
        int v = _config.VocabSize;
        var full = _model.ForwardPadded(cache, [seq], [Enumerable.Repeat(1, seq.Length).ToArray()])[0];
        // Prefill 5 tokens of sequence 1, then one token at a time.
        cache.Reset();
        var logits = new float[v];
        _model.Forward(cache, seq.AsSpan(0, 5), [1, 1, 1, 1, 1], [0, 1, 2, 3, 4], [4], logits);
        AssertClose(full.AsSpan(4 * v, v), logits);
        for (int p = 5; p < seq.Length; p++)
        {
            _model.Forward(cache, [seq[p]], [1], [p], [0], logits);
            AssertClose(full.AsSpan(p * v, v), logits);
        }
        Assert.Equal(seq.Length, cache.Length(1));
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"logit {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Batched_greedy_equals_one_prompt_at_a_time_and_is_deterministic()
    {
        using var batched = new Generator(_model, maxBatch: 3, maxLength: 24);
        using var single = new Generator(_model, maxBatch: 1, maxLength: 24);
        var options = new GenerationOptions { MaxNewTokens = 9 };
        var a = batched.Generate(Prompts, options);
        var b = single.Generate(Prompts, options);
        var again = batched.Generate(Prompts, options);
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(9, a[i].Ids.Count);
            Assert.Equal(FinishReason.Length, a[i].FinishReason);
            Assert.Equal(b[i].Ids, a[i].Ids);
            Assert.Equal(again[i].Ids, a[i].Ids);
            Assert.Null(a[i].Text);
        }
    }

    [Fact]
    public void Eos_and_stop_strings_end_sequences_with_their_reason()
    {
        using var gen = new Generator(_model, maxBatch: 3, maxLength: 24);
        var free = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 9 });
        var decoder = new LetterTokenizer();

        int eosId = free[0].Ids[3];
        var eos = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 9, EosTokenIds = [eosId] }, decoder);
        int firstEos = free[0].Ids.ToList().IndexOf(eosId);
        Assert.Equal(FinishReason.Eos, eos[0].FinishReason);
        Assert.Equal(free[0].Ids.Take(firstEos + 1), eos[0].Ids);
        Assert.Equal(decoder.Decode(free[0].Ids.Take(firstEos).ToArray(), skipSpecialTokens: true), eos[0].Text);

        // A stop string made of generated tokens 2..3 of prompt 1: generation stops after token 3, text cut before it.
        string stop = decoder.Decode(free[1].Ids.Skip(2).Take(2).ToArray(), skipSpecialTokens: true);
        var stopped = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 9, StopStrings = [stop] }, decoder);
        var fullText = decoder.Decode(free[1].Ids.ToArray(), skipSpecialTokens: true);
        int at = fullText.IndexOf(stop, StringComparison.Ordinal);
        Assert.Equal(FinishReason.Stop, stopped[1].FinishReason);
        Assert.Equal(free[1].Ids.Take(at + stop.Length), stopped[1].Ids);
        Assert.Equal(fullText[..at], stopped[1].Text);
    }

    [Fact]
    public void Sampling_is_reproducible_with_a_seed_and_top_k_1_is_greedy()
    {
        using var gen = new Generator(_model, maxBatch: 3, maxLength: 24);
        var greedy = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 8 });
        var topk1 = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 8, Temperature = 1.5f, TopK = 1, Seed = 3 });
        var tinyP = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 8, Temperature = 1f, TopP = 1e-6f, Seed = 4 });
        var s1 = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 8, Temperature = 100f, Seed = 11 });
        var s2 = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 8, Temperature = 100f, Seed = 11 });
        var s3 = gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 8, Temperature = 100f, Seed = 12 });
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(greedy[i].Ids, topk1[i].Ids);
            Assert.Equal(greedy[i].Ids, tinyP[i].Ids);
            Assert.Equal(s1[i].Ids, s2[i].Ids);
        }
        // With temperature 100 (near uniform) over 61 tokens, different seeds (and greedy) give different sequences.
        Assert.NotEqual(s1.SelectMany(r => r.Ids), s3.SelectMany(r => r.Ids));
        Assert.NotEqual(greedy.SelectMany(r => r.Ids), s1.SelectMany(r => r.Ids));
    }

    [Fact]
    public void Bad_options_and_too_long_prompts_are_user_errors()
    {
        using var gen = new Generator(_model, maxBatch: 2, maxLength: 10);
        Assert.Throws<UserException>(() => gen.Generate(Prompts, new GenerationOptions { MaxNewTokens = 5 }));
        Assert.Throws<UserException>(() => gen.Generate([[1]], new GenerationOptions { TopP = 0 }));
        Assert.Throws<UserException>(() => gen.Generate([[1]], new GenerationOptions { Temperature = -1 }));
        var e = Assert.Throws<UserException>(() => gen.Generate([[1, 999]], new GenerationOptions { MaxNewTokens = 2 }));
        Assert.Contains("999", e.Message);
    }
}
