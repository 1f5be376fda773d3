using System.Text;
using System.Text.Json.Nodes;
using SharpTune.Models;

using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class ModelConfigJsonTests
{
    // Trimmed copies of the published config.json files of Qwen3-0.6B, Qwen2.5-0.5B, Llama-3.2-1B and Mistral-7B-v0.1.
    private const string Qwen3 = """
        {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
         "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
         "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
         "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
         "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
         "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
        """;

    private const string Qwen2 = """
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
         "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
         "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
         "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
         "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true,
         "use_sliding_window": false, "vocab_size": 151936}
        """;

    private const string Llama = """
        {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
         "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
         "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
         "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
         "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 128256}
        """;

    private const string Mistral = """
        {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
         "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
         "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
         "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
         "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32000}
        """;

    private static ModelConfig Parse(string json) => ModelConfigJson.Parse(Encoding.UTF8.GetBytes(json), "config.json");

    private static string With(string json, string field, JsonNode? value)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node[field] = value;
        return node.ToJsonString();
    }

    private static string Without(string json, string field)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        Assert.True(node.Remove(field));
        return node.ToJsonString();
    }

    [Fact]
    public void ParsesQwen3()
    {
        var c = Parse(Qwen3);
        Assert.Equal(ModelArchitecture.Qwen3, c.Architecture);
        Assert.Equal((1024, 28, 16, 8, 128, 3072, 151936), (c.HiddenSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.IntermediateSize, c.VocabSize));
        Assert.True(c.QkNorm);
        Assert.True(c.TieWordEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.Equal(1e6, c.RopeTheta);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Equal("bfloat16", c.TorchDtype);
        Assert.Equal([151643], c.BosTokenIds);
        Assert.Equal([151645], c.EosTokenIds);
        Assert.Null(c.SlidingWindow);
        Assert.Null(c.RopeScaling);
        Assert.Equal(2048, c.QueryDim); // head_dim × heads differs from hidden_size in Qwen3
    }

    [Fact]
    public void ParsesQwen2WithImplicitQkvBiasAndDefaultHeadDim()
    {
        var c = Parse(Qwen2);
        Assert.Equal(ModelArchitecture.Qwen2, c.Architecture);
        Assert.Equal(64, c.HeadDim); // 896 / 14
        Assert.True(c.AttentionBias);
        Assert.False(c.OutputProjectionBias);
        Assert.False(c.QkNorm);
        Assert.Null(c.SlidingWindow); // use_sliding_window false
    }

    [Fact]
    public void ParsesLlama3WithRopeScalingAndEosList()
    {
        var c = Parse(Llama);
        Assert.Equal(ModelArchitecture.Llama, c.Architecture);
        Assert.Equal(new RopeScaling("llama3", 32, 1, 4, 8192), c.RopeScaling);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(500000, c.RopeTheta);
        Assert.Equal(131072, c.MaxPositionEmbeddings);
    }

    [Fact]
    public void ParsesMistralAndKeepsAShorterSlidingWindow()
    {
        var c = Parse(Mistral);
        Assert.Equal(ModelArchitecture.Mistral, c.Architecture);
        Assert.Equal(128, c.HeadDim);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(4096, c.SlidingWindow);
        c.EnsureContextSupported(4096, "prompt 1");
        var e = Assert.Throws<UserException>(() => c.EnsureContextSupported(4097, "prompt 1"));
        Assert.Contains("sliding_window of 4096", e.Message);
        // A window as long as the context never masks anything.
        Assert.Null(Parse(With(Mistral, "sliding_window", 32768)).SlidingWindow);
        Assert.Null(Parse(With(Mistral, "sliding_window", null)).SlidingWindow);
        Assert.Equal(4096, Parse(Without(Mistral, "sliding_window")).SlidingWindow); // MistralConfig's default
    }

    [Fact]
    public void QwenSlidingWindowCountsOnlyWhenEnabledOnSomeLayer()
    {
        var on = With(With(Qwen2, "use_sliding_window", true), "sliding_window", 4096);
        Assert.Null(Parse(on).SlidingWindow); // max_window_layers 24 = every layer full attention
        Assert.Equal(4096, Parse(With(on, "max_window_layers", 12)).SlidingWindow);
    }

    [Fact]
    public void AppliesTransformersDefaults()
    {
        var minimal = """{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100}""";
        var c = Parse(minimal);
        Assert.Equal(4, c.NumKvHeads);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(2048, c.MaxPositionEmbeddings);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Equal(10000, c.RopeTheta);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal("float32", c.TorchDtype);
        Assert.Empty(c.BosTokenIds);
        // Qwen3Config defaults head_dim to 128, not hidden/heads.
        Assert.Equal(128, Parse(minimal.Replace("\"llama\"", "\"qwen3\"")).HeadDim);
    }

    [Fact]
    public void AcceptsTransformers5RopeParametersAndDtype()
    {
        var json = Without(Without(Without(Llama, "rope_scaling"), "rope_theta"), "torch_dtype");
        json = With(json, "dtype", "float16");
        json = With(json, "rope_parameters", JsonNode.Parse("""{"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}"""));
        var c = Parse(json);
        Assert.Equal(500000, c.RopeTheta);
        Assert.Equal(8, c.RopeScaling!.Factor);
        Assert.Equal("float16", c.TorchDtype);
        Assert.Null(Parse(With(Qwen3, "rope_scaling", JsonNode.Parse("""{"rope_type": "default"}"""))).RopeScaling);
    }

    [Fact]
    public void LlamaAttentionBiasAddsOutputBias()
    {
        var c = Parse(With(Llama, "attention_bias", true));
        Assert.True(c.AttentionBias);
        Assert.True(c.OutputProjectionBias);
        Assert.False(Parse(With(Mistral, "attention_bias", true)).AttentionBias); // MistralConfig has no such field
    }

    public static TheoryData<string, string, string> Errors()
    {
        var d = new TheoryData<string, string, string>
        {
            { With(Qwen3, "architectures", new JsonArray("GemmaForCausalLM")), "architectures", "GemmaForCausalLM" },
            { Without(With(Qwen3, "model_type", "phi3"), "architectures"), "model_type", "phi3" },
            { With(Qwen3, "model_type", "llama"), "model_type", "contradicts" },
            { Without(Without(Qwen3, "model_type"), "architectures"), "architecture is unknown", "" },
            { With(Llama, "rope_scaling", JsonNode.Parse("""{"rope_type": "yarn", "factor": 4.0}""")), "rope_scaling", "yarn" },
            { With(Llama, "rope_scaling", JsonNode.Parse("""{"type": "linear", "factor": 2.0}""")), "rope_scaling", "linear" },
            { With(Llama, "rope_scaling", JsonNode.Parse("""{"rope_type": "llama3", "factor": 8.0}""")), "rope_scaling.low_freq_factor", "required" },
            { With(Llama, "hidden_act", "gelu"), "hidden_act", "gelu" },
            { With(Llama, "mlp_bias", true), "mlp_bias", "not supported" },
            { With(Llama, "pretraining_tp", 2), "pretraining_tp", "not supported" },
            { With(Qwen3, "num_key_value_heads", 3), "num_key_value_heads", "must divide" },
            { With(Qwen3, "head_dim", 63), "head_dim", "even" },
            { Without(Qwen3, "hidden_size"), "hidden_size", "required" },
            { With(Qwen3, "hidden_size", -4), "hidden_size", "positive integer" },
            { With(Qwen3, "vocab_size", "big"), "vocab_size", "positive integer" },
            { With(Qwen3, "torch_dtype", "float64"), "torch_dtype", "float64" },
            { With(Qwen3, "eos_token_id", "x"), "eos_token_id", "integer" },
            { With(Qwen3, "bos_token_id", new JsonArray(1, -2)), "bos_token_id[1]", "non-negative" },
            { With(Qwen3, "tie_word_embeddings", "yes"), "tie_word_embeddings", "true or false" },
            { With(With(With(Without(Llama, "head_dim"), "hidden_size", 1000), "num_attention_heads", 3), "num_key_value_heads", 3), "head_dim", "not divisible" },
            { "[1, 2]", "JSON object", "" },
            { "{\"hidden_size\": ", "not valid JSON", "" },
        };
        return d;
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void UnsupportedOrBadFieldsAreUserErrorsNamingTheField(string json, string field, string detail)
    {
        var e = Assert.Throws<UserException>(() => Parse(json));
        Assert.StartsWith("config.json: ", e.Message);
        Assert.Contains(field, e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Theory]
    [InlineData(Qwen3)]
    [InlineData(Qwen2)]
    [InlineData(Llama)]
    [InlineData(Mistral)]
    public void SaveThenLoadRoundTrips(string json)
    {
        var c = Parse(json);
        if (c.Architecture == ModelArchitecture.Qwen2) c = c with { SlidingWindow = 1024 };
        using var dir = TestEnvironment.TempDir();
        ModelConfigJson.Save(dir.File("config.json"), c);
        var back = ModelConfigJson.Load(dir.Path);
        Assert.Equal((c.Architecture, c.HiddenSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.IntermediateSize, c.VocabSize),
            (back.Architecture, back.HiddenSize, back.NumLayers, back.NumHeads, back.NumKvHeads, back.HeadDim, back.IntermediateSize, back.VocabSize));
        Assert.Equal((c.RmsNormEps, c.RopeTheta, c.RopeScaling, c.MaxPositionEmbeddings, c.TieWordEmbeddings, c.TorchDtype),
            (back.RmsNormEps, back.RopeTheta, back.RopeScaling, back.MaxPositionEmbeddings, back.TieWordEmbeddings, back.TorchDtype));
        Assert.Equal((c.AttentionBias, c.OutputProjectionBias, c.SlidingWindow, c.InitializerRange), (back.AttentionBias, back.OutputProjectionBias, back.SlidingWindow, back.InitializerRange));
        Assert.Equal(c.BosTokenIds, back.BosTokenIds);
        Assert.Equal(c.EosTokenIds, back.EosTokenIds);
    }

    [Fact]
    public void SavedJsonHasTheFieldsTransformersReads()
    {
        var c = Parse(Qwen2) with { SlidingWindow = null };
        var root = JsonNode.Parse(ModelConfigJson.Serialize(c))!.AsObject();
        Assert.Equal("Qwen2ForCausalLM", root["architectures"]![0]!.GetValue<string>());
        Assert.Equal("qwen2", root["model_type"]!.GetValue<string>());
        Assert.Equal(64, root["head_dim"]!.GetValue<int>());
        Assert.Equal(151643, root["eos_token_id"]!.GetValue<int>());
        Assert.False(root["use_sliding_window"]!.GetValue<bool>());
        Assert.Equal("bfloat16", root["torch_dtype"]!.GetValue<string>());
        Assert.Null(root["transformers_version"]);
        foreach (var f in (string[])["hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size",
                     "rms_norm_eps", "rope_theta", "tie_word_embeddings", "vocab_size", "max_position_embeddings", "hidden_act"])
            Assert.True(root.ContainsKey(f), f);
        var llama = JsonNode.Parse(ModelConfigJson.Serialize(Parse(Llama)))!.AsObject();
        Assert.Equal("llama3", llama["rope_scaling"]!["rope_type"]!.GetValue<string>());
        Assert.Equal(3, llama["eos_token_id"]!.AsArray().Count);
    }

    [Fact]
    public void MissingFileNamesIt()
    {
        using var dir = TestEnvironment.TempDir();
        var e = Assert.Throws<UserException>(() => ModelConfigJson.Load(dir.Path));
        Assert.StartsWith(dir.File("config.json") + ": file not found", e.Message);
    }
}
