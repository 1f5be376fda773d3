namespace SharpTune.Training;

/// <summary>Sums over one micro-batch's supervised tokens, and where its time went.</summary>
/// <param name="LossSum">Σ token cross-entropy (nats).</param>
/// <param name="Correct">Supervised tokens whose argmax is the label.</param>
/// <param name="EntropySum">Σ entropy of the predicted distribution.</param>
/// <param name="Supervised">Number of supervised tokens.</param>
/// <param name="ForwardSeconds">Forward pass, including the loss.</param>
/// <param name="BackwardSeconds">Backward pass (0 for an evaluation).</param>
public readonly record struct BatchStatistics(double LossSum, long Correct, double EntropySum, long Supervised, double ForwardSeconds, double BackwardSeconds)
{
    /// <summary>Adds two micro-batches' sums.</summary>
    public static BatchStatistics operator +(BatchStatistics a, BatchStatistics b) =>
        new(a.LossSum + b.LossSum, a.Correct + b.Correct, a.EntropySum + b.EntropySum, a.Supervised + b.Supervised,
            a.ForwardSeconds + b.ForwardSeconds, a.BackwardSeconds + b.BackwardSeconds);
}
