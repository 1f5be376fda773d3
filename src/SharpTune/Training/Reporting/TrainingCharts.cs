using System.Globalization;

namespace SharpTune.Training.Reporting;

/// <summary>What the training charts draw besides the logged metrics.</summary>
public sealed record PlotSettings
{
    /// <summary>
    /// The run folder as the user named it: LLaMA-Factory titles its plots "training loss of OUTPUT_DIR". Null uses the
    /// folder the history was read from.
    /// </summary>
    public string? RunLabel { get; init; }

    /// <summary>The metrics drawn as LLaMA-Factory's <c>plot_loss</c> draws them, one <c>training_KEY.png</c> each.</summary>
    public IReadOnlyList<string> LlamaFactoryKeys { get; init; } = [LogKeys.Loss, LogKeys.EvalLoss];

    /// <summary>The healthy bands.</summary>
    public HealthyRanges Healthy { get; init; } = new();

    /// <summary>The overfitting thresholds, drawn as bands from the threshold to the metric's natural bound.</summary>
    public OverfitThresholds Overfit { get; init; } = new();
}

/// <summary>
/// Builds the charts of a run from its <see cref="TrainingLogHistory"/>: for each of
/// <see cref="PlotSettings.LlamaFactoryKeys"/>, LLaMA-Factory's <c>plot_loss</c> figure (the metric in
/// <c>#1f77b4</c> at 40% opacity labelled "original", its <see cref="EmaSmoothing"/> labelled "smoothed", title
/// "training KEY of RUN", axes "step" and KEY); and SharpTune's charts for the report: loss, token accuracy and
/// entropy with their healthy and overfitting bands, the learning rate, and teacher-forced vs generative answer
/// accuracy, each with the checkpoints on disk marked.
/// </summary>
public static class TrainingCharts
{
    /// <summary>matplotlib's first default color, LLaMA-Factory's curve color.</summary>
    public const string Blue = "#1f77b4";

    /// <summary>Evaluation series.</summary>
    public const string Orange = "#ff7f0e";

    /// <summary>Healthy bands.</summary>
    public const string Green = "#2ca02c";

    /// <summary>Overfitting bands.</summary>
    public const string Red = "#d62728";

    /// <summary>Generative accuracy.</summary>
    public const string Purple = "#9467bd";

    /// <summary>Checkpoint markers.</summary>
    public const string Gray = "#7f7f7f";

    /// <summary>The best checkpoint's marker.</summary>
    public const string Brown = "#8c564b";

    /// <summary>Opacity of the shaded bands.</summary>
    public const double BandOpacity = 0.15;

    /// <summary>The names of SharpTune's extra charts, in the order they are built.</summary>
    public static readonly IReadOnlyList<string> ExtraChartNames =
        ["training_loss_bands", "training_token_accuracy", "training_entropy", "training_learning_rate", "training_answer_accuracy"];

    /// <summary>Builds every chart the history has data for; <paramref name="notes"/> receives one line per chart left out or value skipped.</summary>
    public static List<ChartSpec> Build(TrainingLogHistory history, PlotSettings settings, List<string> notes)
    {
        var charts = new List<ChartSpec>();
        var label = settings.RunLabel ?? Path.GetDirectoryName(history.SourcePath) ?? ".";
        foreach (var key in settings.LlamaFactoryKeys)
        {
            var s = Take(history, key, notes);
            if (s is null || s.Values.Length == 0)
            {
                notes.Add($"No metric {key} to plot."); // LLaMA-Factory's words
                continue;
            }
            charts.Add(new ChartSpec("training_" + key.Replace('/', '_'), $"training {key} of {label}", "step", key)
            {
                Lines =
                [
                    new ChartLine("original", s.Steps, s.Values, Blue, Opacity: 0.4),
                    new ChartLine("smoothed", s.Steps, EmaSmoothing.Smooth(s.Values), Blue),
                ],
            });
        }

        var markers = CheckpointMarkers(history);
        var o = settings.Overfit;
        var h = settings.Healthy;
        AddBanded(charts, notes, history, markers, "training_loss_bands", "loss: healthy and overfitting bands", "loss",
            LogKeys.Loss, LogKeys.EvalLoss, h.Loss, o.LossBelow is { } lb ? (0, lb, $"overfitting (< {N(lb)})") : null);
        AddBanded(charts, notes, history, markers, "training_token_accuracy", "token accuracy", "token accuracy",
            LogKeys.TokenAccuracy, LogKeys.EvalTokenAccuracy, h.TokenAccuracy,
            o.TokenAccuracyAbove is { } ta ? (ta, 1, $"overfitting (> {N(ta)})") : null);
        AddBanded(charts, notes, history, markers, "training_entropy", "entropy", "entropy (nats)",
            LogKeys.Entropy, LogKeys.EvalEntropy, h.Entropy, o.EntropyBelow is { } eb ? (0, eb, $"overfitting (< {N(eb)})") : null);

        var lr = Take(history, LogKeys.LearningRate, notes);
        if (lr is { Values.Length: > 0 })
            charts.Add(new ChartSpec("training_learning_rate", "learning rate", "step", "learning rate")
            {
                Lines = [new ChartLine("learning rate", lr.Steps, lr.Values, Blue)],
                Markers = markers,
                LegendOutside = true,
                Width = 800,
            });
        else notes.Add("training_learning_rate: no learning_rate in the log; not drawn");

        var teacher = Take(history, LogKeys.EvalFirstAnswerTokenAccuracy, notes);
        var generative = Take(history, LogKeys.EvalGenerativeAccuracy, notes);
        var lines = new List<ChartLine>();
        if (teacher is { Values.Length: > 0 })
            lines.Add(new ChartLine("teacher-forced (first answer token)", teacher.Steps, teacher.Values, Blue, Markers: true));
        if (generative is { Values.Length: > 0 })
            lines.Add(new ChartLine("generative", generative.Steps, generative.Values, Purple, Markers: true));
        if (lines.Count > 0)
            charts.Add(new ChartSpec("training_answer_accuracy", "answer accuracy: teacher-forced vs generative", "step", "accuracy")
            {
                Lines = lines,
                Markers = markers,
                LegendOutside = true,
                Width = 800,
            });
        else notes.Add($"training_answer_accuracy: no {LogKeys.EvalFirstAnswerTokenAccuracy} or {LogKeys.EvalGenerativeAccuracy} in the log; not drawn");
        return charts;
    }

    private static void AddBanded(List<ChartSpec> charts, List<string> notes, TrainingLogHistory history, IReadOnlyList<ChartMarker> markers,
        string name, string title, string yLabel, string trainKey, string evalKey, MetricRange healthy, (double Low, double High, string Label)? overfit)
    {
        var train = Take(history, trainKey, notes);
        var eval = Take(history, evalKey, notes);
        var lines = new List<ChartLine>();
        if (train is { Values.Length: > 0 })
        {
            lines.Add(new ChartLine($"train {yLabel}", train.Steps, train.Values, Blue, Opacity: 0.4));
            lines.Add(new ChartLine($"train {yLabel} (smoothed)", train.Steps, EmaSmoothing.Smooth(train.Values), Blue));
        }
        if (eval is { Values.Length: > 0 }) lines.Add(new ChartLine($"eval {yLabel}", eval.Steps, eval.Values, Orange, Markers: true));
        if (lines.Count == 0)
        {
            notes.Add($"{name}: no {trainKey} or {evalKey} in the log; not drawn");
            return;
        }
        var bands = new List<ChartBand> { new($"healthy ({N(healthy.Low)}–{N(healthy.High)})", healthy.Low, healthy.High, Green, BandOpacity) };
        if (overfit is { } of) bands.Add(new ChartBand(of.Label, of.Low, of.High, Red, BandOpacity));
        charts.Add(new ChartSpec(name, title, "step", yLabel) { Lines = lines, Bands = bands, Markers = markers, LegendOutside = true, Width = 800 });
    }

    private static List<ChartMarker> CheckpointMarkers(TrainingLogHistory history)
    {
        var markers = new List<ChartMarker>();
        bool labelled = false;
        foreach (var step in history.CheckpointSteps)
        {
            if (step == history.BestCheckpointStep) continue;
            markers.Add(new ChartMarker(labelled ? null : "checkpoint", step, Gray));
            labelled = true;
        }
        if (history.BestCheckpointStep is { } best && history.CheckpointSteps.Contains(best))
            markers.Add(new ChartMarker("best checkpoint", best, Brown, Width: 2));
        return markers;
    }

    // A metric is read by several charts; its non-finite values are noted once.
    private static MetricSeries? Take(TrainingLogHistory history, string key, List<string> notes)
    {
        var s = history.Series(key);
        if (s is { NonFiniteLeftOut: > 0 } && !notes.Any(n => n.StartsWith(s.Key + ":", StringComparison.Ordinal)))
            notes.Add($"{s.Key}: {s.NonFiniteLeftOut} non-finite value{(s.NonFiniteLeftOut == 1 ? "" : "s")} left out");
        return s;
    }

    private static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
