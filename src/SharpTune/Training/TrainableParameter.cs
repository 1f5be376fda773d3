using SharpTune.Engine;

namespace SharpTune.Training;

/// <summary>
/// One trainable tensor: its value and gradient in backend memory, the name it is saved under (a PEFT key for LoRA,
/// the Hugging Face tensor name for full fine-tuning) and whether weight decay applies to it.
/// </summary>
public sealed class TrainableParameter
{
    internal TrainableParameter(string name, Tensor value, Tensor grad, bool decay, long[] shape)
    {
        Name = name;
        Value = value;
        Grad = grad;
        Decay = decay;
        Shape = shape;
    }

    /// <summary>The saved name, e.g. <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Dimensions as saved (<c>[out, in]</c>, <c>[n]</c>, …).</summary>
    public long[] Shape { get; }

    /// <summary>Number of elements.</summary>
    public long Count => Value.Length;

    /// <summary>Whether AdamW's weight decay applies (not to biases and norm weights, as transformers' Trainer decides).</summary>
    public bool Decay { get; }

    /// <summary>The value (fp32).</summary>
    internal Tensor Value { get; }

    /// <summary>The accumulated gradient (fp32, same shape).</summary>
    internal Tensor Grad { get; }

    /// <summary>transformers' Trainer rule: no decay for biases and normalization weights.</summary>
    public static bool DecaysByName(string name) => !(name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("norm", StringComparison.Ordinal));
}
