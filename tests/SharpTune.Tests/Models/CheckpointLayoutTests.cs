using SharpTune.Models;

using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class CheckpointLayoutTests
{
    internal static ModelConfig Config(ModelArchitecture arch, bool tie = false, bool bias = false) => new()
    {
        Architecture = arch,
        HiddenSize = 32,
        NumLayers = 2,
        NumHeads = 4,
        NumKvHeads = 2,
        HeadDim = 12, // q width 48 ≠ hidden, so swapped dimensions show
        IntermediateSize = 40,
        VocabSize = 50,
        TieWordEmbeddings = tie,
        AttentionBias = arch == ModelArchitecture.Qwen2 || bias,
    };

    [Theory]
    [InlineData(ModelArchitecture.Llama, 9)]
    [InlineData(ModelArchitecture.Mistral, 9)]
    [InlineData(ModelArchitecture.Qwen2, 12)]
    [InlineData(ModelArchitecture.Qwen3, 11)]
    public void ListsEachArchitecturesTensorsWithHfNamesAndShapes(ModelArchitecture arch, int perLayer)
    {
        var layout = CheckpointLayout.For(Config(arch));
        Assert.Equal(3 + 2 * perLayer, layout.Tensors.Count);
        Assert.Equal(layout.Tensors.Count, layout.Tensors.Select(t => t.Name).Distinct().Count());
        void Has(string name, long[] shape, TensorRole role, int layer)
        {
            Assert.True(layout.TryGet(name, out var t), name);
            Assert.Equal(shape, t.Shape);
            Assert.Equal(role, t.Role);
            Assert.Equal(layer, t.Layer);
        }
        Has("model.embed_tokens.weight", [50, 32], TensorRole.Embedding, -1);
        Has("model.layers.1.self_attn.q_proj.weight", [48, 32], TensorRole.QueryWeight, 1);
        Has("model.layers.1.self_attn.k_proj.weight", [24, 32], TensorRole.KeyWeight, 1);
        Has("model.layers.0.self_attn.v_proj.weight", [24, 32], TensorRole.ValueWeight, 0);
        Has("model.layers.0.self_attn.o_proj.weight", [32, 48], TensorRole.OutputWeight, 0);
        Has("model.layers.0.mlp.gate_proj.weight", [40, 32], TensorRole.GateWeight, 0);
        Has("model.layers.0.mlp.up_proj.weight", [40, 32], TensorRole.UpWeight, 0);
        Has("model.layers.0.mlp.down_proj.weight", [32, 40], TensorRole.DownWeight, 0);
        Has("model.layers.1.input_layernorm.weight", [32], TensorRole.AttentionNorm, 1);
        Has("model.layers.1.post_attention_layernorm.weight", [32], TensorRole.MlpNorm, 1);
        Has("model.norm.weight", [32], TensorRole.FinalNorm, -1);
        Has("lm_head.weight", [50, 32], TensorRole.LmHead, -1);
        if (arch == ModelArchitecture.Qwen2)
        {
            Has("model.layers.0.self_attn.q_proj.bias", [48], TensorRole.QueryBias, 0);
            Has("model.layers.0.self_attn.k_proj.bias", [24], TensorRole.KeyBias, 0);
            Has("model.layers.0.self_attn.v_proj.bias", [24], TensorRole.ValueBias, 0);
            Assert.False(layout.TryGet("model.layers.0.self_attn.o_proj.bias", out _));
        }
        if (arch == ModelArchitecture.Qwen3)
        {
            Has("model.layers.0.self_attn.q_norm.weight", [12], TensorRole.QueryNorm, 0);
            Has("model.layers.0.self_attn.k_norm.weight", [12], TensorRole.KeyNorm, 0);
        }
        Assert.Equal(layout.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)), layout.ParameterCount);
        Assert.Same(layout.Tensors[0], layout.Find(TensorRole.Embedding));
    }

    [Fact]
    public void TiedHasNoLmHeadAndLlamaAttentionBiasIncludesOutputBias()
    {
        Assert.False(CheckpointLayout.For(Config(ModelArchitecture.Qwen3, tie: true)).TryGet("lm_head.weight", out _));
        var llama = CheckpointLayout.For(Config(ModelArchitecture.Llama, bias: true));
        Assert.True(llama.TryGet("model.layers.0.self_attn.o_proj.bias", out var ob));
        Assert.Equal([32L], ob.Shape);
        Assert.Equal(TensorInit.Zeros, ob.Init);
    }

    private static InMemoryTensorSource Matching(CheckpointLayout layout)
    {
        var src = new InMemoryTensorSource();
        foreach (var t in layout.Tensors) src.Add(t.Name, t.Shape, new float[t.ElementCount]);
        return src;
    }

    [Fact]
    public void ValidatorAcceptsExactMatchAndTransformersToleratedExtras()
    {
        var tied = CheckpointLayout.For(Config(ModelArchitecture.Qwen3, tie: true));
        using var src = Matching(tied);
        Assert.Empty(tied.Validate(src, "m.safetensors"));
        src.Add("lm_head.weight", [50, 32], new float[50 * 32]);
        src.Add("model.layers.0.self_attn.rotary_emb.inv_freq", [6], new float[6]);
        Assert.Equal(["lm_head.weight", "model.layers.0.self_attn.rotary_emb.inv_freq"], tied.Validate(src, "m.safetensors"));
    }

    [Fact]
    public void ValidatorReportsMissingUnexpectedAndMisshapedTogether()
    {
        var layout = CheckpointLayout.For(Config(ModelArchitecture.Llama));
        using var src = new InMemoryTensorSource();
        foreach (var t in layout.Tensors.Where(t => t.Name != "model.norm.weight"))
        {
            long[] shape = t.Name == "model.layers.1.self_attn.o_proj.weight" ? [48, 32] : t.Shape;
            src.Add(t.Name, shape, new float[t.ElementCount]);
        }
        src.Add("model.layers.0.self_attn.q_proj.bias", [48], new float[48]);
        var e = Assert.Throws<UserException>(() => layout.Validate(src, "dir/model.safetensors"));
        Assert.StartsWith("dir/model.safetensors: checkpoint does not match config.json", e.Message);
        Assert.Contains("missing 1 tensor: model.norm.weight", e.Message);
        Assert.Contains("unexpected 1 tensor: model.layers.0.self_attn.q_proj.bias", e.Message);
        Assert.Contains("model.layers.1.self_attn.o_proj.weight is [48, 32], config expects [32, 48]", e.Message);
    }

    [Fact]
    public void UntiedCheckpointWithoutLmHeadIsMissingIt()
    {
        var untied = CheckpointLayout.For(Config(ModelArchitecture.Mistral));
        var tied = CheckpointLayout.For(Config(ModelArchitecture.Mistral, tie: true));
        using var src = Matching(tied);
        Assert.Contains("missing 1 tensor: lm_head.weight", Assert.Throws<UserException>(() => untied.Validate(src, "x")).Message);
    }
}

/// <summary>Which projections carry a bias: one rule, in CheckpointLayout, that the loader and the layout both follow.</summary>
public class ProjectionBiasRuleTests
{
    [Fact]
    public void Qwen2_q_k_v_carry_a_bias_whatever_attention_bias_says_and_the_loader_follows_the_layout()
    {
        // transformers' Qwen2Attention builds q/k/v with bias=True and o_proj with bias=False, never reading attention_bias.
        var c = CheckpointLayoutTests.Config(ModelArchitecture.Qwen2) with { AttentionBias = false };
        var layout = CheckpointLayout.For(c);
        foreach (var p in new[] { "q_proj", "k_proj", "v_proj" })
            Assert.True(layout.TryGet($"model.layers.1.self_attn.{p}.bias", out _), p);
        Assert.False(layout.TryGet("model.layers.0.self_attn.o_proj.bias", out _));
        Assert.False(c.OutputProjectionBias);

        using var backend = SharpTune.Engine.ComputeBackends.Create();
        var withBias = RandomModels.Weights(RandomModels.Config(ModelArchitecture.Qwen2, tied: false), 1, bf16: false);
        var config = RandomModels.Config(ModelArchitecture.Qwen2, tied: false) with { AttentionBias = false };
        Assert.Empty(CheckpointLayout.For(config).Validate(withBias, "test"));
        using (DecoderWeights.Load(config, withBias, backend)) { }
        var noBias = new InMemoryTensorSource();
        foreach (var n in withBias.Names.Where(n => !n.EndsWith(".bias", StringComparison.Ordinal)))
            noBias.Add(n, withBias.GetInfo(n).DType, withBias.GetInfo(n).Shape, withBias.GetBytes(n));
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", Assert.Throws<UserException>(() => DecoderWeights.Load(config, noBias, backend)).Message);
        Assert.Contains("missing", Assert.Throws<UserException>(() => CheckpointLayout.For(config).Validate(noBias, "test")).Message);
    }

    [Theory]
    [InlineData(ModelArchitecture.Llama, false, "")]
    [InlineData(ModelArchitecture.Llama, true, "qkvo")]
    [InlineData(ModelArchitecture.Qwen3, true, "qkvo")]
    [InlineData(ModelArchitecture.Qwen2, false, "qkv")]
    [InlineData(ModelArchitecture.Qwen2, true, "qkv")]
    [InlineData(ModelArchitecture.Mistral, true, "")]
    public void Each_architecture_biases_what_transformers_biases(ModelArchitecture arch, bool attentionBias, string biased)
    {
        var c = CheckpointLayoutTests.Config(arch) with { AttentionBias = attentionBias };
        var expected = CheckpointLayout.Projections.Where(p => biased.Contains(CheckpointLayout.ModuleName(p)[0]) && p <= DecoderProjection.OProj).ToArray();
        Assert.Equal(expected, CheckpointLayout.Projections.Where(p => CheckpointLayout.HasBias(c, p)).ToArray());
        Assert.Equal(expected.Select(p => $"model.layers.0.{CheckpointLayout.ModulePath(p)}.bias"),
            CheckpointLayout.For(c).Tensors.Where(t => t.Layer == 0 && t.Name.EndsWith(".bias", StringComparison.Ordinal)).Select(t => t.Name));
    }
}
