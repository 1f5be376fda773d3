namespace SharpTune.Training.Reporting;

/// <summary>
/// Something the training loop reports to its observers (the progress display, the monitors, a test). Every event
/// carries the optimizer step it happened at (1-based; 0 before the first update).
/// </summary>
/// <param name="Step">The optimizer step (transformers' <c>global_step</c>) the event belongs to.</param>
public abstract record TrainingEvent(long Step);

/// <summary>The run is about to take its first step (on a resume: the first step after the checkpoint).</summary>
/// <param name="Step">The step the run starts from: 0 for a fresh run, the checkpoint's step on a resume.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run (transformers' <c>max_steps</c>).</param>
/// <param name="TotalEpochs">Epochs the run is set to (may be fractional).</param>
/// <param name="OutputDir">The run's output folder.</param>
public sealed record TrainingStarted(long Step, long TotalSteps, double TotalEpochs, string OutputDir) : TrainingEvent(Step);

/// <summary>A logging step: the training metrics averaged over the steps since the previous log (transformers' <c>on_log</c>).</summary>
/// <param name="Step">The step just completed.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Epoch">Fractional epoch reached (transformers' <c>epoch</c>).</param>
/// <param name="Loss">Mean training loss over the supervised tokens of the logged steps.</param>
/// <param name="TokenAccuracy">Share of supervised tokens predicted right (argmax), or null when not computed.</param>
/// <param name="Entropy">Mean entropy (nats) of the predicted distribution on supervised tokens, or null.</param>
/// <param name="LearningRate">Learning rate of the last update.</param>
/// <param name="GradNorm">Gradient norm before clipping, or null.</param>
/// <param name="TotalTokens">Input tokens seen since the run started (transformers' <c>num_input_tokens_seen</c>).</param>
/// <param name="TokensPerSecond">Input tokens per second of wall-clock time (LLaMA-Factory's <c>throughput</c>).</param>
/// <param name="Elapsed">Wall-clock time since this process started the run (not counting the time before a resume).</param>
public sealed record StepLogged(long Step, long TotalSteps, double Epoch, double Loss, double? TokenAccuracy, double? Entropy,
    double LearningRate, double? GradNorm, long TotalTokens, double TokensPerSecond, TimeSpan Elapsed) : TrainingEvent(Step);

/// <summary>An evaluation finished: the teacher-forced metrics and, when configured, the generative ones.</summary>
/// <param name="Step">The step the evaluation ran after.</param>
/// <param name="Epoch">Fractional epoch reached.</param>
/// <param name="Loss">Teacher-forced eval loss (<c>eval_loss</c>).</param>
/// <param name="TokenAccuracy">Teacher-forced token accuracy on the supervised eval tokens, or null.</param>
/// <param name="Entropy">Mean entropy on the supervised eval tokens, or null.</param>
/// <param name="FirstAnswerTokenAccuracy">Teacher-forced accuracy of the first answer token, or null.</param>
/// <param name="Generative">The generative evaluation, or null when none ran at this step.</param>
/// <param name="Duration">Wall-clock time the evaluation took.</param>
public sealed record EvaluationCompleted(long Step, double Epoch, double Loss, double? TokenAccuracy, double? Entropy,
    double? FirstAnswerTokenAccuracy, GenerativeEvalSummary? Generative, TimeSpan Duration) : TrainingEvent(Step);

/// <summary>The result of a generative evaluation: greedy answers parsed and compared with the labels.</summary>
/// <param name="Samples">Eval records generated for.</param>
/// <param name="Accuracy">Share of records whose parsed answer equals the label (unparseable answers count as wrong).</param>
/// <param name="MacroF1">Macro F1 over the labels, or null when not computed.</param>
/// <param name="UnparseableRate">Share of records whose answer could not be parsed.</param>
public sealed record GenerativeEvalSummary(int Samples, double Accuracy, double? MacroF1, double UnparseableRate);

/// <summary>A checkpoint folder was written completely (renamed into place).</summary>
/// <param name="Step">The step the checkpoint holds.</param>
/// <param name="Path">The checkpoint folder (<c>output_dir/checkpoint-N</c>).</param>
/// <param name="Reason">Why it was written: <c>save_steps</c>, <c>epoch</c>, <c>time budget</c>, <c>signal</c>, <c>end</c>, ….</param>
/// <param name="Seconds">How long writing it took (null: not measured).</param>
public sealed record CheckpointSaved(long Step, string Path, string Reason, double? Seconds = null) : TrainingEvent(Step);

/// <summary>A warning raised during the run (overfitting, train/inference drift, …), printed once and logged.</summary>
/// <param name="Step">The step at which the condition was seen.</param>
/// <param name="Kind">A stable code for the kind of warning (see <see cref="TrainingWarningKinds"/>).</param>
/// <param name="Message">One line for the user naming the metric, its value, the threshold and the step.</param>
public sealed record TrainingWarning(long Step, string Kind, string Message) : TrainingEvent(Step);

/// <summary>The run ended (completed, stopped by the time budget or a signal, or by an overfitting stop).</summary>
/// <param name="Step">The last completed step.</param>
/// <param name="Reason">Why the run ended, in words (e.g. <c>completed</c>, <c>time budget of 1:30:00 reached</c>).</param>
/// <param name="Elapsed">Wall-clock time of this process's part of the run.</param>
/// <param name="TrainLoss">Mean training loss over the run (transformers' <c>train_loss</c>), or null.</param>
public sealed record TrainingFinished(long Step, string Reason, TimeSpan Elapsed, double? TrainLoss) : TrainingEvent(Step);

/// <summary>The codes of <see cref="TrainingWarning.Kind"/> raised by SharpTune's monitors.</summary>
public static class TrainingWarningKinds
{
    /// <summary>Training loss fell below the overfitting threshold.</summary>
    public const string OverfitLoss = "overfit_loss";

    /// <summary>Token accuracy rose above the overfitting threshold.</summary>
    public const string OverfitTokenAccuracy = "overfit_token_accuracy";

    /// <summary>Entropy fell below the overfitting threshold.</summary>
    public const string OverfitEntropy = "overfit_entropy";

    /// <summary>The run went past the epoch threshold.</summary>
    public const string OverfitEpoch = "overfit_epoch";

    /// <summary>Teacher-forced and generative accuracy differ by more than the margin.</summary>
    public const string Drift = "drift";
}

/// <summary>Receives the events of a training run, in order, on the training thread.</summary>
public interface ITrainingObserver
{
    /// <summary>Handles one event. Must not throw for display problems; the run does not wait on slow displays.</summary>
    void OnEvent(TrainingEvent e);
}
