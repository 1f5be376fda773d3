namespace SharpTune.Training.Reporting;

/// <summary>
/// LLaMA-Factory's curve smoothing (<c>extras/ploting.py</c> <c>smooth</c>, after TensorBoard): an exponential moving
/// average started at the first value, whose weight grows with the number of points along a sigmoid,
/// <c>w = 1.8 · (1 / (1 + e^(−0.05·n)) − 0.5)</c>, so short series are smoothed little and long ones up to w → 0.9.
/// </summary>
public static class EmaSmoothing
{
    /// <summary>The smoothing weight for a series of <paramref name="count"/> points.</summary>
    public static double Weight(int count) => 1.8 * (1 / (1 + Math.Exp(-0.05 * count)) - 0.5);

    /// <summary>s₀ = x₀; sᵢ = w·sᵢ₋₁ + (1 − w)·xᵢ with <see cref="Weight"/> of the series length.</summary>
    public static double[] Smooth(IReadOnlyList<double> values)
    {
        var smoothed = new double[values.Count];
        if (values.Count == 0) return smoothed;
        double w = Weight(values.Count), last = values[0];
        for (int i = 0; i < values.Count; i++)
        {
            last = last * w + (1 - w) * values[i];
            smoothed[i] = last;
        }
        return smoothed;
    }
}
