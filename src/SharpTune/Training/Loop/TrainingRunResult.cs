namespace SharpTune.Training.Loop;

/// <summary>Why a run ended.</summary>
public enum TrainingStopReason
{
    /// <summary>Every planned update was done.</summary>
    Completed,

    /// <summary><c>max_time</c> ran out (stopped at the first step boundary after it).</summary>
    TimeBudget,

    /// <summary>The cancellation token was cancelled (SIGINT / SIGTERM, or a caller).</summary>
    Cancelled,

    /// <summary>The overfitting monitor fired with <c>stop_on_overfit</c>.</summary>
    Overfitting,
}

/// <summary>What a training run did.</summary>
/// <param name="Reason">Why it ended.</param>
/// <param name="GlobalStep">Updates done (including those before a resume).</param>
/// <param name="MaxSteps">Updates planned.</param>
/// <param name="Epoch">transformers' fractional epoch at the end.</param>
/// <param name="TrainLoss">transformers' <c>train_loss</c>: the mean of every update's loss.</param>
/// <param name="LastCheckpoint">The newest checkpoint folder written or resumed from, or null.</param>
/// <param name="BestModelCheckpoint">The best checkpoint (with <c>load_best_model_at_end</c>), or null.</param>
/// <param name="OutputDir">Where everything is.</param>
/// <param name="TrainMetrics">train_results.json's values.</param>
/// <param name="EvalMetrics">eval_results.json's values, or null without an evaluation set.</param>
/// <param name="StepLosses">The loss of every update this session ran, in order.</param>
public sealed record TrainingRunResult(TrainingStopReason Reason, long GlobalStep, long MaxSteps, double Epoch, double TrainLoss,
    string? LastCheckpoint, string? BestModelCheckpoint, string OutputDir, IReadOnlyDictionary<string, double> TrainMetrics,
    IReadOnlyDictionary<string, double>? EvalMetrics, IReadOnlyList<double> StepLosses)
{
    /// <summary>The run's memory: what its arenas hold and the process's peak resident memory.</summary>
    public TrainingMemory? Memory { get; init; }
}

/// <summary>
/// A run's memory: the engine's arenas (sized once, before the first step) and the process's peak resident set.
/// Peak minus <see cref="ArenaBytes"/> is everything else — the runtime, the tokenizer, the memory-mapped data pages
/// read, the buffers of logging and checkpoints.
/// </summary>
/// <param name="BaseWeightBytes">The frozen base weights (LoRA; 0 in full fine-tuning).</param>
/// <param name="TrainableBytes">The trainable parameters and their gradients.</param>
/// <param name="OptimizerBytes">AdamW's moments.</param>
/// <param name="ActivationBytes">The activation arena (forward and backward).</param>
/// <param name="PeakRssBytes">The process's peak resident memory (VmHWM).</param>
public sealed record TrainingMemory(long BaseWeightBytes, long TrainableBytes, long OptimizerBytes, long ActivationBytes, long PeakRssBytes)
{
    /// <summary>Model, optimizer and activation memory: every arena.</summary>
    public long ArenaBytes => BaseWeightBytes + TrainableBytes + OptimizerBytes + ActivationBytes;

    /// <summary>The one-line summary the CLI prints.</summary>
    public string Line() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"memory: peak RSS {Mib(PeakRssBytes):0} MiB = arenas {Mib(ArenaBytes):0} MiB (base weights {Mib(BaseWeightBytes):0}, trainable + gradients {Mib(TrainableBytes):0}, optimizer {Mib(OptimizerBytes):0}, activations {Mib(ActivationBytes):0}) + {Mib(PeakRssBytes - ArenaBytes):0} MiB other");

    private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);
}
