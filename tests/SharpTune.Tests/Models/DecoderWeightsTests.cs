using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Tests.Models;

public sealed class DecoderWeightsTests
{
    [Fact]
    public void Missing_or_misshapen_tensors_are_named_in_the_error()
    {
        using var backend = ComputeBackends.Create();
        var config = RandomModels.Config(ModelArchitecture.Qwen2, tied: false);
        var weights = RandomModels.Weights(config, 1, bf16: false);
        var noBias = new InMemoryTensorSource();
        foreach (var n in weights.Names.Where(n => n != "model.layers.1.self_attn.k_proj.bias"))
        {
            weights.TryGetInfo(n, out var info);
            noBias.Add(n, info.DType, info.Shape, weights.GetBytes(n));
        }
        var e = Assert.Throws<UserException>(() => DecoderWeights.Load(config, noBias, backend));
        Assert.Contains("model.layers.1.self_attn.k_proj.bias", e.Message);

        var wrong = config with { IntermediateSize = config.IntermediateSize + 1 };
        e = Assert.Throws<UserException>(() => DecoderWeights.Load(wrong, weights, backend));
        Assert.Contains("mlp.gate_proj.weight", e.Message);
        Assert.Contains("expected", e.Message);

        var gqa = config with { NumKvHeads = 3 };
        Assert.Throws<UserException>(() => DecoderWeights.Load(gqa, weights, backend));
    }

    [Fact]
    public void Bf16_storage_halves_linear_weight_memory()
    {
        using var backend = ComputeBackends.Create();
        var config = RandomModels.Config(ModelArchitecture.Llama, tied: true, hidden: 64, intermediate: 128, vocab: 256);
        var src = RandomModels.Weights(config, 2, bf16: false);
        using var f32 = DecoderWeights.Load(config, src, backend, WeightStorage.F32, maxPositions: 16);
        using var bf16 = DecoderWeights.Load(config, src, backend, WeightStorage.BF16, maxPositions: 16);
        Assert.InRange((double)bf16.Bytes / f32.Bytes, 0.45, 0.56);
    }
}
