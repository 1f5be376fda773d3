namespace SharpTune.Evaluation;

/// <summary>
/// Chooses a decision threshold: among the distinct values of a statistic, the t for which "positive when value ≥ t"
/// has the highest accuracy on the given records; ties go to the smallest t.
/// </summary>
public static class ThresholdSelector
{
    /// <summary>The best threshold and its accuracy; (NaN, 0) when there are no records.</summary>
    public static (double Threshold, double Accuracy) Best(ReadOnlySpan<double> values, ReadOnlySpan<bool> isPositive)
    {
        int n = values.Length;
        if (n == 0) return (double.NaN, 0);
        var keys = values.ToArray();
        var pos = isPositive.ToArray();
        Array.Sort(keys, pos);
        long totalPos = 0;
        foreach (var b in pos) if (b) totalPos++;
        // Sweep t upwards over the distinct values: below t everything is predicted negative.
        long negBelow = 0, posBelow = 0, bestRight = -1;
        double best = double.NaN;
        for (int i = 0; i < n;)
        {
            long right = negBelow + (totalPos - posBelow);
            if (right > bestRight) { bestRight = right; best = keys[i]; }
            int j = i;
            for (; j < n && keys[j] == keys[i]; j++)
                if (pos[j]) posBelow++; else negBelow++;
            i = j;
        }
        return (best, (double)bestRight / n);
    }
}
