namespace SharpTune.Training;

/// <summary>The learning-rate schedules of transformers' <c>get_scheduler</c> that SharpTune implements.</summary>
public enum LearningRateScheduleType
{
    /// <summary><c>constant</c> / <c>constant_with_warmup</c>: linear warmup, then the base rate.</summary>
    Constant,

    /// <summary><c>linear</c>: linear warmup, then linear decay to 0 at the last step.</summary>
    Linear,

    /// <summary><c>cosine</c>: linear warmup, then half a cosine down to 0 at the last step.</summary>
    Cosine,
}

/// <summary>
/// A learning-rate multiplier per optimizer step, exactly as transformers' schedules compute it (the scheduler is
/// stepped after each optimizer step, so the update numbered <c>t</c> from 0 uses <c>Factor(t)</c>):
/// warmup <c>t / max(1, warmup)</c> while <c>t &lt; warmup</c>; then constant 1, linear
/// <c>max(0, (total − t) / max(1, total − warmup))</c>, or cosine <c>max(0, ½(1 + cos(π · progress)))</c> with
/// <c>progress = (t − warmup) / max(1, total − warmup)</c>.
/// </summary>
/// <param name="Type">The schedule.</param>
/// <param name="WarmupSteps">Warmup steps.</param>
/// <param name="TotalSteps">Total optimizer steps of the run (used by linear and cosine).</param>
public sealed record LearningRateSchedule(LearningRateScheduleType Type, int WarmupSteps, int TotalSteps)
{
    /// <summary>No warmup, constant rate.</summary>
    public static LearningRateSchedule ConstantRate { get; } = new(LearningRateScheduleType.Constant, 0, 0);

    /// <summary>The multiplier of the base learning rate for update <paramref name="step"/> (0-based).</summary>
    public double Factor(long step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        double span = Math.Max(1, TotalSteps - WarmupSteps);
        return Type switch
        {
            LearningRateScheduleType.Linear => Math.Max(0.0, (TotalSteps - step) / span),
            LearningRateScheduleType.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * ((step - WarmupSteps) / span)))),
            _ => 1.0,
        };
    }

    /// <summary>transformers' <c>warmup_ratio</c>: <c>ceil(ratio · total)</c> warmup steps.</summary>
    public static int WarmupStepsFromRatio(double ratio, int totalSteps)
    {
        if (!(ratio >= 0 && ratio <= 1)) throw new UserException($"warmup_ratio must be in [0, 1], got {ratio}");
        return (int)Math.Ceiling(ratio * totalSteps);
    }

    /// <summary>Parses <c>constant|linear|cosine</c> (also transformers' <c>constant_with_warmup</c>); other names are a <see cref="UserException"/> naming <paramref name="what"/>.</summary>
    public static LearningRateScheduleType ParseType(string text, string what) => text.Trim().ToLowerInvariant() switch
    {
        "constant" or "constant_with_warmup" => LearningRateScheduleType.Constant,
        "linear" => LearningRateScheduleType.Linear,
        "cosine" => LearningRateScheduleType.Cosine,
        _ => throw new UserException($"{what}: expected constant, linear or cosine, got '{text}'"),
    };
}
