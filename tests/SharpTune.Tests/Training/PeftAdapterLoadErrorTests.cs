using System.Text;
using System.Text.Json.Nodes;
using SharpTune.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

public class PeftAdapterLoadErrorTests
{
    private static string ConfigPath(string dir) => Path.Combine(dir, PeftAdapter.ConfigFileName);

    private static string WeightsPath(string dir) => Path.Combine(dir, PeftAdapter.WeightsFileName);

    private static UserException LoadFails(string dir, ModelConfig? config = null) =>
        Assert.Throws<UserException>(() => PeftAdapter.Load(dir, config ?? PeftTestAdapters.Config()));

    public static TheoryData<string, string, string[]> BadConfigs() => new()
    {
        // field, JSON value, words the message must contain besides the file and the field
        { "peft_type", "\"PREFIX_TUNING\"", ["\"LORA\""] },
        { "task_type", "\"SEQ_CLS\"", ["CAUSAL_LM"] },
        { "fan_in_fan_out", "true", ["not supported"] },
        { "bias", "\"all\"", ["\"none\""] },
        { "bias", "\"lora_only\"", ["\"none\""] },
        { "modules_to_save", "[\"lm_head\"]", ["not supported"] },
        { "use_dora", "true", ["DoRA"] },
        { "lora_bias", "true", ["not supported"] },
        { "layers_to_transform", "[0]", ["every layer"] },
        { "rank_pattern", "{\"q_proj\": 4}", ["per-module ranks"] },
        { "alpha_pattern", "{\"q_proj\": 4}", ["per-module alphas"] },
        { "exclude_modules", "[\"q_proj\"]", ["not supported"] },
        { "trainable_token_indices", "[1, 2]", ["not supported"] },
        { "init_lora_weights", "\"pissa\"", ["base weights"] },
        { "init_lora_weights", "\"olora\"", ["base weights"] },
        { "target_modules", "\".*\\\\.(q_proj|v_proj)$\"", ["regular expression", "q_proj, k_proj"] },
        { "target_modules", "[\"q_proj\", \"lm_head\"]", ["'lm_head'", "supported: q_proj"] },
        { "target_modules", "[\"q_proj\", \"embed_tokens\"]", ["'embed_tokens'"] },
        { "target_modules", "[]", ["empty"] },
        { "target_modules", "null", ["missing"] },
        { "r", "\"eight\"", ["integer"] },
        { "r", "8.5", ["integer"] },
        { "r", "0", ["at least 1"] },
        { "lora_alpha", "\"x\"", ["number"] },
        { "lora_dropout", "1.5", ["[0, 1)"] },
        { "use_rslora", "\"yes\"", ["true or false"] },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void UnsupportedOrInvalidConfigFieldsNameTheFileAndTheField(string field, string json, string[] words)
    {
        using var dir = TestEnvironment.TempDir();
        var a = dir.File("a");
        PeftTestAdapters.Write(a, PeftTestAdapters.Config());
        PeftTestAdapters.EditConfig(a, o => o[field] = JsonNode.Parse(json));
        var e = LoadFails(a);
        Assert.Contains(ConfigPath(a), e.Message);
        Assert.Contains(field == "r" && json == "0" ? "(r)" : field, e.Message);
        foreach (var w in words) Assert.Contains(w, e.Message);
        // info applies the same checks.
        Assert.Equal(e.Message, Assert.Throws<UserException>(() => PeftAdapter.ReadInfo(a)).Message);
    }

    [Fact]
    public void AcceptedVariantsOfTheConfig()
    {
        using var dir = TestEnvironment.TempDir();
        var a = dir.File("a");
        var config = PeftTestAdapters.Config();
        PeftTestAdapters.Write(a, config, PeftTestAdapters.QV() with { Targets = LoraTargets.All });
        PeftTestAdapters.EditConfig(a, o =>
        {
            o["target_modules"] = "all-linear";
            o["layers_pattern"] = "layers";      // without layers_to_transform PEFT ignores it
            o["modules_to_save"] = new JsonArray();
            o["task_type"] = null;
            o["init_lora_weights"] = "gaussian";
            o["some_future_field"] = 3;           // PEFT drops unknown keys too
            o.Remove("lora_dropout");             // PEFT's default 0.0
        });
        var loaded = PeftAdapter.Load(a, config);
        Assert.Equal(LoraTargets.All, loaded.Config.Targets);
        Assert.Equal(0, loaded.Config.Dropout);

        PeftTestAdapters.EditConfig(a, o => o["target_modules"] = new JsonArray("self_attn.v_proj", "up_proj", "q_proj", "k_proj", "o_proj", "gate_proj", "down_proj"));
        Assert.Equal(LoraTargets.All, PeftAdapter.Load(a, config).Config.Targets); // checkpoint order, suffix form accepted
    }

    [Fact]
    public void MissingFilesMalformedJsonAndPickleWeights()
    {
        using var dir = TestEnvironment.TempDir();
        var e = LoadFails(dir.File("nope"));
        Assert.Contains(dir.File("nope"), e.Message);
        Assert.Contains("not found", e.Message);

        var a = dir.File("a");
        PeftTestAdapters.Write(a, PeftTestAdapters.Config());
        File.WriteAllText(ConfigPath(a), "{\"peft_type\": \"LORA\", ");
        e = LoadFails(a);
        Assert.StartsWith($"{ConfigPath(a)}: not valid JSON", e.Message);

        File.WriteAllText(ConfigPath(a), "[1]");
        Assert.Contains("expected a JSON object", LoadFails(a).Message);

        File.Delete(ConfigPath(a));
        e = LoadFails(a);
        Assert.StartsWith($"{ConfigPath(a)}: file not found", e.Message);

        var b = dir.File("b");
        PeftTestAdapters.Write(b, PeftTestAdapters.Config());
        File.Delete(WeightsPath(b));
        e = LoadFails(b);
        Assert.StartsWith($"{WeightsPath(b)}: file not found", e.Message);

        File.WriteAllBytes(Path.Combine(b, PeftAdapter.PickleWeightsFileName), [0x80, 0x02]);
        e = LoadFails(b);
        Assert.StartsWith(Path.Combine(b, "adapter_model.bin"), e.Message);
        Assert.Contains("safe_serialization=True", e.Message);
        Assert.Contains("adapter_model.safetensors", e.Message);
    }

    [Fact]
    public void MissingUnexpectedDoubledAndMisshapedTensorsAreReportedTogether()
    {
        using var dir = TestEnvironment.TempDir();
        var a = dir.File("a");
        var config = PeftTestAdapters.Config();
        PeftTestAdapters.Write(a, config);
        const string qB0 = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
        const string vA1 = "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight";
        PeftTestAdapters.RewriteWeights(a, (copy, reader) =>
        {
            PeftTestAdapters.CopyAll(reader, copy, n => n == qB0 ? null : n);
            copy.Add("base_model.model.lm_head.lora_A.weight", [8, 36], new float[8 * 36]);
            copy.Add("base_model.model.model.layers.1.self_attn.v_proj.lora_A.default.weight", [8, 36], new float[8 * 36]);
            copy.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight", [40, 4], new float[40 * 4]);
        });
        var e = LoadFails(a);
        Assert.StartsWith($"{WeightsPath(a)}: tensors do not match adapter_config.json and config.json", e.Message);
        Assert.Contains("unexpected 1 tensor: base_model.model.lm_head.lora_A.weight", e.Message);
        Assert.Contains($"stored twice (with and without the adapter name): {vA1} and", e.Message);
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight is [40, 4], expected [40, 8]", e.Message);
        Assert.Contains("r = 8", e.Message);
    }

    [Fact]
    public void TensorsAreCheckedAgainstTheModelConfig()
    {
        using var dir = TestEnvironment.TempDir();
        var a = dir.File("a");
        PeftTestAdapters.Write(a, PeftTestAdapters.Config());

        var e = LoadFails(a, PeftTestAdapters.Config(hidden: 48));
        Assert.Contains("wrong shape", e.Message);
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight is [8, 36], expected [8, 48]", e.Message);

        e = LoadFails(a, PeftTestAdapters.Config(layers: 1));
        Assert.Contains("unexpected 4 tensors: base_model.model.model.layers.1.", e.Message);
        Assert.Contains("num_hidden_layers 1", e.Message);

        e = LoadFails(a, PeftTestAdapters.Config(layers: 3));
        Assert.Contains("missing 4 tensors: base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight", e.Message);

        PeftTestAdapters.RewriteWeights(a, (copy, reader) => PeftTestAdapters.CopyAll(reader, copy, n => n.Contains("layers.1.", StringComparison.Ordinal) ? null : n));
        Assert.Contains("missing 4 tensors", LoadFails(a).Message);
    }

    [Fact]
    public void UnsupportedDtypesNameTheFileAndTheTensor()
    {
        using var dir = TestEnvironment.TempDir();
        var a = dir.File("a");
        PeftTestAdapters.Write(a, PeftTestAdapters.Config());
        const string name = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        var header = $"{{\"{name}\":{{\"dtype\":\"F64\",\"shape\":[8,36],\"data_offsets\":[0,{8 * 36 * 8}]}}}}";
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + 8 * 36 * 8];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(WeightsPath(a), bytes);
        var e = LoadFails(a);
        Assert.Contains(WeightsPath(a), e.Message);
        Assert.Contains(name, e.Message);
        Assert.Contains("'F64' is not supported", e.Message);
    }
}
