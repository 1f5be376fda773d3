namespace SharpTune.Training.Reporting;

/// <summary>
/// Where training metrics signal memorization rather than learning. Defaults come from SFT practice: training loss
/// below 0.3, token accuracy above 0.90, entropy below 0.5 nats, or more than 5 epochs. A null threshold is not checked.
/// </summary>
public sealed record OverfitThresholds
{
    /// <summary>Training loss below this is overfitting (default 0.3).</summary>
    public double? LossBelow { get; init; } = 0.3;

    /// <summary>Training token accuracy above this is overfitting (default 0.90).</summary>
    public double? TokenAccuracyAbove { get; init; } = 0.90;

    /// <summary>Mean entropy (nats) below this is overfitting (default 0.5).</summary>
    public double? EntropyBelow { get; init; } = 0.5;

    /// <summary>An epoch above this is overfitting (default 5).</summary>
    public double? EpochAbove { get; init; } = 5;

    /// <summary>Throws a <see cref="UserException"/> naming the threshold when one is out of range.</summary>
    /// <param name="where">Prefix of the message, e.g. the config file and key group.</param>
    public void Validate(string where = "overfitting thresholds")
    {
        static bool Bad(double? v) => v is { } x && (!double.IsFinite(x) || x < 0);
        if (Bad(LossBelow)) throw new UserException($"{where}: loss threshold must be a number ≥ 0, got {LossBelow}");
        if (Bad(TokenAccuracyAbove) || TokenAccuracyAbove > 1)
            throw new UserException($"{where}: token accuracy threshold must be in 0–1, got {TokenAccuracyAbove}");
        if (Bad(EntropyBelow)) throw new UserException($"{where}: entropy threshold must be a number ≥ 0, got {EntropyBelow}");
        if (Bad(EpochAbove)) throw new UserException($"{where}: epoch threshold must be a number ≥ 0, got {EpochAbove}");
    }
}

/// <summary>A closed range of metric values.</summary>
/// <param name="Low">The lower end.</param>
/// <param name="High">The upper end.</param>
public readonly record struct MetricRange(double Low, double High)
{
    /// <summary>Whether <paramref name="value"/> lies in the range.</summary>
    public bool Contains(double value) => value >= Low && value <= High;
}

/// <summary>
/// Where training metrics sit in a run that learns without memorizing (from SFT practice): loss 0.5–0.8, token
/// accuracy 0.75–0.85, entropy 0.8–1.2 nats. Drawn as shaded bands in the training plots.
/// </summary>
public sealed record HealthyRanges
{
    /// <summary>Healthy training loss (default 0.5–0.8).</summary>
    public MetricRange Loss { get; init; } = new(0.5, 0.8);

    /// <summary>Healthy token accuracy (default 0.75–0.85).</summary>
    public MetricRange TokenAccuracy { get; init; } = new(0.75, 0.85);

    /// <summary>Healthy entropy in nats (default 0.8–1.2).</summary>
    public MetricRange Entropy { get; init; } = new(0.8, 1.2);
}
