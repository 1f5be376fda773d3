using SharpTune.Training.Reporting;

namespace SharpTune.Training.Loop;

/// <summary>
/// Forwards the loop's observer calls to a <see cref="Reporting.ITrainingObserver"/> (the progress display and plots
/// of <c>Training/Reporting</c>) as its event records: training logs as <see cref="StepLogged"/>, evaluations as
/// <see cref="EvaluationCompleted"/>, checkpoints, warnings, start and end.
/// </summary>
public sealed class ReportingBridge(Reporting.ITrainingObserver target, string outputDir, double totalEpochs) : ITrainingObserver
{
    private TimeSpan _elapsed;

    /// <inheritdoc />
    public void OnTrainBegin(TrainingStart start) => target.OnEvent(new TrainingStarted(start.StartStep, start.Plan.MaxSteps, totalEpochs, outputDir));

    /// <inheritdoc />
    public void OnLog(TrainingLogEntry entry)
    {
        _elapsed = TimeSpan.FromSeconds(entry.ElapsedSeconds);
        if (entry["loss"] is not double loss) return;
        target.OnEvent(new StepLogged(entry.Step, entry.MaxSteps, entry.Epoch, loss, entry["token_accuracy"], entry["entropy"], entry["learning_rate"] ?? 0,
            entry["grad_norm"], entry.TotalTokens, entry.Throughput, _elapsed));
    }

    /// <inheritdoc />
    public void OnEvaluate(EvaluationReport evaluation)
    {
        var m = evaluation.Metrics;
        double? Get(string key) => m.TryGetValue(key, out var v) ? v : null;
        GenerativeEvalSummary? generative = Get(GenerativeMetrics.LogPrefix + GenerativeMetrics.Accuracy) is double accuracy
            ? new GenerativeEvalSummary((int)(Get(GenerativeMetrics.LogPrefix + "samples") ?? 0), accuracy, Get(GenerativeMetrics.LogPrefix + "f1"), Get(GenerativeMetrics.LogPrefix + "unparseable_rate") ?? 0)
            : null;
        target.OnEvent(new EvaluationCompleted(evaluation.Step, evaluation.Epoch, m["eval_loss"], Get("eval_token_accuracy"), Get("eval_entropy"),
            Get("eval_first_token_accuracy"), generative, TimeSpan.FromSeconds(Get("eval_runtime") ?? 0)));
    }

    /// <inheritdoc />
    public void OnCheckpoint(CheckpointReport checkpoint) => target.OnEvent(new CheckpointSaved(checkpoint.Step, checkpoint.Path, "save", checkpoint.Seconds));

    /// <inheritdoc />
    public void OnWarning(TrainingWarning warning) =>
        target.OnEvent(new Reporting.TrainingWarning(warning.Step, warning.Name, warning.Message));

    /// <inheritdoc />
    public void OnTrainEnd(TrainingRunResult result) =>
        target.OnEvent(new TrainingFinished(result.GlobalStep, result.Reason switch
        {
            TrainingStopReason.Completed => "completed",
            TrainingStopReason.TimeBudget => "time budget reached",
            TrainingStopReason.Cancelled => "cancelled",
            _ => "stopped on overfitting",
        }, TimeSpan.FromSeconds(result.TrainMetrics.TryGetValue("train_runtime", out var t) ? t : 0), result.TrainLoss));
}
