using System.Diagnostics;

namespace SharpTune.Training;

/// <summary>What one optimizer step did.</summary>
/// <param name="Step">1-based number of the update.</param>
/// <param name="Loss">Mean cross-entropy over the step's supervised tokens (before the update).</param>
/// <param name="TokenAccuracy">Share of supervised tokens whose argmax is the label.</param>
/// <param name="Entropy">Mean entropy of the predicted distribution on supervised tokens.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="LearningRate">Learning rate of the update (after the schedule).</param>
/// <param name="SupervisedTokens">Supervised tokens of the step.</param>
/// <param name="Tokens">Unpadded input tokens of the step.</param>
/// <param name="ForwardSeconds">Time in forward passes (incl. the loss).</param>
/// <param name="BackwardSeconds">Time in backward passes.</param>
/// <param name="OptimizerSeconds">Time clipping and updating.</param>
public readonly record struct StepResult(long Step, double Loss, double TokenAccuracy, double Entropy, double GradNorm, double LearningRate,
    long SupervisedTokens, long Tokens, double ForwardSeconds, double BackwardSeconds, double OptimizerSeconds);

/// <summary>
/// A step whose loss or gradient norm is not finite (NaN or infinity). Thrown before the update, so the parameters
/// and the optimizer state are those of the previous step.
/// </summary>
public sealed class NonFiniteStepException(long step, double loss, double gradNorm)
    : UserException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"training step {step}: the {(double.IsFinite(loss) ? "gradient norm" : "loss")} is not finite (loss {loss}, gradient norm {gradNorm}); the parameters were not updated"))
{
    /// <summary>1-based number of the step that failed.</summary>
    public long Step { get; } = step;

    /// <summary>The step's loss.</summary>
    public double Loss { get; } = loss;

    /// <summary>The step's gradient norm before clipping.</summary>
    public double GradNorm { get; } = gradNorm;
}

/// <summary>
/// One optimizer step over a list of micro-batches (gradient accumulation): gradients zeroed, every micro-batch's
/// forward and backward with the loss normalized by the supervised tokens of the whole step (transformers'
/// <c>num_items_in_batch</c>), clipping, then AdamW at the scheduled learning rate; a non-finite loss or gradient norm throws
/// <see cref="NonFiniteStepException"/> before the update. Deterministic: LoRA dropout seeds
/// derive from <see cref="Seed"/>, the step number and the micro-batch index.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Creates the optimizer for <paramref name="model"/>'s parameters.</summary>
    public Trainer(TrainableDecoder model, AdamWOptions optimizer, LearningRateSchedule? schedule = null, ulong seed = 0)
    {
        Model = model;
        Optimizer = new AdamWOptimizer(model.Backend, model.Parameters, optimizer);
        Schedule = schedule ?? LearningRateSchedule.ConstantRate;
        Seed = seed;
    }

    /// <summary>The model being trained.</summary>
    public TrainableDecoder Model { get; }

    /// <summary>The optimizer (its <see cref="AdamWOptimizer.Steps"/> counts the updates done).</summary>
    public AdamWOptimizer Optimizer { get; }

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>Seed of LoRA dropout.</summary>
    public ulong Seed { get; }

    /// <summary>Runs one optimizer step over <paramref name="microBatches"/>.</summary>
    public StepResult Step(IReadOnlyList<TrainingBatch> microBatches)
    {
        long supervised = microBatches.Sum(m => (long)m.SupervisedCount), tokens = microBatches.Sum(m => (long)m.Tokens);
        if (supervised == 0) throw new UserException($"training step {Optimizer.Steps + 1}: its {microBatches.Count} micro-batch(es) supervise no token (every label is {TrainingBatch.IgnoreIndex})");
        Model.ZeroGradients();
        var stats = new BatchStatistics();
        float scale = (float)(1.0 / supervised);
        // The loss sums stay on the backend across the micro-batches and are read once for the step.
        Model.BeginStatistics();
        for (int i = 0; i < microBatches.Count; i++)
            stats += Model.ForwardBackwardPending(microBatches[i], scale, DropoutSeed(Optimizer.Steps, i));
        stats = Model.WithStatistics(stats);
        var clock = Stopwatch.StartNew();
        double norm = Optimizer.ClipGradients();
        double loss = stats.LossSum / supervised;
        // Checked before the update, so the parameters never take a non-finite value.
        if (!double.IsFinite(loss) || !double.IsFinite(norm)) throw new NonFiniteStepException(Optimizer.Steps + 1, loss, norm);
        double lr = Optimizer.Options.LearningRate * Schedule.Factor(Optimizer.Steps);
        Optimizer.Step(lr);
        return new StepResult(Optimizer.Steps, loss, (double)stats.Correct / supervised, stats.EntropySum / supervised, norm, lr,
            supervised, tokens, stats.ForwardSeconds, stats.BackwardSeconds, clock.Elapsed.TotalSeconds);
    }

    private ulong DropoutSeed(long step, int micro) => (Seed ^ 0xA0761D6478BD642FUL) + (ulong)step * 0xE7037ED1A0B428DBUL + (ulong)micro * 0x8EBC6AF09C88C6E3UL;

    /// <inheritdoc />
    public void Dispose() => Optimizer.Dispose();
}
