namespace SharpTune.Training;

/// <summary>
/// One adapted projection's LoRA matrices on the host, row-major: <c>A [rank, in]</c> (<c>lora_A.weight</c>) and
/// <c>B [out, rank]</c> (<c>lora_B.weight</c>), as PEFT stores them.
/// </summary>
/// <param name="Layer">Decoder layer index.</param>
/// <param name="Target">Which projection.</param>
/// <param name="OutFeatures">Output features of the projection.</param>
/// <param name="InFeatures">Input features of the projection.</param>
/// <param name="A">[rank, in] row-major.</param>
/// <param name="B">[out, rank] row-major.</param>
public sealed record LoraModuleWeights(int Layer, LoraTarget Target, int OutFeatures, int InFeatures, float[] A, float[] B)
{
    /// <summary>The rank (rows of A).</summary>
    public int Rank => InFeatures == 0 ? 0 : A.Length / InFeatures;

    /// <summary>PEFT's key prefix, e.g. <c>base_model.model.model.layers.0.self_attn.q_proj</c>.</summary>
    public string PeftPrefix => Target.PeftPrefix(Layer);
}

/// <summary>A whole LoRA adapter on the host: its configuration and one <see cref="LoraModuleWeights"/> per (layer, target), layer-major in target order.</summary>
/// <param name="Config">The hyper-parameters.</param>
/// <param name="Modules">The matrices.</param>
public sealed record LoraAdapterWeights(LoraConfig Config, IReadOnlyList<LoraModuleWeights> Modules);
