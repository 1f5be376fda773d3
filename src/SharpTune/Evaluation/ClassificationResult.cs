namespace SharpTune.Evaluation;

/// <summary>Precision, recall, F1 and support of one class (scikit-learn's definitions; 0 where a ratio is 0/0).</summary>
/// <param name="Label">The class.</param>
/// <param name="Precision">tp / (tp + fp): of the answers with this label, the share that is right.</param>
/// <param name="Recall">tp / (tp + fn): of the references with this label, the share answered with it.</param>
/// <param name="F1">2·precision·recall / (precision + recall).</param>
/// <param name="Support">References with this label.</param>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, long Support);

/// <summary>A percentile bootstrap interval.</summary>
/// <param name="Low">The (1 − level)/2 percentile of the resampled statistic.</param>
/// <param name="High">The (1 + level)/2 percentile.</param>
public sealed record ConfidenceInterval(double Low, double High);

/// <summary>How bootstrap intervals are drawn.</summary>
/// <param name="Resamples">Resamples of the records (with replacement); 0 turns the intervals off.</param>
/// <param name="Seed">Seed of the resampling (SplitMix64).</param>
/// <param name="Level">Confidence level, e.g. 0.95.</param>
public sealed record BootstrapOptions(int Resamples = 1000, ulong Seed = 0, double Level = 0.95);

/// <summary>Metrics from a score per record (binary label sets only).</summary>
/// <param name="RocAuc">Area under the ROC curve of the score for the positive label; null when the references hold one class only.</param>
/// <param name="LogLoss">Mean negative log-likelihood of the references under p (clipped to [ε, 1 − ε]); null when the score is not a probability.</param>
/// <param name="BestThreshold">The t among the distinct scores for which "positive when score ≥ t" has the highest accuracy (ties: smallest t); null when the score is not a probability.</param>
/// <param name="BestThresholdAccuracy">That accuracy.</param>
public sealed record ScoreMetrics(double? RocAuc, double? LogLoss, double? BestThreshold, double? BestThresholdAccuracy);

/// <summary>Everything <c>sharptune eval</c> (and each baseline) reports for one set of predictions.</summary>
public sealed class ClassificationResult
{
    /// <summary>Records evaluated.</summary>
    public required long N { get; init; }

    /// <summary>The label set, in order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>The positive label (score metrics), or null.</summary>
    public string? Positive { get; init; }

    /// <summary>Share of records whose answer equals the reference; unparseable answers are wrong.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Unweighted mean of the per-class F1 over the label set.</summary>
    public required double MacroF1 { get; init; }

    /// <summary>Records whose answer is not a label.</summary>
    public required long Unparseable { get; init; }

    /// <summary>Unparseable / N.</summary>
    public double UnparseableRate => N == 0 ? 0 : (double)Unparseable / N;

    /// <summary>Unparseable records by reason key (think_unclosed, ambiguous, no_label, null_answer), only reasons that occurred.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> UnparseableByReason { get; init; } = [];

    /// <summary>Per-class metrics in label order.</summary>
    public required IReadOnlyList<ClassMetrics> PerClass { get; init; }

    /// <summary>[reference, predicted] counts; the last column is unparseable.</summary>
    public required long[,] Confusion { get; init; }

    /// <summary>Score metrics, when scores were given.</summary>
    public ScoreMetrics? Scores { get; init; }

    /// <summary>Bootstrap interval of the accuracy, when drawn.</summary>
    public ConfidenceInterval? AccuracyInterval { get; init; }

    /// <summary>Bootstrap interval of the macro F1, when drawn.</summary>
    public ConfidenceInterval? MacroF1Interval { get; init; }

    /// <summary>The bootstrap settings used, when intervals were drawn.</summary>
    public BootstrapOptions? Bootstrap { get; init; }

    /// <summary>A decision threshold that belongs to the predictor (baselines), or null.</summary>
    public double? Threshold { get; init; }
}
