using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Tests.Training;
using SharpTune.Training;

namespace SharpTune.Tests.Inference;

/// <summary>
/// A LoRA adapter run unmerged by the shared layer forward: attached to loaded base weights it generates what the
/// merged model generates; adapters swap over one base; and a trainable decoder's live parameters generate, mid-training,
/// what its saved-and-reloaded adapter (or full checkpoint) generates, without disturbing the training run.
/// </summary>
public sealed class UnmergedLoraTests
{
    private static readonly ModelConfig Config = PeftTestAdapters.Config();
    private static readonly int[][] Prompts = [[1, 2, 3, 4, 5, 6, 7], [8, 9], [10, 11, 12, 13]];
    private static readonly int[] Sequence = [4, 8, 15, 16, 23, 42, 7, 1, 30, 2, 61];
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 10 };

    private static IReadOnlyList<GenerationResult> Generate(DecoderModel model)
    {
        using var generator = new Generator(model, maxBatch: 3, maxLength: 32);
        return generator.Generate(Prompts, Greedy);
    }

    private static float[] Logits(DecoderModel model)
    {
        using var cache = new KvCache(model.Config, model.Weights.Backend, 1, 32);
        return model.ForwardPadded(cache, [Sequence], [Enumerable.Repeat(1, Sequence.Length).ToArray()])[0];
    }

    /// <summary>Every position's logits within <paramref name="tolerance"/> of that row's norm.</summary>
    private static void AssertLogitsClose(float[] expected, float[] actual, int vocab, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int row = 0; row < expected.Length / vocab; row++)
        {
            double diff = 0, norm = 0;
            for (int i = row * vocab; i < (row + 1) * vocab; i++)
            {
                diff += (double)(expected[i] - actual[i]) * (expected[i] - actual[i]);
                norm += (double)expected[i] * expected[i];
            }
            Assert.True(Math.Sqrt(diff) <= tolerance * Math.Sqrt(norm), $"position {row}: |Δ| {Math.Sqrt(diff)} vs norm {Math.Sqrt(norm)}");
        }
    }

    private static void AssertSameIds(IReadOnlyList<GenerationResult> expected, IReadOnlyList<GenerationResult> actual)
    {
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Ids, actual[i].Ids);
    }

    [Fact]
    public void An_unmerged_adapter_generates_what_the_merged_model_generates_and_adapters_swap_over_one_base()
    {
        using var backend = ComputeBackends.Create();
        var baseSource = RandomModels.Weights(Config, 11, bf16: false);
        var first = PeftTestAdapters.Random(Config, new LoraConfig { Rank = 4, Alpha = 8, Targets = LoraTargets.All }, seed: 3);
        var second = PeftTestAdapters.Random(Config, PeftTestAdapters.QV(rslora: true), seed: 9);

        using var weights = DecoderWeights.Load(Config, baseSource, backend);
        using var model = new DecoderModel(weights, maxTokens: 16, maxLogitRows: 4);   // chunks smaller than the sequence
        var plainIds = Generate(model);
        var plainLogits = Logits(model);

        foreach (var adapter in new[] { first, second })
        {
            using var merged = DecoderWeights.Load(Config, AdapterMerger.MergeInto(baseSource, Config, adapter), backend);
            using var mergedModel = new DecoderModel(merged, maxTokens: 16, maxLogitRows: 4);
            using var attached = LoraAttachment.Attach(weights, adapter);   // replaces the one attached before
            Assert.True(attached.IsAttached);
            var ids = Generate(model);
            AssertSameIds(Generate(mergedModel), ids);
            var logits = Logits(model);
            AssertLogitsClose(Logits(mergedModel), logits, Config.VocabSize, 1e-5);
            Assert.NotEqual(plainIds.SelectMany(r => r.Ids), ids.SelectMany(r => r.Ids));   // the adapter does change the output
        }

        // The last attachment was disposed: the base computes exactly what it computed before any adapter.
        AssertSameIds(plainIds, Generate(model));
        Assert.Equal(plainLogits, Logits(model));
    }

    [Fact]
    public void Attaching_replaces_the_previous_adapter_and_a_bad_adapter_or_a_training_base_is_refused()
    {
        using var backend = ComputeBackends.Create();
        var baseSource = RandomModels.Weights(Config, 12, bf16: false);
        using var weights = DecoderWeights.Load(Config, baseSource, backend);
        using var model = new DecoderModel(weights, maxTokens: 32, maxLogitRows: 4);
        var a = PeftTestAdapters.Random(Config, new LoraConfig { Rank = 8, Alpha = 8 }, seed: 1);
        var b = PeftTestAdapters.Random(Config, PeftTestAdapters.QV(), seed: 2);
        using var first = LoraAttachment.Attach(weights, a);
        using var second = LoraAttachment.Attach(weights, b);
        Assert.False(first.IsAttached);
        Assert.True(second.IsAttached);
        first.Dispose();   // disposing a replaced attachment leaves the current one in place
        using (var merged = DecoderWeights.Load(Config, AdapterMerger.MergeInto(baseSource, Config, b), backend))
        using (var mergedModel = new DecoderModel(merged, maxTokens: 32, maxLogitRows: 4))
            AssertSameIds(Generate(mergedModel), Generate(model));

        var otherConfig = PeftTestAdapters.Config(layers: 3);
        var e = Assert.Throws<UserException>(() => LoraAttachment.Attach(weights, PeftTestAdapters.Random(otherConfig, PeftTestAdapters.QV())));
        Assert.Contains("layers.2", e.Message);
        Assert.True(second.IsAttached);

        using var trainable = TrainableDecoder.CreateLora(Config, baseSource, a, backend, new TrainingOptions { MaxTokens = 16 });
        using var view = trainable.CreateInferenceModel();
        Assert.Throws<InvalidOperationException>(() => LoraAttachment.Attach(view.Weights, b));
        view.Weights.Dispose();   // the view's weights belong to the trainable decoder: nothing is freed
        var (ids, labels, mask) = TrainingOracleFixture.Batch(Config, 5, [6, 4]);
        Assert.True(trainable.Evaluate(TrainingBatch.FromPadded(ids, labels, mask, Config.VocabSize)).LossSum > 0);
        Assert.Equal(Generate(view).Select(r => r.Ids.Count), Prompts.Select(_ => Greedy.MaxNewTokens));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Generation_from_the_live_training_parameters_equals_generation_from_the_saved_checkpoint_and_does_not_disturb_training(bool full)
    {
        using var dir = new TempDir();
        using var backend = ComputeBackends.Create();
        var baseSource = RandomModels.Weights(Config, 13, bf16: false);
        var batches = Enumerable.Range(0, 2).Select(i =>
        {
            var (ids, labels, mask) = TrainingOracleFixture.Batch(Config, 90 + i, [9, 12, 5]);
            return TrainingBatch.FromPadded(ids, labels, mask, Config.VocabSize);
        }).ToList();
        var lora = new LoraConfig { Rank = 4, Alpha = 16, Dropout = 0.1 };
        var options = new TrainingOptions { MaxTokens = 64, LogitChunk = 8 };
        TrainableDecoder Make() => full
            ? TrainableDecoder.CreateFull(Config, baseSource, backend, options)
            : TrainableDecoder.CreateLora(Config, baseSource, LoraInitializer.Initialize(Config, lora, 4), backend, options);
        var adam = new AdamWOptions { LearningRate = 2e-2 };

        var uninterrupted = new List<double>();
        using (var model = Make())
        using (var trainer = new Trainer(model, adam, seed: 7))
            for (int s = 0; s < 6; s++) uninterrupted.Add(trainer.Step(batches).Loss);

        var interrupted = new List<double>();
        using (var model = Make())
        using (var trainer = new Trainer(model, adam, seed: 7))
        {
            using var view = model.CreateInferenceModel(maxTokens: 16, maxLogitRows: 4);
            var before = Logits(view);
            for (int s = 0; s < 3; s++) interrupted.Add(trainer.Step(batches).Loss);
            var liveIds = Generate(view);
            var liveLogits = Logits(view);
            Assert.NotEqual(before, liveLogits);   // the view sees the updates without a copy

            // The same parameters saved and loaded back, as a PEFT adapter over the base or as a full checkpoint.
            string saved = Path.Combine(dir.Path, "saved");
            DecoderWeights reloaded;
            LoraAttachment? attachment = null;
            if (full) reloaded = DecoderWeights.Load(Config, model.ExportParameters(), backend, WeightStorage.F32);
            else
            {
                PeftAdapter.Save(saved, model.ExportAdapter(), "base");
                reloaded = DecoderWeights.Load(Config, baseSource, backend, WeightStorage.F32);
                attachment = LoraAttachment.Attach(reloaded, PeftAdapter.Load(saved, Config));
            }
            using (reloaded)
            using (attachment)
            using (var reloadedModel = new DecoderModel(reloaded, maxTokens: 16, maxLogitRows: 4))
            {
                AssertSameIds(Generate(reloadedModel), liveIds);
                AssertLogitsClose(Logits(reloadedModel), liveLogits, Config.VocabSize, 1e-6);
            }
            for (int s = 3; s < 6; s++) interrupted.Add(trainer.Step(batches).Loss);
        }
        Assert.Equal(uninterrupted, interrupted);   // exact: generating in between changed no bit of the run
    }

    [Fact]
    public void The_loss_statistics_of_a_step_are_read_back_once_not_per_logit_chunk()
    {
        using var inner = ComputeBackends.Create();
        using var backend = new ProfilingBackend(inner);
        var batches = Enumerable.Range(0, 3).Select(i =>
        {
            var (ids, labels, mask) = TrainingOracleFixture.Batch(Config, 40 + i, [11, 7, 9]);
            return TrainingBatch.FromPadded(ids, labels, mask, Config.VocabSize);
        }).ToList();
        Assert.All(batches, b => Assert.True(b.SupervisedCount > 3, "several logit chunks per micro-batch"));
        using var model = TrainableDecoder.CreateLora(Config, RandomModels.Weights(Config, 14, false), LoraInitializer.Initialize(Config, new LoraConfig { Rank = 2 }, 1),
            backend, new TrainingOptions { MaxTokens = 64, LogitChunk = 3 });
        using var trainer = new Trainer(model, new AdamWOptions());
        var expected = batches.Select(model.Evaluate).Aggregate((x, y) => x + y);
        backend.Reset();
        var step = trainer.Step(batches);
        Assert.Equal(1, backend.Totals["Download"].Calls);
        Assert.Equal(expected.Supervised, step.SupervisedTokens);
        Assert.Equal(expected.LossSum / expected.Supervised, step.Loss, 1e-6);
        Assert.Equal((double)expected.Correct / expected.Supervised, step.TokenAccuracy, 12);
        Assert.Equal(expected.EntropySum / expected.Supervised, step.Entropy, 1e-6);
        backend.Reset();
        model.Evaluate(batches[0]);
        Assert.Equal(1, backend.Totals["Download"].Calls);
    }
}
