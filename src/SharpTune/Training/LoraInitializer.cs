using SharpTune.Models;
using SharpTune.Numerics;

namespace SharpTune.Training;

/// <summary>
/// A fresh LoRA adapter as PEFT's <c>reset_lora_parameters</c> makes one with <c>init_lora_weights=True</c>:
/// <c>A</c> by <c>nn.init.kaiming_uniform_(lora_A, a=√5)</c>, which on an <c>[r, in]</c> matrix is
/// U(−1/√in, 1/√in) (gain √(2/(1+a²)) = √(1/3), bound = √3 · gain / √fan_in), and <c>B = 0</c>, so the adapted model
/// starts equal to the base model.
/// <para>
/// The generator is counter-based, like <see cref="ModelInitializer"/>'s, so modules can be filled in any order on
/// any number of threads with the same bytes: per A tensor, <c>key = mix(seed ^ mix(fnv1a64(name)))</c> where
/// <c>name</c> is its PEFT key (e.g. <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c>, FNV-1a
/// over UTF-16 code units) and <c>mix</c> is one SplitMix64 step (add the golden gamma, then its finalizer); element
/// <c>j</c> (row-major) is <c>u = (mix(key + j) >> 11) · 2⁻⁵³</c> ∈ [0, 1) mapped to <c>(2u − 1) / √in</c>, computed in
/// double and rounded to float32. Keying by name means that changing the targets or the layer count leaves every
/// other module's values unchanged, and the streams never coincide with the base model's (other names).
/// </para>
/// </summary>
public static class LoraInitializer
{
    /// <summary>
    /// Creates A (random) and B (zero) for every layer of <paramref name="config"/> and every target of
    /// <paramref name="lora"/>, layer-major in target order.
    /// </summary>
    public static LoraAdapterWeights Initialize(ModelConfig config, LoraConfig lora, ulong seed)
    {
        lora.Validate();
        int targets = lora.Targets.Count;
        foreach (var target in lora.Targets)
        {
            var (outF, inF) = target.Shape(config);
            if ((long)lora.Rank * inF > Array.MaxLength || (long)outF * lora.Rank > Array.MaxLength)
                throw new UserException($"LoRA rank {lora.Rank} on {target.ModuleName()} [{outF}, {inF}] needs more than {Array.MaxLength} values per matrix");
        }
        var modules = new LoraModuleWeights[config.NumLayers * targets];
        Parallel.For(0, modules.Length, i =>
        {
            int layer = i / targets;
            var target = lora.Targets[i % targets];
            var (outF, inF) = target.Shape(config);
            var a = new float[lora.Rank * inF];
            var m = new LoraModuleWeights(layer, target, outF, inF, a, new float[outF * lora.Rank]);
            FillUniform(a, ModelInitializer.StreamKey(seed, PeftAdapter.KeyA(m.PeftPrefix)), 1.0 / Math.Sqrt(inF));
            modules[i] = m;
        });
        return new LoraAdapterWeights(lora, modules);
    }

    /// <summary>Element j of stream <paramref name="key"/>: (2u − 1)·bound with u = (mix(key + j) &gt;&gt; 11)·2⁻⁵³.</summary>
    internal static void FillUniform(Span<float> values, ulong key, double bound)
    {
        for (int j = 0; j < values.Length; j++)
        {
            double u = (SplitMix64.Mix(key + (ulong)j) >> 11) * (1.0 / (1UL << 53));
            values[j] = (float)((2.0 * u - 1.0) * bound);
        }
    }
}
