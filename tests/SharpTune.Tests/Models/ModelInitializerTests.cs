using System.Runtime.InteropServices;
using SharpTune.Models;
using SharpTune.Numerics;

using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class ModelInitializerTests
{
    private static ModelConfig Config(ModelArchitecture arch) => CheckpointLayoutTests.Config(arch) with { HiddenSize = 256, IntermediateSize = 512, VocabSize = 1000 };

    [Fact]
    public void SameSeedSameBytesDifferentSeedDifferentBytes()
    {
        var c = Config(ModelArchitecture.Qwen3);
        using var a = ModelInitializer.Initialize(c, 42);
        using var b = ModelInitializer.Initialize(c, 42);
        using var d = ModelInitializer.Initialize(c, 43);
        foreach (var n in a.Names) Assert.True(a.GetBytes(n).SequenceEqual(b.GetBytes(n)), n);
        Assert.False(a.GetBytes("model.embed_tokens.weight").SequenceEqual(d.GetBytes("model.embed_tokens.weight")));
        // Tensors draw from independent streams: no two weights share values.
        Assert.False(a.GetBytes("model.layers.0.mlp.gate_proj.weight").SequenceEqual(a.GetBytes("model.layers.0.mlp.up_proj.weight")));
    }

    [Fact]
    public void NormalWeightsHaveMeanZeroStdInitializerRangeAndGaussianShape()
    {
        var c = Config(ModelArchitecture.Llama);
        using var src = ModelInitializer.Initialize(c, 1);
        var all = new List<float>();
        foreach (var t in CheckpointLayout.For(c).Tensors.Where(t => t.Init == TensorInit.Normal))
            all.AddRange(MemoryMarshal.Cast<byte, float>(src.GetBytes(t.Name)).ToArray());
        Assert.True(all.Count > 500_000, $"{all.Count} samples");
        double mean = all.Average(x => (double)x);
        double std = Math.Sqrt(all.Average(x => (x - mean) * (x - mean)));
        double se = 0.02 / Math.Sqrt(all.Count);
        Assert.True(Math.Abs(mean) < 5 * se, $"mean {mean}");
        Assert.True(Math.Abs(std - 0.02) < 0.02 * 0.005, $"std {std}");
        double within1 = all.Count(x => Math.Abs(x) < 0.02) / (double)all.Count; // 68.27% for a normal
        double within2 = all.Count(x => Math.Abs(x) < 0.04) / (double)all.Count; // 95.45%
        Assert.InRange(within1, 0.6827 - 0.003, 0.6827 + 0.003);
        Assert.InRange(within2, 0.9545 - 0.002, 0.9545 + 0.002);
        double kurtosis = all.Average(x => Math.Pow((x - mean) / std, 4));
        Assert.InRange(kurtosis, 2.95, 3.05);
    }

    [Fact]
    public void NormsAreOneBiasesZero()
    {
        var c = Config(ModelArchitecture.Qwen2);
        using var src = ModelInitializer.Initialize(c, 3);
        foreach (var t in CheckpointLayout.For(c).Tensors)
        {
            var v = MemoryMarshal.Cast<byte, float>(src.GetBytes(t.Name));
            if (t.Init == TensorInit.Ones) Assert.All(v.ToArray(), x => Assert.Equal(1f, x));
            if (t.Init == TensorInit.Zeros) Assert.All(v.ToArray(), x => Assert.Equal(0f, x));
        }
    }

    [Fact]
    public void Bf16IsTheRoundedF32()
    {
        var c = Config(ModelArchitecture.Qwen3);
        using var f = ModelInitializer.Initialize(c, 9);
        using var h = ModelInitializer.Initialize(c, 9, TensorDType.BF16);
        foreach (var n in f.Names)
        {
            Assert.True(h.TryGetInfo(n, out var info));
            Assert.Equal(TensorDType.BF16, info.DType);
            var f32 = MemoryMarshal.Cast<byte, float>(f.GetBytes(n));
            var bf = MemoryMarshal.Cast<byte, ushort>(h.GetBytes(n));
            Assert.Equal(f32.Length, bf.Length);
            for (int i = 0; i < f32.Length; i++) Assert.Equal(BFloat16.FromSingle(f32[i]), bf[i]);
        }
    }

    [Fact]
    public void StreamDoesNotDependOnChunkingOrOddLength()
    {
        // Element k of a stream is the same whether generated alone or as part of a longer fill.
        var whole = new float[70_001];
        ModelInitializer.FillNormalParallel(whole, 5, "w", 0.02f);
        var part = new float[11];
        ModelInitializer.NormalPairs(part, ModelInitializer.StreamKey(5, "w"), 32_768, 0.02f);
        Assert.Equal(whole.AsSpan(65_536, 11).ToArray(), part);
        Assert.NotEqual(0f, whole[^1]);
    }
}
