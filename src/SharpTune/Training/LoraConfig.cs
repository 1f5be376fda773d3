namespace SharpTune.Training;

/// <summary>
/// A LoRA adapter's hyper-parameters, as PEFT's <c>LoraConfig</c> names them: the update of a frozen weight
/// <c>W [out, in]</c> is <c>ΔW = Scaling · B · A</c> with <c>A [r, in]</c>, <c>B [out, r]</c>, applied as
/// <c>y = x Wᵀ + Scaling · dropout(x) Aᵀ Bᵀ</c>.
/// </summary>
public sealed record LoraConfig
{
    /// <summary><c>r</c>: the rank.</summary>
    public int Rank { get; init; } = 16;

    /// <summary><c>lora_alpha</c>.</summary>
    public double Alpha { get; init; } = 32;

    /// <summary><c>lora_dropout</c>: dropout probability on the adapter's input (0 = none).</summary>
    public double Dropout { get; init; }

    /// <summary><c>use_rslora</c>: scale by alpha/√r instead of alpha/r.</summary>
    public bool UseRslora { get; init; }

    /// <summary><c>target_modules</c>, in checkpoint order.</summary>
    public IReadOnlyList<LoraTarget> Targets { get; init; } = LoraTargets.All;

    /// <summary>The factor on <c>B · A</c>: alpha / r, or alpha / √r with rsLoRA (PEFT's <c>scaling</c>).</summary>
    public double Scaling => UseRslora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Throws a <see cref="UserException"/> naming the field when a value is out of range.</summary>
    public void Validate()
    {
        if (Rank < 1) throw new UserException($"LoRA rank (r) must be at least 1, got {Rank}");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new UserException($"lora_alpha must be a positive number, got {Alpha}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new UserException($"lora_dropout must be in [0, 1), got {Dropout}");
        if (Targets.Count == 0) throw new UserException("target_modules must name at least one projection");
    }
}
