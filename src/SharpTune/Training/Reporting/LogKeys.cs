namespace SharpTune.Training.Reporting;

/// <summary>
/// The metric names in <c>trainer_state.json</c>'s <c>log_history</c> and in <c>trainer_log.jsonl</c>. transformers and
/// LLaMA-Factory fix the first group; SharpTune's own metrics follow transformers' convention (<c>eval_</c> prefix for
/// evaluation). Readers also accept the names TRL and LLaMA-Factory use for the same metric (see <see cref="Aliases"/>).
/// </summary>
public static class LogKeys
{
    /// <summary>The step of a <c>log_history</c> entry (transformers).</summary>
    public const string Step = "step";

    /// <summary>The step of a <c>trainer_log.jsonl</c> line (LLaMA-Factory).</summary>
    public const string CurrentSteps = "current_steps";

    /// <summary>Fractional epoch.</summary>
    public const string Epoch = "epoch";

    /// <summary>Training loss.</summary>
    public const string Loss = "loss";

    /// <summary>Learning rate in <c>log_history</c> (transformers).</summary>
    public const string LearningRate = "learning_rate";

    /// <summary>Learning rate in <c>trainer_log.jsonl</c> (LLaMA-Factory).</summary>
    public const string Lr = "lr";

    /// <summary>Gradient norm before clipping.</summary>
    public const string GradNorm = "grad_norm";

    /// <summary>Training token accuracy (SharpTune; TRL calls it <c>mean_token_accuracy</c>).</summary>
    public const string TokenAccuracy = "token_accuracy";

    /// <summary>Training entropy in nats (SharpTune and TRL).</summary>
    public const string Entropy = "entropy";

    /// <summary>Teacher-forced eval loss.</summary>
    public const string EvalLoss = "eval_loss";

    /// <summary>Teacher-forced eval token accuracy (LLaMA-Factory's <c>compute_accuracy</c> logs it as <c>eval_accuracy</c>).</summary>
    public const string EvalTokenAccuracy = "eval_token_accuracy";

    /// <summary>Eval entropy.</summary>
    public const string EvalEntropy = "eval_entropy";

    /// <summary>Teacher-forced accuracy of the first answer token.</summary>
    public const string EvalFirstAnswerTokenAccuracy = "eval_first_token_accuracy";

    /// <summary>Generative accuracy (greedy answers, parsed); generative metrics are logged as <c>eval_gen_NAME</c>.</summary>
    public const string EvalGenerativeAccuracy = "eval_gen_accuracy";

    /// <summary>Generative macro F1.</summary>
    public const string EvalGenerativeF1 = "eval_gen_f1";

    /// <summary>Share of generated answers that could not be parsed.</summary>
    public const string EvalGenerativeUnparseableRate = "eval_gen_unparseable_rate";

    /// <summary>LLaMA-Factory's eval token accuracy (drawn as <c>training_eval_accuracy.png</c> by its <c>plot_loss</c>).</summary>
    public const string EvalAccuracy = "eval_accuracy";

    /// <summary>For each metric, the names it is found under, SharpTune's first.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Aliases = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [LearningRate] = [LearningRate, Lr],
        [TokenAccuracy] = [TokenAccuracy, "mean_token_accuracy"],
        [EvalTokenAccuracy] = [EvalTokenAccuracy, "eval_mean_token_accuracy", EvalAccuracy],
        [EvalFirstAnswerTokenAccuracy] = [EvalFirstAnswerTokenAccuracy, "eval_first_answer_token_accuracy"],
        [EvalGenerativeAccuracy] = [EvalGenerativeAccuracy, "eval_generative_accuracy"],
    };
}
