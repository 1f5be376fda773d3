namespace SharpTune.Engine;

/// <summary>
/// The scalars of one AdamW update (PyTorch's <c>torch.optim.AdamW</c>): with bias corrections
/// <c>bc1 = 1 − β1^step</c>, <c>bc2 = 1 − β2^step</c>:
/// <c>p ← p·(1 − lr·wd)</c>; <c>m ← β1·m + (1−β1)·g</c>; <c>v ← β2·v + (1−β2)·g²</c>;
/// <c>p ← p − (lr/bc1) · m / (√v / √bc2 + eps)</c>.
/// </summary>
/// <param name="LearningRate">lr of this step (after the schedule).</param>
/// <param name="Beta1">β1 (PyTorch default 0.9).</param>
/// <param name="Beta2">β2 (PyTorch default 0.999).</param>
/// <param name="Epsilon">eps (PyTorch default 1e-8).</param>
/// <param name="WeightDecay">Decoupled weight decay of this parameter's group.</param>
/// <param name="Step">The 1-based number of this update.</param>
public readonly record struct AdamWStep(double LearningRate, double Beta1, double Beta2, double Epsilon, double WeightDecay, long Step)
{
    /// <summary><c>1 − lr·wd</c>, the decay factor on the parameter.</summary>
    public float DecayFactor => (float)(1 - LearningRate * WeightDecay);

    /// <summary><c>lr / (1 − β1^step)</c>.</summary>
    public float StepSize => (float)(LearningRate / (1 - Math.Pow(Beta1, Step)));

    /// <summary><c>√(1 − β2^step)</c>.</summary>
    public float BiasCorrection2Sqrt => (float)Math.Sqrt(1 - Math.Pow(Beta2, Step));
}
