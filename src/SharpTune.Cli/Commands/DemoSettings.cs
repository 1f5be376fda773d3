namespace SharpTune.Cli.Commands;

/// <summary>
/// Every size and hyperparameter of <c>sharptune demo</c>, in one place: <see cref="Full"/> (the default run, at most
/// 10 minutes on 2 cores) and <see cref="Quick"/> (<c>--quick</c>, for tests: well under 2 minutes). Nothing else in
/// the demo holds a number that changes its result; the train values are written verbatim into
/// <c>out/demo/train.yaml</c> (LLaMA-Factory keys) and <c>out/demo/behaviours/train.yaml</c>.
/// </summary>
internal sealed record DemoSettings
{
    // --- data: prepare synthetic-movielens, then prepare movielens -------------------------------------------------
    /// <summary>Synthetic users (<c>--users</c>); about 78 records per user, 10% of users in test, 5% in val.</summary>
    public required int Users { get; init; }

    /// <summary>Synthetic movies (<c>--movies</c>).</summary>
    public required int Movies { get; init; }

    /// <summary>Fewest ratings per synthetic user (<c>--ratings-per-user-min</c>).</summary>
    public required int RatingsPerUserMin { get; init; }

    /// <summary>Val records sampled into eval.json (<c>prepare movielens --eval-size</c>): the eval set during training.</summary>
    public required int EvalSize { get; init; }

    /// <summary>
    /// Ratings shown in each record's history (<c>prepare movielens --history-len</c>). Five keep records short (fast
    /// steps) while the history's mean rating still carries most of the label's signal (docs/demo-tuning.md).
    /// </summary>
    public required int HistoryLength { get; init; }

    // --- tokenizer ---------------------------------------------------------------------------------------------
    /// <summary>Byte-level BPE vocabulary size asked for (the corpus may yield fewer tokens: merges need a pair seen twice).</summary>
    public required int TokenizerVocabSize { get; init; }

    /// <summary>Training records of the tokenizer corpus: the first N of train.json (system, instruction+input, answer)…</summary>
    public required int TokenizerTrainRecords { get; init; }

    /// <summary>Byte-level BPE: a merge needs a pair seen at least this often.</summary>
    public int TokenizerMinFrequency { get; init; } = 2;

    /// <summary>…plus the behaviour dataset's texts (the same records the behaviours stage writes), so one tokenizer serves both runs.</summary>
    public required bool TokenizerIncludesBehaviours { get; init; }

    // --- model: a tiny Qwen3-architecture decoder, randomly initialized -----------------------------------------
    /// <summary>hidden_size.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>num_hidden_layers.</summary>
    public required int Layers { get; init; }

    /// <summary>num_attention_heads.</summary>
    public required int Heads { get; init; }

    /// <summary>num_key_value_heads.</summary>
    public required int KvHeads { get; init; }

    /// <summary>head_dim.</summary>
    public required int HeadDim { get; init; }

    /// <summary>intermediate_size.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>rope_theta.</summary>
    public double RopeTheta { get; init; } = 10000;

    // --- train.yaml (MovieLens run) -----------------------------------------------------------------------------
    /// <summary><c>template</c>.</summary>
    public string Template { get; init; } = "chatml";

    /// <summary><c>cutoff_len</c>.</summary>
    public required int CutoffLen { get; init; }

    /// <summary><c>finetuning_type</c>: full or lora.</summary>
    public required string FinetuningType { get; init; }

    /// <summary><c>learning_rate</c>.</summary>
    public required double LearningRate { get; init; }

    /// <summary><c>lr_scheduler_type</c>.</summary>
    public required string LrSchedulerType { get; init; }

    /// <summary><c>warmup_ratio</c>.</summary>
    public required double WarmupRatio { get; init; }

    /// <summary><c>weight_decay</c>.</summary>
    public required double WeightDecay { get; init; }

    /// <summary><c>per_device_train_batch_size</c>.</summary>
    public required int BatchSize { get; init; }

    /// <summary><c>per_device_eval_batch_size</c>.</summary>
    public required int EvalBatchSize { get; init; }

    /// <summary><c>max_steps</c> (it overrides num_train_epochs).</summary>
    public required int MaxSteps { get; init; }

    /// <summary><c>logging_steps</c>.</summary>
    public required int LoggingSteps { get; init; }

    /// <summary><c>save_steps</c>.</summary>
    public required int SaveSteps { get; init; }

    /// <summary><c>save_total_limit</c>.</summary>
    public required int SaveTotalLimit { get; init; }

    /// <summary><c>eval_steps</c> (eval_strategy: steps).</summary>
    public required int EvalSteps { get; init; }

    /// <summary><c>generative_eval.samples</c>: eval records answered by greedy generation at each evaluation.</summary>
    public required int GenerativeEvalSamples { get; init; }

    /// <summary><c>generative_eval.max_new_tokens</c>.</summary>
    public required int GenerativeEvalMaxNewTokens { get; init; }

    /// <summary><c>max_time</c> (a LLaMA-Factory-style duration such as <c>6m</c> or <c>45s</c>).</summary>
    public required string MaxTime { get; init; }

    /// <summary><c>warmup_ratio</c>'s neighbour: <c>max_grad_norm</c>.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>
    /// <c>overfit_loss</c>, <c>overfit_entropy</c>, <c>overfit_token_accuracy</c>: the run supervises one answer token
    /// plus <c>&lt;|im_end|&gt;</c>, which is learnt at once (loss, entropy ≈ 0), so per-token means are half the
    /// answer token's; a model at the history-mean rule's level already sits at the defaults (0.3, 0.5, 0.90) while
    /// its eval loss still falls. These thresholds are what only memorisation reaches here (docs/demo-tuning.md).
    /// </summary>
    public required (double Loss, double Entropy, double TokenAccuracy) OverfitThresholds { get; init; }

    /// <summary><c>seed</c> of the run (shuffling).</summary>
    public int TrainSeed { get; init; } = 42;

    // --- infer on the test split ----------------------------------------------------------------------------------
    /// <summary><c>infer --batch-size</c>.</summary>
    public required int InferBatchSize { get; init; }

    /// <summary><c>infer --max-new-tokens</c>.</summary>
    public required int InferMaxNewTokens { get; init; }

    /// <summary>Bootstrap resamples of eval's and baselines' intervals.</summary>
    public required int Bootstrap { get; init; }

    // --- behaviours: prepare behaviours --synthetic N, a short full fine-tuning run, sanity ----------------------
    /// <summary><c>prepare behaviours --synthetic N</c>.</summary>
    public required int BehaviourRecords { get; init; }

    /// <summary>Behaviour run: <c>max_steps</c>.</summary>
    public required int BehaviourSteps { get; init; }

    /// <summary>Behaviour run: <c>per_device_train_batch_size</c>.</summary>
    public required int BehaviourBatchSize { get; init; }

    /// <summary>Behaviour run: <c>finetuning_type</c> (of the same tiny base model).</summary>
    public string BehaviourFinetuningType { get; init; } = "full";

    /// <summary>Behaviour run: <c>learning_rate</c>.</summary>
    public required double BehaviourLearningRate { get; init; }

    /// <summary>Behaviour run: <c>lr_scheduler_type</c>.</summary>
    public string BehaviourLrSchedulerType { get; init; } = "cosine";

    /// <summary>Behaviour run: <c>warmup_ratio</c>.</summary>
    public double BehaviourWarmupRatio { get; init; } = 0.1;

    /// <summary>Behaviour run: <c>logging_steps</c>.</summary>
    public required int BehaviourLoggingSteps { get; init; }

    /// <summary>Behaviour run: <c>save_steps</c> (every checkpoint is kept: sanity scores them all).</summary>
    public required int BehaviourSaveSteps { get; init; }

    /// <summary>
    /// Behaviour run: <c>default_system</c>. The records carry no system message and the sanity rules ask most prompts
    /// without one, so the run's default system reaches training and sanity prompts alike.
    /// </summary>
    public required string BehaviourDefaultSystem { get; init; }

    /// <summary>Behaviour run: <c>cutoff_len</c>.</summary>
    public required int BehaviourCutoffLen { get; init; }

    /// <summary><c>sanity --max-new-tokens</c>.</summary>
    public required int SanityMaxNewTokens { get; init; }

    /// <summary>The default demo.</summary>
    public static DemoSettings Full { get; } = new()
    {
        // Values measured in docs/demo-tuning.md: generative accuracy at the history-mean rule's level, 12-24 points
        // over the majority class, on every seed tried; about 3 minutes of training on 2 idle cores.
        Users = 300, Movies = 1000, RatingsPerUserMin = 20, EvalSize = 150, HistoryLength = 5,
        TokenizerVocabSize = 1024, TokenizerTrainRecords = 3000, TokenizerIncludesBehaviours = true,
        HiddenSize = 128, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 32, IntermediateSize = 384,
        CutoffLen = 512, FinetuningType = "full", LearningRate = 1e-3, LrSchedulerType = "cosine", WarmupRatio = 0.05, WeightDecay = 0.01,
        BatchSize = 16, EvalBatchSize = 16, MaxSteps = 1500, LoggingSteps = 50, SaveSteps = 250, SaveTotalLimit = 3, EvalSteps = 250,
        GenerativeEvalSamples = 150, GenerativeEvalMaxNewTokens = 4, MaxTime = "6m", OverfitThresholds = (0.15, 0.2, 0.95),
        InferBatchSize = 16, InferMaxNewTokens = 4, Bootstrap = 1000,
        BehaviourRecords = 400, BehaviourSteps = 300, BehaviourBatchSize = 8, BehaviourLearningRate = 3e-3, BehaviourWarmupRatio = 0.05,
        BehaviourSaveSteps = 50, BehaviourLoggingSteps = 50, BehaviourDefaultSystem = "You are a helpful assistant.",
        BehaviourCutoffLen = 512, SanityMaxNewTokens = 128,
    };

    /// <summary><c>--quick</c>: the same pipeline on less data with fewer steps (for tests); it does not reach the quality bar and says so.</summary>
    public static DemoSettings Quick { get; } = Full with
    {
        Users = 60, Movies = 300, EvalSize = 40,
        TokenizerTrainRecords = 600,
        MaxSteps = 24, LoggingSteps = 4, SaveSteps = 8, SaveTotalLimit = 2, EvalSteps = 12,
        GenerativeEvalSamples = 16, MaxTime = "60s",
        Bootstrap = 200,
        BehaviourRecords = 80, BehaviourSteps = 16, BehaviourSaveSteps = 8, BehaviourLoggingSteps = 4, SanityMaxNewTokens = 24,
    };
}
