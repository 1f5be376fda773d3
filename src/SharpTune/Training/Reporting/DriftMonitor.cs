using System.Globalization;

namespace SharpTune.Training.Reporting;

/// <summary>
/// Compares, at each evaluation, the teacher-forced first-answer-token accuracy (the model fed the prompt, scored on
/// the answer's first token) with the generative accuracy (the model's own greedy answer, parsed). A gap larger than
/// the margin means what training measures is not what inference does (prompt, stopping or parsing differ), so the
/// monitor raises one <see cref="TrainingWarning"/> of kind <see cref="TrainingWarningKinds.Drift"/>, once per run.
/// </summary>
public sealed class DriftMonitor
{
    /// <summary>The default margin: 10 percentage points.</summary>
    public const double DefaultMarginPoints = 10;

    private TrainingWarning? _warning;

    /// <summary>Creates a monitor that warns when the two accuracies differ by more than <paramref name="marginPoints"/> percentage points.</summary>
    public DriftMonitor(double marginPoints = DefaultMarginPoints)
    {
        if (!double.IsFinite(marginPoints) || marginPoints < 0 || marginPoints > 100)
            throw new UserException($"drift margin must be 0–100 percentage points, got {marginPoints.ToString(CultureInfo.InvariantCulture)}");
        MarginPoints = marginPoints;
    }

    /// <summary>The margin in percentage points.</summary>
    public double MarginPoints { get; }

    /// <summary>The warning raised, or null while the accuracies agree.</summary>
    public TrainingWarning? Warning => _warning;

    /// <summary>Whether the warning was raised (in this run, or before a resume: <see cref="MarkWarned"/>).</summary>
    public bool Warned { get; private set; }

    /// <summary>Records that the warning was raised before (a resumed run), so it is not raised again.</summary>
    public void MarkWarned() => Warned = true;

    /// <summary>Checks one evaluation; returns the warning when it is the first to exceed the margin, else null.</summary>
    public TrainingWarning? Observe(EvaluationCompleted e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Check(e.Step, e.FirstAnswerTokenAccuracy, e.Generative?.Accuracy);
    }

    /// <summary>Checks one evaluation's two accuracies (shares in [0, 1]; null: not measured).</summary>
    public TrainingWarning? Check(long step, double? firstAnswerTokenAccuracy, double? generativeAccuracy)
    {
        if (Warned || firstAnswerTokenAccuracy is not { } teacher || generativeAccuracy is not { } gen) return null;
        if (!double.IsFinite(teacher) || !double.IsFinite(gen)) return null;
        // Rounded so that 0.80 − 0.70 (10.000000000000009 in binary) is the 10 points it means.
        double gap = Math.Round(Math.Abs(teacher - gen) * 100, 9);
        if (gap <= MarginPoints) return null;
        var c = CultureInfo.InvariantCulture;
        Warned = true;
        _warning = new TrainingWarning(step, TrainingWarningKinds.Drift,
            $"drift: teacher-forced first-answer-token accuracy {(teacher * 100).ToString("0.0", c)}% and generative accuracy " +
            $"{(gen * 100).ToString("0.0", c)}% differ by {gap.ToString("0.0", c)} points (margin {MarginPoints.ToString("0.##", c)}) at step {step}; " +
            "generation does not do what teacher-forced training measures (check the inference prompt, stopping and answer parsing)");
        return _warning;
    }
}
