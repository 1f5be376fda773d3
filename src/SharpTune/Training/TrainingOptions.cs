using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>What a <see cref="TrainableDecoder"/> trains.</summary>
public enum FineTuningMode
{
    /// <summary>LoRA adapters on the chosen projections; every base weight frozen (no gradient buffers).</summary>
    Lora,

    /// <summary>Every parameter trainable, held as fp32 master weights.</summary>
    Full,
}

/// <summary>Sizes and switches of a <see cref="TrainableDecoder"/>: its arenas are allocated once from these.</summary>
public sealed record TrainingOptions
{
    /// <summary>LoRA or full fine-tuning.</summary>
    public FineTuningMode Mode { get; init; } = FineTuningMode.Lora;

    /// <summary>The largest number of unpadded tokens in one micro-batch; activation arenas are sized for it.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>Supervised rows whose logits are computed at once (the <c>[rows, vocab]</c> buffer is sized for it).</summary>
    public int LogitChunk { get; init; } = 256;

    /// <summary>
    /// Per-layer recomputation: keep only each layer's input and recompute the layer in the backward pass (about one
    /// more forward of compute for a fraction of the activation memory). Results are bit-identical either way.
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>How frozen base weights are held in LoRA mode (BF16 halves their memory; activations stay fp32).</summary>
    public WeightStorage BaseWeights { get; init; } = WeightStorage.Auto;

    /// <summary>Throws a <see cref="UserException"/> naming the field when a size is out of range.</summary>
    public void Validate()
    {
        if (MaxTokens < 1) throw new UserException($"training: the largest micro-batch must hold at least 1 token, got {MaxTokens}");
        if (LogitChunk < 1) throw new UserException($"training: logit chunk must be at least 1 row, got {LogitChunk}");
    }
}
