using System.Globalization;

namespace SharpTune.Training.Loop;

/// <summary>
/// A generative evaluation run at the same points as the teacher-forced one (eval_steps / epoch / end), on the live
/// model: e.g. greedy decoding of the inference prompts of some evaluation records, answers parsed by the inference
/// answer extraction, and accuracy / F1 / unparseable rate. Implementations live with inference; the loop only calls
/// them and logs their metrics as <c>eval_gen_NAME</c>.
/// </summary>
public interface IGenerativeEvaluator
{
    /// <summary>
    /// Evaluates <paramref name="model"/> as it is after update <paramref name="step"/>. Returns named metrics; the
    /// one named <see cref="GenerativeMetrics.Accuracy"/> (a share in [0, 1]) is compared with the teacher-forced
    /// first-answer-token accuracy for the drift warning.
    /// </summary>
    IReadOnlyDictionary<string, double> Evaluate(TrainableDecoder model, long step, CancellationToken cancellation);
}

/// <summary>Metric names the loop knows.</summary>
public static class GenerativeMetrics
{
    /// <summary>Share of parsed answers equal to the reference (compared for drift).</summary>
    public const string Accuracy = "accuracy";

    /// <summary>The prefix generative metrics get in the log history (<c>eval_gen_accuracy</c>, …).</summary>
    public const string LogPrefix = "eval_gen_";
}

/// <summary>
/// Watches teacher-forced first-answer-token accuracy against generative accuracy: when they differ by more than
/// the margin (absolute, in [0, 1]) the first time, one warning is raised — the model scores the answer token when fed
/// the reference prefix but answers differently when it generates (template or prompt mismatch between training and
/// inference, thinking blocks, stop tokens, answer parsing).
/// </summary>
public sealed class DriftMonitor(double margin)
{
    /// <summary>The margin.</summary>
    public double Margin { get; } = margin;

    /// <summary>Whether the warning was raised already.</summary>
    public bool Warned { get; private set; }

    /// <summary>Records that the warning was raised before (a resumed run).</summary>
    public void MarkWarned() => Warned = true;

    /// <summary>The warning to raise for this evaluation, or null (none, or raised before).</summary>
    public TrainingWarning? Check(long step, double? firstTokenAccuracy, double? generativeAccuracy)
    {
        if (Warned || firstTokenAccuracy is not double tf || generativeAccuracy is not double gen) return null;
        if (!(Math.Abs(tf - gen) > Margin)) return null;
        Warned = true;
        return new TrainingWarning(TrainingWarningKind.Drift, step, string.Create(CultureInfo.InvariantCulture,
            $"train/inference drift at step {step}: teacher-forced first-answer-token accuracy {tf * 100:F1}% but generative accuracy {gen * 100:F1}% " +
            $"({Math.Abs(tf - gen) * 100:F1} points apart, margin {Margin * 100:F1}); check that inference builds prompts as training did (template, system prompt, thinking, stop tokens, answer parsing)"));
    }
}
