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
