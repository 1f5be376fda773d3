using System.Globalization;

namespace SharpTune.Training.Loop;

/// <summary>Where the logged training metrics sit relative to <see cref="OverfitThresholds"/>.</summary>
public enum TrainingHealth
{
    /// <summary>Loss, token accuracy and entropy all inside their healthy ranges.</summary>
    Healthy,

    /// <summary>Neither healthy nor overfitting (early training, or a mixed picture).</summary>
    Outside,

    /// <summary>Every overfitting condition holds.</summary>
    Overfitting,
}

/// <summary>
/// Classifies each training log (window means of loss, token accuracy and entropy, and the epoch) and raises one
/// warning the first time the run is overfitting: loss below, accuracy above and entropy below their thresholds past
/// the minimum epoch.
/// </summary>
public sealed class OverfitMonitor(OverfitThresholds thresholds)
{
    /// <summary>The thresholds.</summary>
    public OverfitThresholds Thresholds { get; } = thresholds;

    /// <summary>Whether the overfitting warning was raised already.</summary>
    public bool Fired { get; private set; }

    /// <summary>Records that the warning was raised before (a resumed run).</summary>
    public void MarkFired() => Fired = true;

    /// <summary>The band of one set of metrics.</summary>
    public TrainingHealth Classify(double loss, double accuracy, double entropy, double epoch)
    {
        var t = Thresholds;
        if (loss < t.OverfitLossBelow && accuracy > t.OverfitAccuracyAbove && entropy < t.OverfitEntropyBelow && epoch > t.MinEpoch) return TrainingHealth.Overfitting;
        static bool In(double v, (double Low, double High) r) => v >= r.Low && v <= r.High;
        return In(loss, t.HealthyLoss) && In(accuracy, t.HealthyAccuracy) && In(entropy, t.HealthyEntropy) ? TrainingHealth.Healthy : TrainingHealth.Outside;
    }

    /// <summary>The band, and the warning to raise when this is the first overfitting log.</summary>
    public (TrainingHealth Health, TrainingWarning? Warning) Observe(long step, double loss, double accuracy, double entropy, double epoch)
    {
        var health = Classify(loss, accuracy, entropy, epoch);
        if (health != TrainingHealth.Overfitting || Fired) return (health, null);
        Fired = true;
        var t = Thresholds;
        return (health, new TrainingWarning(TrainingWarningKind.Overfitting, step, string.Create(CultureInfo.InvariantCulture,
            $"overfitting at step {step} (epoch {epoch:F2}): loss {loss:F4} < {t.OverfitLossBelow}, token accuracy {accuracy:F3} > {t.OverfitAccuracyAbove}, " +
            $"entropy {entropy:F3} < {t.OverfitEntropyBelow}; healthy SFT sits near loss {t.HealthyLoss.Low}–{t.HealthyLoss.High}")));
    }
}
