using System.Runtime.InteropServices;
using SharpTune.Models;
using SharpTune.Numerics;

namespace SharpTune.Bench;

/// <summary>
/// A random checkpoint that is never held in memory: each tensor's bytes are generated (uniform with std 0.02,
/// norms 1) when the loader asks, so the process's peak memory is the engine's own. Deterministic per name.
/// </summary>
internal sealed class SyntheticTensorSource : ITensorSource
{
    private readonly Dictionary<string, TensorInfo> _infos = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    public SyntheticTensorSource(ModelConfig c, TensorDType dtype)
    {
        void Add(string name, params long[] shape) { _infos[name] = new TensorInfo(name, dtype, shape); _names.Add(name); }
        Add("model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", c.HiddenSize);
            Add(p + "self_attn.q_proj.weight", c.QueryDim, c.HiddenSize);
            Add(p + "self_attn.k_proj.weight", c.KvDim, c.HiddenSize);
            Add(p + "self_attn.v_proj.weight", c.KvDim, c.HiddenSize);
            Add(p + "self_attn.o_proj.weight", c.HiddenSize, c.QueryDim);
            Add(p + "self_attn.q_norm.weight", c.HeadDim);
            Add(p + "self_attn.k_norm.weight", c.HeadDim);
            Add(p + "post_attention_layernorm.weight", c.HiddenSize);
            Add(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize);
            Add(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize);
            Add(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize);
        }
        Add("model.norm.weight", c.HiddenSize);
        if (!c.TieWordEmbeddings) Add("lm_head.weight", c.VocabSize, c.HiddenSize);
    }

    public IReadOnlyList<string> Names => _names;

    public bool TryGetInfo(string name, out TensorInfo info) => _infos.TryGetValue(name, out info!);

    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var info = _infos[name];
        long n = info.ElementCount;
        bool norm = info.Shape.Length == 1;
        ulong state = (ulong)name.GetHashCode(StringComparison.Ordinal) * 0x9E3779B97F4A7C15UL | 1;
        const float scale = 0.02f * 1.7320508f * 2; // uniform(-0.5, 0.5) · 2√3 · 0.02 has std 0.02
        float Next()
        {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            return norm ? 1f : ((state >> 40) / (float)(1 << 24) - 0.5f) * scale;
        }
        if (info.DType == TensorDType.F32)
        {
            var values = new float[n];
            for (long i = 0; i < n; i++) values[i] = Next();
            return MemoryMarshal.AsBytes(values.AsSpan());
        }
        var bits = new ushort[n]; // straight to BF16: no float copy of the largest tensor alive at the same time
        for (long i = 0; i < n; i++) bits[i] = BFloat16.FromSingle(Next());
        return MemoryMarshal.AsBytes(bits.AsSpan());
    }

    public void Dispose() { }
}
