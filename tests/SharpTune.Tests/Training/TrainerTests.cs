using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

/// <summary>
/// The training loop's own guarantees, without an oracle: resuming from a checkpoint continues bit for bit,
/// recomputation (gradient checkpointing) changes nothing, LoRA dropout is seeded, regenerated in the backward pass
/// and off in evaluation, a merged adapter computes what the adapter computes, schedules and batch validation.
/// </summary>
public sealed class TrainerTests
{
    private static readonly ModelConfig Qwen3 = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, hidden: 32, heads: 4, kvHeads: 2, headDim: 8, intermediate: 48, vocab: 67);

    private static List<TrainingBatch> Batches(ModelConfig c, int seed, params int[][] lengths) =>
        lengths.Select((l, i) =>
        {
            var (ids, labels, mask) = TrainingOracleFixture.Batch(c, seed + i, l);
            return TrainingBatch.FromPadded(ids, labels, mask, c.VocabSize);
        }).ToList();

    private static TrainableDecoder Lora(IComputeBackend b, ModelConfig c, InMemoryTensorSource w, LoraConfig lora, int maxTokens = 64, bool checkpointing = false, ulong seed = 1) =>
        TrainableDecoder.CreateLora(c, w, LoraInitializer.Initialize(c, lora, seed), b, new TrainingOptions { MaxTokens = maxTokens, GradientCheckpointing = checkpointing, LogitChunk = 4 });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Save_load_and_continue_gives_bitwise_identical_losses(bool full)
    {
        using var dir = new TempDir();
        var weights = RandomModels.Weights(Qwen3, 3, false);
        var batches = Batches(Qwen3, 40, [9, 5, 12], [7, 3]);
        var opt = new AdamWOptions { LearningRate = 2e-3, WeightDecay = 0.01, MaxGradNorm = 1.0 };
        var schedule = new LearningRateSchedule(LearningRateScheduleType.Cosine, 2, 8);
        var lora = new LoraConfig { Rank = 4, Alpha = 8, Dropout = 0.1 };
        using var backend = ComputeBackends.Create();
        TrainableDecoder Make() => full
            ? TrainableDecoder.CreateFull(Qwen3, weights, backend, new TrainingOptions { MaxTokens = 64 })
            : Lora(backend, Qwen3, weights, lora);

        var uninterrupted = new List<double>();
        using (var model = Make())
        using (var trainer = new Trainer(model, opt, schedule, seed: 5))
            for (int s = 0; s < 8; s++) uninterrupted.Add(trainer.Step(batches).Loss);

        var resumed = new List<double>();
        string checkpoint = Path.Combine(dir.Path, "checkpoint-4");
        using (var model = Make())
        using (var trainer = new Trainer(model, opt, schedule, seed: 5))
        {
            for (int s = 0; s < 4; s++) resumed.Add(trainer.Step(batches).Loss);
            TrainingCheckpoint.Save(checkpoint, trainer, "base-model");
        }
        Assert.True(File.Exists(Path.Combine(checkpoint, TrainingCheckpoint.OptimizerFile)));
        Assert.True(File.Exists(Path.Combine(checkpoint, full ? TrainingCheckpoint.ModelFile : PeftAdapter.WeightsFileName)));
        using (var model = Make())
        using (var trainer = new Trainer(model, opt, schedule, seed: 5))
        {
            Assert.Equal(4, TrainingCheckpoint.Load(checkpoint, trainer));
            for (int s = 4; s < 8; s++) resumed.Add(trainer.Step(batches).Loss);
        }
        Assert.Equal(uninterrupted, resumed); // exact: every double equal
        Assert.True(uninterrupted[^1] < uninterrupted[0], "training lowers the loss");
    }

    [Fact]
    public void Checkpoint_of_another_mode_or_seed_is_refused_and_a_failed_save_leaves_nothing()
    {
        using var dir = new TempDir();
        var weights = RandomModels.Weights(Qwen3, 3, false);
        var batches = Batches(Qwen3, 50, [6, 4]);
        using var backend = ComputeBackends.Create();
        string checkpoint = Path.Combine(dir.Path, "ckpt");
        using (var model = Lora(backend, Qwen3, weights, new LoraConfig { Rank = 2 }))
        using (var trainer = new Trainer(model, new AdamWOptions(), seed: 1))
        {
            trainer.Step(batches);
            TrainingCheckpoint.Save(checkpoint, trainer);
            var again = Assert.Throws<UserException>(() => TrainingCheckpoint.Save(checkpoint, trainer));
            Assert.Contains("not empty", again.Message);
        }
        using (var model = TrainableDecoder.CreateFull(Qwen3, weights, backend, new TrainingOptions { MaxTokens = 64 }))
        using (var trainer = new Trainer(model, new AdamWOptions(), seed: 1))
            Assert.Contains("mode is 'lora' but this run trains 'full'", Assert.Throws<UserException>(() => TrainingCheckpoint.Load(checkpoint, trainer)).Message);
        using (var model = Lora(backend, Qwen3, weights, new LoraConfig { Rank = 2 }))
        using (var trainer = new Trainer(model, new AdamWOptions(), seed: 2))
            Assert.Contains("seed is 1 but this run uses 2", Assert.Throws<UserException>(() => TrainingCheckpoint.Load(checkpoint, trainer)).Message);
        using (var model = Lora(backend, Qwen3, weights, new LoraConfig { Rank = 2, Targets = LoraTargets.Parse("q_proj", "t") }))
        using (var trainer = new Trainer(model, new AdamWOptions(), seed: 1))
            Assert.Contains("does not train", Assert.Throws<UserException>(() => TrainingCheckpoint.Load(checkpoint, trainer)).Message);
        Assert.Contains("not a training checkpoint", Assert.Throws<UserException>(() =>
        {
            using var model = Lora(backend, Qwen3, weights, new LoraConfig { Rank = 2 });
            using var trainer = new Trainer(model, new AdamWOptions(), seed: 1);
            TrainingCheckpoint.Load(dir.Path, trainer);
        }).Message);
        Assert.Equal(["ckpt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName)); // no temporary folders left
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradient_checkpointing_changes_no_bit(bool full)
    {
        var weights = RandomModels.Weights(Qwen3, 4, false);
        var batches = Batches(Qwen3, 60, [11, 7, 3]);
        using var backend = ComputeBackends.Create();
        float[][] Run(bool checkpointing, out double loss)
        {
            using var model = full
                ? TrainableDecoder.CreateFull(Qwen3, weights, backend, new TrainingOptions { MaxTokens = 64, GradientCheckpointing = checkpointing })
                : Lora(backend, Qwen3, weights, new LoraConfig { Rank = 4, Dropout = 0.2 }, checkpointing: checkpointing);
            using var trainer = new Trainer(model, new AdamWOptions { LearningRate = 1e-2 }, seed: 3);
            trainer.Step(batches);
            model.ZeroGradients();
            var stats = model.ForwardBackward(batches[0], 1f / batches[0].SupervisedCount, 77);
            loss = stats.LossSum;
            return model.Parameters.Select(p => model.Download(p.Grad)).ToArray();
        }
        var plain = Run(false, out double l1);
        var recomputed = Run(true, out double l2);
        Assert.Equal(l1, l2);
        for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], recomputed[i]);
    }

    [Fact]
    public void Gradient_checkpointing_shrinks_the_activation_arena()
    {
        var weights = RandomModels.Weights(Qwen3 with { NumLayers = 4 }, 4, false);
        using var backend = ComputeBackends.Create();
        long Bytes(bool checkpointing)
        {
            using var m = TrainableDecoder.CreateFull(Qwen3 with { NumLayers = 4 }, weights, backend, new TrainingOptions { MaxTokens = 256, GradientCheckpointing = checkpointing });
            return m.Bytes.Activations;
        }
        Assert.True(Bytes(true) * 2 < Bytes(false), "recomputation keeps one layer's intermediates instead of four");
    }

    [Fact]
    public void Lora_dropout_is_seeded_regenerated_in_the_backward_pass_and_off_in_evaluation()
    {
        var weights = RandomModels.Weights(Qwen3, 5, false);
        var batch = Batches(Qwen3, 70, [12, 9])[0];
        using var backend = ComputeBackends.Create();
        var adapter = LoraInitializer.Initialize(Qwen3, new LoraConfig { Rank = 4, Dropout = 0.3 }, 2);
        var rng = new Random(1);
        adapter = adapter with { Modules = adapter.Modules.Select(m => m with { B = m.B.Select(_ => (float)(rng.NextDouble() - 0.5) * 0.5f).ToArray() }).ToList() };
        using var model = TrainableDecoder.CreateLora(Qwen3, weights, adapter, backend, new TrainingOptions { MaxTokens = 64 });
        using var noDropout = TrainableDecoder.CreateLora(Qwen3, weights, adapter with { Config = adapter.Config with { Dropout = 0 } }, backend, new TrainingOptions { MaxTokens = 64 });

        double eval = model.Evaluate(batch).LossSum;
        Assert.Equal(noDropout.Evaluate(batch).LossSum, eval);
        double a = model.TrainingForward(batch, 11).LossSum, again = model.TrainingForward(batch, 11).LossSum, other = model.TrainingForward(batch, 12).LossSum;
        Assert.Equal(a, again);
        Assert.NotEqual(a, other);
        Assert.NotEqual(a, eval);

        // The backward's regenerated masks agree with the forward's: a directional finite difference of the training
        // loss (same seed) matches the gradient along that direction.
        model.ZeroGradients();
        var stats = model.ForwardBackward(batch, 1f, 11);
        Assert.Equal(a, stats.LossSum);
        var grads = model.Parameters.Select(p => model.Download(p.Grad)).ToArray();
        var values = model.Parameters.Select(p => model.Download(p.Value)).ToArray();
        double norm = Math.Sqrt(grads.Sum(g => g.Sum(x => (double)x * x)));
        const double h = 2e-3;
        double Shifted(double t)
        {
            for (int i = 0; i < values.Length; i++)
                backend.Upload(values[i].Select((v, j) => (float)(v + t * grads[i][j] / norm)).ToArray(), model.Parameters[i].Value);
            return model.TrainingForward(batch, 11).LossSum;
        }
        double numeric = (Shifted(h) - Shifted(-h)) / (2 * h);
        Assert.True(Math.Abs(numeric - norm) <= 0.02 * norm, $"directional derivative {numeric} vs gradient norm {norm}");
    }

    [Fact]
    public void A_merged_adapter_computes_what_the_adapter_computes()
    {
        var weights = RandomModels.Weights(Qwen3, 6, false);
        var batches = Batches(Qwen3, 80, [10, 6, 8]);
        using var backend = ComputeBackends.Create();
        using var model = Lora(backend, Qwen3, weights, new LoraConfig { Rank = 4, Alpha = 16, UseRslora = true });
        using (var trainer = new Trainer(model, new AdamWOptions { LearningRate = 1e-2 }, seed: 1))
            for (int s = 0; s < 3; s++) trainer.Step(batches);
        var merged = AdapterMerger.MergeInto(weights, Qwen3, model.ExportAdapter());
        using var full = TrainableDecoder.CreateFull(Qwen3, merged, backend, new TrainingOptions { MaxTokens = 64 });
        foreach (var b in batches)
        {
            double adapterLoss = model.Evaluate(b).LossSum, mergedLoss = full.Evaluate(b).LossSum;
            Assert.True(Math.Abs(adapterLoss - mergedLoss) <= 1e-5 * Math.Abs(adapterLoss), $"{adapterLoss} vs {mergedLoss}");
        }
    }

    [Fact]
    public void Schedules_follow_transformers()
    {
        var linear = new LearningRateSchedule(LearningRateScheduleType.Linear, 2, 10);
        Assert.Equal([0, 0.5, 1, 0.875, 0.75], Enumerable.Range(0, 5).Select(s => linear.Factor(s)));
        Assert.Equal(0, linear.Factor(10));
        var cosine = new LearningRateSchedule(LearningRateScheduleType.Cosine, 0, 4);
        Assert.Equal(1, cosine.Factor(0), 12);
        Assert.Equal(0.5, cosine.Factor(2), 12);
        Assert.Equal(0, cosine.Factor(4), 12);
        Assert.Equal(0.5, new LearningRateSchedule(LearningRateScheduleType.Constant, 4, 0).Factor(2));
        Assert.Equal(1, LearningRateSchedule.ConstantRate.Factor(100));
        Assert.Equal(3, LearningRateSchedule.WarmupStepsFromRatio(0.03, 100));
        Assert.Equal(3, LearningRateSchedule.WarmupStepsFromRatio(0.025, 100));
        Assert.Equal(1, LearningRateSchedule.WarmupStepsFromRatio(0.1, 3)); // ceil(0.30000000000000004), as Python computes it
        Assert.Throws<UserException>(() => LearningRateSchedule.ParseType("step", "--lr-scheduler"));
    }

    [Fact]
    public void Bad_batches_name_the_row_and_position()
    {
        int[][] ids = [[1, 2, 3], [4, 5, 0]];
        int[][] labels = [[-100, 2, 3], [-100, 5, -100]];
        Assert.Contains("right padding", Assert.Throws<UserException>(() => TrainingBatch.FromPadded(ids, labels, [[1, 1, 1], [1, 0, 1]], 10)).Message);
        Assert.Contains("row 1, position 1: token id 50", Assert.Throws<UserException>(() => TrainingBatch.FromPadded([[1, 2, 3], [4, 50, 0]], labels, null, 10)).Message);
        Assert.Contains("row 0, position 2: label 12", Assert.Throws<UserException>(() => TrainingBatch.FromPadded(ids, [[-100, 2, 12], [-100, 5, -100]], null, 10)).Message);
        Assert.Contains("follows a padded position", Assert.Throws<UserException>(() => TrainingBatch.FromPadded([[1, 0, 0]], [[-100, -100, 4]], [[1, 0, 0]], 10)).Message);
        Assert.Contains("padded length 3", Assert.Throws<UserException>(() => TrainingBatch.FromPadded([[1, 2, 3], [1]], [[-100, 2, 3], [-100]], null, 10)).Message);

        var b = TrainingBatch.FromPadded(ids, labels, [[1, 1, 1], [1, 1, 0]], 10);
        Assert.Equal([1, 2, 3, 4, 5], b.Ids);
        Assert.Equal([0, 1, 2, 0, 1], b.Positions);
        Assert.Equal([0, 0, 0, 3, 3], b.KvStart);
        Assert.Equal([0, 1, 3], b.SupervisedTokens); // token t is scored against label t+1
        Assert.Equal([2, 3, 5], b.Targets);

        using var backend = ComputeBackends.Create();
        var weights = RandomModels.Weights(Qwen3, 1, false);
        using var model = Lora(backend, Qwen3, weights, new LoraConfig { Rank = 2 }, maxTokens: 4);
        using var trainer = new Trainer(model, new AdamWOptions());
        Assert.Contains("exceeds the 4", Assert.Throws<UserException>(() => model.Evaluate(b)).Message);
        var unsupervised = TrainingBatch.FromPadded([[1, 2]], [[-100, -100]], null, 10);
        Assert.Contains("supervise no token", Assert.Throws<UserException>(() => trainer.Step([unsupervised])).Message);
    }
}
