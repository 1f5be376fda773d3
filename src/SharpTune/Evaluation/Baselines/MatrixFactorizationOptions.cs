namespace SharpTune.Evaluation.Baselines;

/// <summary>
/// Hyper-parameters of the biased matrix factorization baseline (docs/evaluation.md). The defaults are in the range
/// the classic SGD recommenders use (Funk SVD, Surprise's SVD) and were checked on ml-latest-small.
/// </summary>
public sealed record MatrixFactorizationOptions
{
    /// <summary>Latent factors per user and item.</summary>
    public int Factors { get; init; } = 32;

    /// <summary>Passes over the train ratings.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>SGD step size.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>L2 penalty on biases and factors, applied per rating (also in the fold-in).</summary>
    public double Regularization { get; init; } = 0.05;

    /// <summary>Standard deviation of the normal initialization of the factors (biases start at 0).</summary>
    public double InitStd { get; init; } = 0.1;

    /// <summary>Seed of the initialization and of the per-epoch shuffles (SplitMix64).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws a <see cref="UserException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Factors < 1 || Factors > 1024) throw new UserException($"--mf-factors: expected an integer in 1–1024, got {Factors}");
        if (Epochs < 1) throw new UserException($"--mf-epochs: expected an integer >= 1, got {Epochs}");
        if (!(LearningRate > 0 && LearningRate < 1)) throw new UserException($"--mf-lr: expected a number in (0, 1), got {LearningRate}");
        if (!(Regularization >= 0)) throw new UserException($"--mf-reg: expected a number >= 0, got {Regularization}");
        if (!(InitStd >= 0)) throw new UserException($"--mf-init-std: expected a number >= 0, got {InitStd}");
    }
}
