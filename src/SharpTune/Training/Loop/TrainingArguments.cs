namespace SharpTune.Training.Loop;

/// <summary>When checkpoints are written (transformers' <c>save_strategy</c>).</summary>
public enum SaveStrategy
{
    /// <summary><c>no</c>: only when the run stops.</summary>
    No,

    /// <summary><c>steps</c>: every <see cref="TrainingArguments.SaveSteps"/> updates and when the run stops.</summary>
    Steps,

    /// <summary><c>epoch</c>: at the end of every epoch and when the run stops.</summary>
    Epoch,
}

/// <summary>When the evaluation set is evaluated (transformers' <c>eval_strategy</c>).</summary>
public enum EvaluationStrategy
{
    /// <summary><c>no</c>: never during training (still at the end when an evaluation set is given).</summary>
    No,

    /// <summary><c>steps</c>: every <see cref="TrainingArguments.EvalSteps"/> updates and at the end.</summary>
    Steps,

    /// <summary><c>epoch</c>: at the end of every epoch and at the end.</summary>
    Epoch,
}

/// <summary>
/// The training loop's settings: transformers' <c>TrainingArguments</c> (and LLaMA-Factory's additions) under C#
/// names; the XML doc of each property gives the YAML key the <c>train</c> verb fills it from. Defaults are
/// transformers' except where noted.
/// </summary>
public sealed record TrainingArguments
{
    /// <summary><c>output_dir</c>: where checkpoints, logs and the final adapter or model go.</summary>
    public required string OutputDir { get; init; }

    /// <summary><c>overwrite_output_dir</c>: allow a non-empty <see cref="OutputDir"/> (its checkpoint-* folders and logs are replaced as the run writes them).</summary>
    public bool OverwriteOutputDir { get; init; }

    /// <summary><c>per_device_train_batch_size</c> (8).</summary>
    public int PerDeviceTrainBatchSize { get; init; } = 8;

    /// <summary><c>per_device_eval_batch_size</c> (8).</summary>
    public int PerDeviceEvalBatchSize { get; init; } = 8;

    /// <summary><c>gradient_accumulation_steps</c> (1): micro-batches per optimizer update.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary><c>num_train_epochs</c> (3.0); may be fractional.</summary>
    public double NumTrainEpochs { get; init; } = 3.0;

    /// <summary><c>max_steps</c> (-1): a positive value overrides <see cref="NumTrainEpochs"/>.</summary>
    public long MaxSteps { get; init; } = -1;

    /// <summary><c>learning_rate</c> (5e-5).</summary>
    public double LearningRate { get; init; } = 5e-5;

    /// <summary><c>lr_scheduler_type</c> (linear).</summary>
    public LearningRateScheduleType LrSchedulerType { get; init; } = LearningRateScheduleType.Linear;

    /// <summary><c>warmup_ratio</c> (0): warmup steps = ceil(ratio · max_steps) when <see cref="WarmupSteps"/> is 0.</summary>
    public double WarmupRatio { get; init; }

    /// <summary><c>warmup_steps</c> (0): takes precedence over <see cref="WarmupRatio"/> when positive.</summary>
    public int WarmupSteps { get; init; }

    /// <summary><c>weight_decay</c> (0).</summary>
    public double WeightDecay { get; init; }

    /// <summary><c>adam_beta1</c> (0.9).</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary><c>adam_beta2</c> (0.999).</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary><c>adam_epsilon</c> (1e-8).</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary><c>max_grad_norm</c> (1.0); null or 0 disables clipping.</summary>
    public double? MaxGradNorm { get; init; } = 1.0;

    /// <summary><c>seed</c> (42): the data order and LoRA dropout derive from it.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary><c>disable_shuffling</c> (LLaMA-Factory): samples in dataset order every epoch (wins over <see cref="GroupByLength"/>).</summary>
    public bool DisableShuffling { get; init; }

    /// <summary><c>group_by_length</c>: transformers' length-grouped sampler.</summary>
    public bool GroupByLength { get; init; }

    /// <summary><c>logging_steps</c> (500): log every N updates; a value below 1 is a ratio of max_steps (transformers).</summary>
    public double LoggingSteps { get; init; } = 500;

    /// <summary><c>save_strategy</c> (steps).</summary>
    public SaveStrategy SaveStrategy { get; init; } = SaveStrategy.Steps;

    /// <summary><c>save_steps</c> (500): a value below 1 is a ratio of max_steps.</summary>
    public double SaveSteps { get; init; } = 500;

    /// <summary><c>save_total_limit</c> (null: keep all): keep the newest K checkpoints (and the best one).</summary>
    public int? SaveTotalLimit { get; init; }

    /// <summary><c>eval_strategy</c> (no).</summary>
    public EvaluationStrategy EvalStrategy { get; init; } = EvaluationStrategy.No;

    /// <summary><c>eval_steps</c> (null: <see cref="LoggingSteps"/>, as transformers).</summary>
    public double? EvalSteps { get; init; }

    /// <summary><c>load_best_model_at_end</c>: the best checkpoint by <see cref="MetricForBestModel"/> is kept and lands at the root.</summary>
    public bool LoadBestModelAtEnd { get; init; }

    /// <summary><c>metric_for_best_model</c> (null: <c>loss</c>, i.e. <c>eval_loss</c>); the <c>eval_</c> prefix is optional.</summary>
    public string? MetricForBestModel { get; init; }

    /// <summary><c>greater_is_better</c> (null: false for a metric whose name ends in <c>loss</c>, true otherwise).</summary>
    public bool? GreaterIsBetter { get; init; }

    /// <summary><c>max_time</c> (SharpTune): stop at the first step boundary after this much wall-clock training time.</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary><c>resume_from_checkpoint</c>: a checkpoint folder; see <see cref="ResumeFromLatest"/> for <c>true</c>.</summary>
    public string? ResumeFromCheckpoint { get; init; }

    /// <summary><c>resume_from_checkpoint: true</c>: resume from the newest checkpoint-N in <see cref="OutputDir"/>.</summary>
    public bool ResumeFromLatest { get; init; }

    /// <summary><c>stop_on_overfit</c> (SharpTune): stop the run when the overfitting monitor fires.</summary>
    public bool StopOnOverfit { get; init; }

    /// <summary>
    /// Thresholds of the overfitting monitor (<c>overfit_loss</c>, <c>overfit_token_accuracy</c>,
    /// <c>overfit_entropy</c>, <c>overfit_epochs</c>): each metric is watched on its own and reported once.
    /// </summary>
    public Reporting.OverfitThresholds Overfit { get; init; } = new();

    /// <summary>
    /// <c>drift_margin</c> (SharpTune, 10 points): teacher-forced first-answer-token accuracy and generative accuracy
    /// further apart than this many percentage points give one drift warning.
    /// </summary>
    public double DriftMarginPoints { get; init; } = Reporting.DriftMonitor.DefaultMarginPoints;

    /// <summary>The id right padding uses (never scored: padded labels are -100; the engine drops padded tokens).</summary>
    public int PadTokenId { get; init; }

    /// <summary>The metric the best checkpoint is chosen by, with the <c>eval_</c> prefix.</summary>
    public string BestMetricKey
    {
        get
        {
            var m = MetricForBestModel ?? "loss";
            return m.StartsWith("eval_", StringComparison.Ordinal) ? m : "eval_" + m;
        }
    }

    /// <summary>Whether a larger <see cref="BestMetricKey"/> is better.</summary>
    public bool BestIsGreater => GreaterIsBetter ?? !BestMetricKey.EndsWith("loss", StringComparison.Ordinal);

    /// <summary>Throws a <see cref="UserException"/> naming the key when a value is out of range.</summary>
    public void Validate()
    {
        static void Positive(double v, string key)
        {
            if (!(v > 0) || double.IsInfinity(v)) throw new UserException($"{key} must be positive, got {v}");
        }
        if (string.IsNullOrWhiteSpace(OutputDir)) throw new UserException("output_dir must be set");
        Positive(PerDeviceTrainBatchSize, "per_device_train_batch_size");
        Positive(PerDeviceEvalBatchSize, "per_device_eval_batch_size");
        Positive(GradientAccumulationSteps, "gradient_accumulation_steps");
        if (MaxSteps <= 0) Positive(NumTrainEpochs, "num_train_epochs");
        if (MaxSteps == 0) throw new UserException("max_steps must be positive (or -1 to train by num_train_epochs), got 0");
        Positive(LoggingSteps, "logging_steps");
        if (SaveStrategy == SaveStrategy.Steps) Positive(SaveSteps, "save_steps");
        if (EvalSteps is double e) Positive(e, "eval_steps");
        if (SaveTotalLimit is int k && k < 1) throw new UserException($"save_total_limit must be at least 1 (or unset to keep every checkpoint), got {k}");
        if (!(WarmupRatio >= 0 && WarmupRatio <= 1)) throw new UserException($"warmup_ratio must be in [0, 1], got {WarmupRatio}");
        if (WarmupSteps < 0) throw new UserException($"warmup_steps must not be negative, got {WarmupSteps}");
        if (MaxTime is { } t && t <= TimeSpan.Zero) throw new UserException($"max_time must be positive, got {t}");
        if (!(DriftMarginPoints >= 0 && DriftMarginPoints <= 100)) throw new UserException($"drift_margin must be 0–100 percentage points, got {DriftMarginPoints}");
        Overfit.Validate("overfit thresholds");
        if (LoadBestModelAtEnd && SaveStrategy == SaveStrategy.No)
            throw new UserException("load_best_model_at_end needs save_strategy steps or epoch (the best model is a checkpoint)");
        if (LoadBestModelAtEnd && EvalStrategy == EvaluationStrategy.No)
            throw new UserException("load_best_model_at_end needs eval_strategy steps or epoch (the best model is chosen by evaluation)");
        if (ResumeFromLatest && ResumeFromCheckpoint is not null)
            throw new UserException("resume_from_checkpoint: give either a path or true, not both");
        ToOptimizer().Validate();
    }

    /// <summary>The optimizer's settings.</summary>
    public AdamWOptions ToOptimizer() => new()
    {
        LearningRate = LearningRate, Beta1 = AdamBeta1, Beta2 = AdamBeta2, Epsilon = AdamEpsilon, WeightDecay = WeightDecay,
        MaxGradNorm = MaxGradNorm is > 0 ? MaxGradNorm : null,
    };
}
