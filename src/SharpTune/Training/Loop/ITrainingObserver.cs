namespace SharpTune.Training.Loop;

/// <summary>What the run looks like when it starts.</summary>
/// <param name="Plan">The step arithmetic.</param>
/// <param name="StartStep">Updates already done (from a resumed checkpoint; 0 for a fresh run).</param>
/// <param name="ResumedFrom">The checkpoint resumed from, or null.</param>
/// <param name="TrainSamples">Training samples.</param>
/// <param name="EvalSamples">Evaluation samples (0 without an evaluation set).</param>
public sealed record TrainingStart(TrainingPlan Plan, long StartStep, string? ResumedFrom, int TrainSamples, int EvalSamples);

/// <summary>One optimizer update as the loop saw it (every step, for progress displays).</summary>
/// <param name="Result">The trainer's step result (loss, accuracy, entropy, norm, learning rate, tokens).</param>
/// <param name="MaxSteps">Total updates of the run.</param>
/// <param name="Epoch">transformers' fractional epoch after the update.</param>
/// <param name="ElapsedSeconds">Wall time since the run (or its resumption) started.</param>
/// <param name="RemainingSeconds">Estimated time left (elapsed per step of this session × steps left).</param>
/// <param name="TokensPerSecond">Unpadded tokens per second since the run (or resumption) started.</param>
/// <param name="TotalTokens">Unpadded input tokens seen since the start of training (kept across resumption).</param>
public sealed record StepReport(StepResult Result, long MaxSteps, double Epoch, double ElapsedSeconds, double RemainingSeconds, double TokensPerSecond, long TotalTokens);

/// <summary>One evaluation: every metric with its <c>eval_</c> key, as it enters the log history.</summary>
/// <param name="Step">The update it ran after.</param>
/// <param name="Epoch">The fractional epoch.</param>
/// <param name="Metrics">eval_loss, eval_token_accuracy, eval_entropy, eval_first_token_accuracy, eval_gen_* …, eval_runtime.</param>
public sealed record EvaluationReport(long Step, double Epoch, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A checkpoint folder that was written (complete: it appears only after its rename).</summary>
/// <param name="Step">Its update.</param>
/// <param name="Path">The folder.</param>
/// <param name="Seconds">Time to write it.</param>
/// <param name="Deleted">Older checkpoints deleted by <c>save_total_limit</c> after it was written.</param>
public sealed record CheckpointReport(long Step, string Path, double Seconds, IReadOnlyList<string> Deleted);

/// <summary>The kinds of warning the loop raises (each kind once per run unless noted).</summary>
public enum TrainingWarningKind
{
    /// <summary>Teacher-forced first-answer-token accuracy and generative accuracy disagree by more than the margin.</summary>
    Drift,

    /// <summary>The overfitting monitor fired.</summary>
    Overfitting,

    /// <summary>Anything else worth a line (may repeat).</summary>
    Other,
}

/// <summary>A warning: printed by displays, appended to trainer_log.jsonl.</summary>
/// <param name="Kind">What it is about.</param>
/// <param name="Step">The update it was raised at.</param>
/// <param name="Message">One line for the user.</param>
public sealed record TrainingWarning(TrainingWarningKind Kind, long Step, string Message)
{
    /// <summary>
    /// The warning's name in trainer_log.jsonl and for the reporting side (<see cref="Reporting.TrainingWarningKinds"/>:
    /// <c>drift</c>, <c>overfit_loss</c>, <c>overfit_token_accuracy</c>, …); defaults to the kind in lower case.
    /// </summary>
    public string Name { get; init; } = Kind.ToString().ToLowerInvariant();
}

/// <summary>
/// Follows a training run: progress displays, loss plots and tests subscribe. Every method has an empty default, so
/// an observer implements only what it needs. Calls come on the training thread, in order; an observer may cancel the
/// run through the token it was given (the loop then finishes the current step and writes a checkpoint).
/// </summary>
public interface ITrainingObserver
{
    /// <summary>Before the first update.</summary>
    void OnTrainBegin(TrainingStart start) { }

    /// <summary>After every optimizer update.</summary>
    void OnStep(StepReport step) { }

    /// <summary>After an entry was added to the log history (training log, evaluation, final metrics) and to trainer_log.jsonl.</summary>
    void OnLog(TrainingLogEntry entry) { }

    /// <summary>After an evaluation.</summary>
    void OnEvaluate(EvaluationReport evaluation) { }

    /// <summary>After a checkpoint folder was written.</summary>
    void OnCheckpoint(CheckpointReport checkpoint) { }

    /// <summary>When the loop raises a warning (drift, overfitting, …).</summary>
    void OnWarning(TrainingWarning warning) { }

    /// <summary>After the run ended, for whatever reason, with its outputs written.</summary>
    void OnTrainEnd(TrainingRunResult result) { }
}
