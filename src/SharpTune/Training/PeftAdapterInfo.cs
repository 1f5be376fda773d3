namespace SharpTune.Training;

/// <summary>
/// What a PEFT LoRA adapter folder holds, read without a base model: its configuration and, per adapted module, the
/// shapes its tensors imply (see <see cref="PeftAdapter.ReadInfo"/>).
/// </summary>
/// <param name="Directory">The adapter folder.</param>
/// <param name="Config">The hyper-parameters from adapter_config.json.</param>
/// <param name="BaseModelNameOrPath"><c>base_model_name_or_path</c>, or null.</param>
/// <param name="TaskType"><c>task_type</c>, or null.</param>
/// <param name="Layers">Number of decoder layers adapted (layers 0 … Layers−1).</param>
/// <param name="Modules">Every adapted projection, layer-major in target order, with its <c>(out, in)</c> features.</param>
public sealed record PeftAdapterInfo(
    string Directory,
    LoraConfig Config,
    string? BaseModelNameOrPath,
    string? TaskType,
    int Layers,
    IReadOnlyList<(int Layer, LoraTarget Target, int OutFeatures, int InFeatures)> Modules)
{
    /// <summary>Trainable parameters: r · (in + out) per module.</summary>
    public long ParameterCount => Modules.Sum(m => (long)Config.Rank * (m.InFeatures + m.OutFeatures));
}
