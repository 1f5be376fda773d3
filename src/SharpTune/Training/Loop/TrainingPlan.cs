namespace SharpTune.Training.Loop;

/// <summary>
/// The step arithmetic of transformers' <c>Trainer</c> (<c>set_initial_training_values</c> and the epoch loop of
/// <c>_inner_training_loop</c>), for one process and a map-style dataset of <see cref="Samples"/> samples:
/// <list type="bullet">
/// <item><c>batches_per_epoch = ceil(samples / batch)</c> (the DataLoader keeps the last, smaller batch);</item>
/// <item><c>updates_per_epoch = max(batches // accumulation + (batches % accumulation &gt; 0), 1)</c>;</item>
/// <item><c>max_steps = max_steps &gt; 0 ? max_steps : ceil(num_train_epochs · updates_per_epoch)</c> (the product in
/// double precision, as Python computes it);</item>
/// <item>epochs run = <c>ceil(max_steps / updates_per_epoch)</c> with <c>max_steps</c>, else
/// <c>ceil(num_train_epochs)</c>; training stops as soon as <c>global_step ≥ max_steps</c>;</item>
/// <item>inside an epoch, every update takes <c>accumulation</c> micro-batches except the last, which takes the
/// remaining <c>batches % accumulation</c> when that is not 0 (the last incomplete accumulation is an update of its
/// own, its loss normalized by its own supervised tokens);</item>
/// <item>warmup = <c>warmup_steps</c> when positive, else <c>ceil(warmup_ratio · max_steps)</c>;</item>
/// <item><c>logging_steps</c>, <c>eval_steps</c>, <c>save_steps</c> below 1 are ratios: <c>ceil(max_steps · ratio)</c>.</item>
/// </list>
/// </summary>
public sealed record TrainingPlan
{
    /// <summary>Training samples.</summary>
    public required int Samples { get; init; }

    /// <summary>Micro-batch size.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Micro-batches per update.</summary>
    public required int Accumulation { get; init; }

    /// <summary>Micro-batches per epoch (the DataLoader's length).</summary>
    public int BatchesPerEpoch => (Samples + BatchSize - 1) / BatchSize;

    /// <summary>Optimizer updates per epoch.</summary>
    public required long UpdatesPerEpoch { get; init; }

    /// <summary>Total optimizer updates of the run (<c>state.max_steps</c>).</summary>
    public required long MaxSteps { get; init; }

    /// <summary>Epochs the loop enters (<c>num_train_epochs</c> after rounding up).</summary>
    public required int Epochs { get; init; }

    /// <summary>Warmup updates.</summary>
    public required int WarmupSteps { get; init; }

    /// <summary>Logging interval in updates.</summary>
    public required long LoggingSteps { get; init; }

    /// <summary>Evaluation interval in updates (with <see cref="EvaluationStrategy.Steps"/>).</summary>
    public required long EvalSteps { get; init; }

    /// <summary>Checkpoint interval in updates (with <see cref="SaveStrategy.Steps"/>).</summary>
    public required long SaveSteps { get; init; }

    /// <summary>The plan for <paramref name="samples"/> training samples under <paramref name="args"/>.</summary>
    public static TrainingPlan Create(int samples, TrainingArguments args)
    {
        if (samples < 1) throw new UserException("the training set is empty (every sample was dropped or the dataset has no records)");
        int batches = (samples + args.PerDeviceTrainBatchSize - 1) / args.PerDeviceTrainBatchSize;
        int ga = args.GradientAccumulationSteps;
        long perEpoch = Math.Max(batches / ga + (batches % ga > 0 ? 1 : 0), 1);
        long maxSteps;
        int epochs;
        if (args.MaxSteps > 0)
        {
            maxSteps = args.MaxSteps;
            epochs = checked((int)(maxSteps / perEpoch + (maxSteps % perEpoch > 0 ? 1 : 0)));
        }
        else
        {
            maxSteps = (long)Math.Ceiling(args.NumTrainEpochs * perEpoch);
            epochs = (int)Math.Ceiling(args.NumTrainEpochs);
        }
        if (maxSteps > int.MaxValue) throw new UserException($"the run would take {maxSteps} optimizer steps; at most {int.MaxValue} are supported");
        int warmup = args.WarmupSteps > 0 ? args.WarmupSteps : LearningRateSchedule.WarmupStepsFromRatio(args.WarmupRatio, (int)maxSteps);
        long Interval(double value) => value < 1 ? (long)Math.Ceiling(maxSteps * value) : (long)value;
        return new TrainingPlan
        {
            Samples = samples, BatchSize = args.PerDeviceTrainBatchSize, Accumulation = ga, UpdatesPerEpoch = perEpoch, MaxSteps = maxSteps,
            Epochs = epochs, WarmupSteps = warmup, LoggingSteps = Math.Max(1, Interval(args.LoggingSteps)),
            EvalSteps = Math.Max(1, Interval(args.EvalSteps ?? args.LoggingSteps)), SaveSteps = Math.Max(1, Interval(args.SaveSteps)),
        };
    }

    /// <summary>The learning-rate schedule over <see cref="MaxSteps"/> with <see cref="WarmupSteps"/>.</summary>
    public LearningRateSchedule Schedule(LearningRateScheduleType type) => new(type, WarmupSteps, (int)MaxSteps);

    /// <summary>
    /// The updates of one epoch: for each, the range of the epoch's micro-batches it takes (start index, count). With
    /// accumulation <c>a</c> and <c>n</c> micro-batches: <c>n / a</c> updates of <c>a</c>, then one of <c>n % a</c>
    /// when that is not 0.
    /// </summary>
    public IReadOnlyList<(int First, int Count)> UpdatesOfEpoch()
    {
        int n = BatchesPerEpoch, a = Accumulation;
        var updates = new List<(int, int)>(n / a + 1);
        for (int first = 0; first < n; first += a) updates.Add((first, Math.Min(a, n - first)));
        return updates;
    }

    /// <summary>Where update number <paramref name="globalStep"/> (completed updates) leaves the data: the epoch and the update inside it.</summary>
    public (int Epoch, int UpdateInEpoch) Position(long globalStep) => ((int)(globalStep / UpdatesPerEpoch), (int)(globalStep % UpdatesPerEpoch));

    /// <summary>
    /// transformers' <c>state.epoch</c> after an update that ended with micro-batch <paramref name="microBatchesDone"/>
    /// (1-based count inside epoch <paramref name="epoch"/>): <c>epoch + done / batches_per_epoch</c>.
    /// </summary>
    public double EpochProgress(int epoch, int microBatchesDone) => epoch + (double)microBatchesDone / BatchesPerEpoch;

    /// <summary>
    /// The most unpadded tokens any micro-batch of <paramref name="batchSize"/> samples can hold: the sum of the
    /// <paramref name="batchSize"/> longest lengths (the engine never computes padding). Size the model's
    /// <see cref="TrainingOptions.MaxTokens"/> with it.
    /// </summary>
    public static int MaxBatchTokens(IEnumerable<int> lengths, int batchSize) =>
        checked(lengths.OrderDescending().Take(batchSize).Sum());
}
