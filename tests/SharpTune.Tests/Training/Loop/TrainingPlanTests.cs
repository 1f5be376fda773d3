using SharpTune.Training.Loop;

namespace SharpTune.Tests.Training.Loop;

/// <summary>
/// The loop's step arithmetic against transformers' formulas (written out here as in trainer.py, independently of
/// TrainingPlan), and the epoch orders: dataset order, the seeded permutation, and the length-grouped sampler.
/// </summary>
public sealed class TrainingPlanTests
{
    // transformers' set_initial_training_values + the epoch loop, transcribed (one process, drop_last False).
    private static (long PerEpoch, long MaxSteps, int Epochs, int[] MicroBatchesPerUpdate) Transformers(int samples, int batch, int ga, double epochs, long maxStepsArg)
    {
        int lenDataloader = (int)Math.Ceiling(samples / (double)batch);
        long perEpoch = Math.Max(lenDataloader / ga + (lenDataloader % ga > 0 ? 1 : 0), 1);
        long maxSteps = maxStepsArg > 0 ? maxStepsArg : (long)Math.Ceiling(epochs * perEpoch);
        int numEpochs = maxStepsArg > 0 ? (int)(maxSteps / perEpoch + (maxSteps % perEpoch > 0 ? 1 : 0)) : (int)Math.Ceiling(epochs);
        int remainder = lenDataloader % ga;
        if (remainder == 0) remainder = ga;
        int totalUpdates = lenDataloader / ga + (remainder < ga ? 1 : 0);
        var perUpdate = Enumerable.Range(0, totalUpdates).Select(u => u != totalUpdates - 1 ? ga : remainder).ToArray();
        return (perEpoch, maxSteps, numEpochs, perUpdate);
    }

    [Theory]
    [InlineData(40, 4, 2, 2.0, -1)]
    [InlineData(41, 4, 2, 2.0, -1)]      // a last batch of 1 sample
    [InlineData(10, 3, 2, 1.5, -1)]      // 4 batches, fractional epochs
    [InlineData(10, 3, 3, 1.0, -1)]      // last incomplete accumulation of 1 micro-batch
    [InlineData(7, 8, 4, 3.0, -1)]       // fewer samples than one batch
    [InlineData(100, 4, 8, 0.3, -1)]
    [InlineData(11, 2, 2, 1.1, -1)]      // 1.1 · 3 in double is 3.3000000000000003
    [InlineData(50, 4, 3, 3.0, 7)]       // max_steps wins over epochs
    [InlineData(50, 4, 3, 1.0, 13)]      // max_steps beyond one epoch
    public void Step_counts_follow_transformers(int samples, int batch, int ga, double epochs, long maxSteps)
    {
        var args = new TrainingArguments { OutputDir = "x", PerDeviceTrainBatchSize = batch, GradientAccumulationSteps = ga, NumTrainEpochs = epochs, MaxSteps = maxSteps, WarmupRatio = 0.1 };
        var plan = TrainingPlan.Create(samples, args);
        var expected = Transformers(samples, batch, ga, epochs, maxSteps);
        Assert.Equal(expected.PerEpoch, plan.UpdatesPerEpoch);
        Assert.Equal(expected.MaxSteps, plan.MaxSteps);
        Assert.Equal(expected.Epochs, plan.Epochs);
        Assert.Equal(expected.MicroBatchesPerUpdate, plan.UpdatesOfEpoch().Select(u => u.Count).ToArray());
        Assert.Equal((int)Math.Ceiling(0.1 * expected.MaxSteps), plan.WarmupSteps);
        // The updates cover every micro-batch of the epoch once, in order.
        Assert.Equal(Enumerable.Range(0, plan.BatchesPerEpoch), plan.UpdatesOfEpoch().SelectMany(u => Enumerable.Range(u.First, u.Count)));
    }

    [Fact]
    public void Ratios_of_logging_save_eval_steps_and_warmup_steps()
    {
        var plan = TrainingPlan.Create(40, new TrainingArguments { OutputDir = "x", PerDeviceTrainBatchSize = 4, NumTrainEpochs = 3, LoggingSteps = 0.1, SaveSteps = 0.25, WarmupSteps = 5, WarmupRatio = 0.5 });
        Assert.Equal(30, plan.MaxSteps);
        Assert.Equal(3, plan.LoggingSteps);     // ceil(30 · 0.1)
        Assert.Equal(8, plan.SaveSteps);        // ceil(30 · 0.25)
        Assert.Equal(3, plan.EvalSteps);        // eval_steps defaults to logging_steps
        Assert.Equal(5, plan.WarmupSteps);      // warmup_steps wins over the ratio
    }

    [Fact]
    public void Empty_training_set_and_bad_sizes_are_user_errors()
    {
        Assert.Contains("training set is empty", Assert.Throws<UserException>(() => TrainingPlan.Create(0, new TrainingArguments { OutputDir = "x" })).Message);
        Assert.Contains("per_device_train_batch_size", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", PerDeviceTrainBatchSize = 0 }.Validate()).Message);
        Assert.Contains("gradient_accumulation_steps", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", GradientAccumulationSteps = -1 }.Validate()).Message);
        Assert.Contains("num_train_epochs", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", NumTrainEpochs = 0 }.Validate()).Message);
        Assert.Contains("learning rate", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", LearningRate = double.NaN }.Validate()).Message);
        Assert.Contains("max_time", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", MaxTime = TimeSpan.Zero }.Validate()).Message);
        Assert.Contains("save_total_limit", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", SaveTotalLimit = 0 }.Validate()).Message);
        Assert.Contains("load_best_model_at_end needs eval_strategy", Assert.Throws<UserException>(() => new TrainingArguments { OutputDir = "x", LoadBestModelAtEnd = true }.Validate()).Message);
    }

    [Fact]
    public void Sequential_order_is_the_dataset_order_every_epoch()
    {
        var s = new EpochSampler([5, 3, 9, 1], SampleOrder.Sequential, 1, 2);
        Assert.Equal([0, 1, 2, 3], s.EpochOrder(0));
        Assert.Equal([0, 1, 2, 3], s.EpochOrder(3));
    }

    [Fact]
    public void Random_order_is_a_seeded_permutation_per_epoch()
    {
        var lengths = Enumerable.Repeat(5, 50).ToArray();
        var s = new EpochSampler(lengths, SampleOrder.Random, 42, 4);
        var e0 = s.EpochOrder(0);
        Assert.Equal(Enumerable.Range(0, 50), e0.Order());
        Assert.Equal(e0, new EpochSampler(lengths, SampleOrder.Random, 42, 4).EpochOrder(0));   // same seed and epoch: same order
        Assert.NotEqual(e0, s.EpochOrder(1));                                                     // another epoch: another order
        Assert.NotEqual(e0, new EpochSampler(lengths, SampleOrder.Random, 43, 4).EpochOrder(0)); // another seed: another order
        Assert.NotEqual(Enumerable.Range(0, 50), e0);
        // The documented generator: Fisher–Yates driven by SplitMix64(seed ^ golden·(epoch+1)).
        var expected = Enumerable.Range(0, 50).ToArray();
        var rng = new SharpTune.Numerics.SplitMix64(42UL ^ 0x9E3779B97F4A7C15UL);
        for (int i = 49; i > 0; i--)
        {
            int j = (int)((rng.NextUInt64() >> 33) * (ulong)(i + 1) >> 31);
            (expected[i], expected[j]) = (expected[j], expected[i]);
        }
        Assert.Equal(expected, e0);
    }

    [Fact]
    public void Length_grouping_sorts_megabatches_longest_first_stably_and_puts_the_longest_sample_first()
    {
        // 20 samples, batch 2: megabatch multiplier min(20 // 8, 50) = 2, so megabatches of 4.
        int[] lengths = [3, 7, 7, 1, 9, 4, 4, 4, 2, 8, 12, 5, 6, 6, 3, 3, 1, 2, 7, 10];
        int[] permutation = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
        var grouped = EpochSampler.LengthGrouped(lengths, 2, permutation);
        // Megabatches sorted descending by length (ties keep their order):
        // [1,2,0,3] (7,7,3,1) [4,5,6,7] (9,4,4,4) [10,9,11,8] (12,8,5,2) [12,13,14,15] (6,6,3,3) [19,18,17,16] (10,7,2,1);
        // the longest first element is 10 (length 12, third megabatch) and swaps with the very first.
        Assert.Equal([10, 2, 0, 3, 4, 5, 6, 7, 1, 9, 11, 8, 12, 13, 14, 15, 19, 18, 17, 16], grouped);

        // Through the sampler the permutation is the seeded one of the epoch.
        var sampler = new EpochSampler(lengths, SampleOrder.LengthGrouped, 9, 2);
        Assert.Equal(EpochSampler.LengthGrouped(lengths, 2, EpochSampler.Permutation(20, 9, 1)), sampler.EpochOrder(1));
        Assert.Equal(12, lengths[sampler.EpochOrder(1)[0]]);
    }

    [Fact]
    public void Length_grouping_pads_far_less_than_random_batches()
    {
        var rng = new Random(5);
        var lengths = Enumerable.Range(0, 2000).Select(_ => rng.Next(20, 400)).ToArray();
        double Padding(SampleOrder order)
        {
            var o = new EpochSampler(lengths, order, 3, 8).EpochOrder(0);
            long padded = 0, real = 0;
            for (int s = 0; s < o.Length; s += 8)
            {
                var batch = o.Skip(s).Take(8).Select(i => lengths[i]).ToArray();
                padded += (long)batch.Max() * batch.Length;
                real += batch.Sum();
            }
            return 1 - (double)real / padded;
        }
        double random = Padding(SampleOrder.Random), grouped = Padding(SampleOrder.LengthGrouped);
        Assert.True(grouped < 0.03 && random > 0.3, $"padding share: grouped {grouped:P1}, random {random:P1}");
    }

    [Fact]
    public void Max_batch_tokens_is_the_sum_of_the_longest_lengths()
    {
        Assert.Equal(9 + 8 + 7, TrainingPlan.MaxBatchTokens([3, 9, 1, 7, 8, 2], 3));
        Assert.Equal(5, TrainingPlan.MaxBatchTokens([5], 4));
    }
}
