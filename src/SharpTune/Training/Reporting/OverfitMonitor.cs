using System.Globalization;

namespace SharpTune.Training.Reporting;

/// <summary>
/// Watches the logged training metrics against <see cref="OverfitThresholds"/> and raises one
/// <see cref="TrainingWarning"/> per kind (loss, token accuracy, entropy, epoch) the first time that metric crosses its
/// threshold; later crossings of the same kind stay silent, so a run prints each warning once.
/// </summary>
public sealed class OverfitMonitor
{
    private readonly OverfitThresholds _thresholds;
    private readonly HashSet<string> _raised = new(StringComparer.Ordinal);
    private readonly List<TrainingWarning> _warnings = [];

    /// <summary>Creates a monitor with the given thresholds (defaults when null).</summary>
    public OverfitMonitor(OverfitThresholds? thresholds = null)
    {
        _thresholds = thresholds ?? new OverfitThresholds();
        _thresholds.Validate();
    }

    /// <summary>Every warning raised so far, in order.</summary>
    public IReadOnlyList<TrainingWarning> Warnings => _warnings;

    /// <summary>Whether any overfitting warning has been raised (for <c>stop_on_overfit</c>).</summary>
    public bool Triggered => _warnings.Count > 0;

    /// <summary>The warning kinds raised so far (this run and, after <see cref="MarkRaised"/>, before a resume).</summary>
    public IReadOnlyCollection<string> RaisedKinds => _raised;

    /// <summary>Records kinds raised before a resume, so they are not reported again.</summary>
    public void MarkRaised(IEnumerable<string> kinds)
    {
        foreach (var k in kinds) _raised.Add(k);
    }

    /// <summary>Checks one logging step; returns the warnings newly raised by it (usually none).</summary>
    public IReadOnlyList<TrainingWarning> Observe(StepLogged e)
    {
        ArgumentNullException.ThrowIfNull(e);
        List<TrainingWarning>? raised = null;
        void Check(string kind, string metric, double? value, double? threshold, bool below)
        {
            if (value is not { } v || threshold is not { } t || !double.IsFinite(v) || _raised.Contains(kind)) return;
            if (below ? v >= t : v <= t) return;
            _raised.Add(kind);
            var w = new TrainingWarning(e.Step, kind,
                $"overfitting: {metric} {Num(v)} {(below ? "fell below" : "rose above")} {Num(t)} at step {e.Step} (epoch {e.Epoch.ToString("0.00", CultureInfo.InvariantCulture)})");
            _warnings.Add(w);
            (raised ??= []).Add(w);
        }
        Check(TrainingWarningKinds.OverfitLoss, "training loss", e.Loss, _thresholds.LossBelow, below: true);
        Check(TrainingWarningKinds.OverfitTokenAccuracy, "token accuracy", e.TokenAccuracy, _thresholds.TokenAccuracyAbove, below: false);
        Check(TrainingWarningKinds.OverfitEntropy, "entropy", e.Entropy, _thresholds.EntropyBelow, below: true);
        Check(TrainingWarningKinds.OverfitEpoch, "epoch", e.Epoch, _thresholds.EpochAbove, below: false);
        return raised ?? (IReadOnlyList<TrainingWarning>)[];
    }

    private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
