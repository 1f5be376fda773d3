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
    IReadOnlyDictionary<string, double>? EvalMetrics, IReadOnlyList<double> StepLosses);
