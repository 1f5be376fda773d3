using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using SharpTune.Cli.CommandLine;
using SharpTune.Models;
using SharpTune.Models.Safetensors;

using SharpTune.Numerics;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class InitModelCommandTests
{
    [Theory]
    [InlineData("qwen3", ModelArchitecture.Qwen3)]
    [InlineData("qwen2", ModelArchitecture.Qwen2)]
    [InlineData("llama", ModelArchitecture.Llama)]
    [InlineData("mistral", ModelArchitecture.Mistral)]
    public void WritesALoadableValidatedModelFolder(string arch, ModelArchitecture expected)
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"), specialTokensMap: true);
        var outDir = dir.File("model");
        var (code, stdout, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs(arch, tok, outDir));
        Assert.True(code == 0, err);
        Assert.Contains("wrote", stdout);

        var config = ModelConfigJson.Load(outDir);
        Assert.Equal(expected, config.Architecture);
        Assert.Equal((32, 2, 4, 2, 8, 48), (config.HiddenSize, config.NumLayers, config.NumHeads, config.NumKvHeads, config.HeadDim, config.IntermediateSize));
        Assert.Equal(13, config.VocabSize); // HF gives added tokens missing from the vocab the next free ids (10, 11, 12), not the ids in the file
        Assert.Equal([10], config.BosTokenIds);
        Assert.Equal([11], config.EosTokenIds);
        Assert.Equal("float32", config.TorchDtype);
        using var weights = SafetensorsCheckpoint.Open(outDir);
        Assert.Empty(CheckpointLayout.For(config).Validate(weights, outDir));
        foreach (var f in (string[])["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
            Assert.Equal(File.ReadAllBytes(Path.Combine(tok, f)), File.ReadAllBytes(Path.Combine(outDir, f)));
        Assert.False(File.Exists(Path.Combine(outDir, "generation_config.json")));
        Assert.Empty(Directory.GetDirectories(dir.Path, ".model.tmp-*"));
    }

    [Fact]
    public void VocabSizePadsTheEmbeddingButNeverBelowTheTokenizer()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("padded"), "1", "--vocab-size", "20")).Code);
        Assert.Equal(20, ModelConfigJson.Load(dir.File("padded")).VocabSize);
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("small"), "1", "--vocab-size", "12"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal("error: --vocab-size: 12 is below the tokenizer's 13 ids (largest id + 1)", err.TrimEnd('\n'));
        Assert.False(Directory.Exists(dir.File("small")));
    }

    [Fact]
    public void SameSeedSameBytesAndBf16Option()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("a"), "123")).Code);
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("b"), "123")).Code);
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("c"), "124")).Code);
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("h"), "123", "--dtype", "bf16", "--tie-word-embeddings")).Code);
        byte[] Weights(string d) => File.ReadAllBytes(Path.Combine(dir.File(d), "model.safetensors"));
        Assert.Equal(Weights("a"), Weights("b"));
        Assert.Equal(File.ReadAllBytes(dir.File("a/config.json")), File.ReadAllBytes(dir.File("b/config.json")));
        Assert.NotEqual(Weights("a"), Weights("c"));

        var h = ModelConfigJson.Load(dir.File("h"));
        Assert.Equal("bfloat16", h.TorchDtype);
        Assert.True(h.TieWordEmbeddings);
        using var hw = SafetensorsCheckpoint.Open(dir.File("h"));
        Assert.Empty(CheckpointLayout.For(h).Validate(hw, "h"));
        Assert.True(hw.TryGetInfo("model.embed_tokens.weight", out var info));
        Assert.Equal(TensorDType.BF16, info.DType);
        Assert.False(hw.TryGetInfo("lm_head.weight", out _));
        // The stored data match the initializer's own stream for that tensor (F32 of file a, rounded).
        using var aw = SafetensorsCheckpoint.Open(dir.File("a"));
        var f32 = MemoryMarshal.Cast<byte, float>(aw.GetBytes("model.layers.1.mlp.down_proj.weight"));
        var bf = MemoryMarshal.Cast<byte, ushort>(hw.GetBytes("model.layers.1.mlp.down_proj.weight"));
        Assert.Equal(SharpTune.Numerics.BFloat16.FromSingle(f32[17]), bf[17]);
    }

    public static TheoryData<string[], string> BadArgs() => new()
    {
        { ["--arch", "gpt2"], "--arch: expected one of qwen3, llama, mistral, qwen2" },
        { ["--kv-heads", "3"], "--kv-heads: 3 must divide --heads (4)" },
        { ["--head-dim", "7"], "--head-dim: 7 must be even" },
        { ["--hidden", "0"], "--hidden: expected an integer >= 1" },
        { ["--seed", "-1"], "--seed: expected an integer from 0" },
        { ["--dtype", "f16"], "--dtype: expected one of f32, bf16" },
        { ["--tokenizer", "/nonexistent/tok"], "--tokenizer: folder not found" },
    };

    [Theory]
    [MemberData(nameof(BadArgs))]
    public void BadArgumentsAreOneLineUserErrors(string[] overrides, string expected)
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        var args = TinyModelFiles.InitArgs("qwen3", tok, dir.File("m")).ToList();
        for (int i = 0; i < overrides.Length; i += 2)
        {
            int at = args.IndexOf(overrides[i]);
            if (at < 0) args.AddRange([overrides[i], overrides[i + 1]]);
            else args[at + 1] = overrides[i + 1];
        }
        var (code, _, err) = TinyModelFiles.Cli([.. args]);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.File("m")));
    }

    [Fact]
    public void TokenizerProblemsNameTheFile()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"), eos: "<eot>");
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("llama", tok, dir.File("m")));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("tokenizer_config.json: eos_token '<eot>' is not a token of tokenizer.json", err);

        File.Delete(Path.Combine(tok, "tokenizer_config.json"));
        (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("llama", tok, dir.File("m")));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("tokenizer_config.json not found", err);

        TinyModelFiles.WriteTokenizer(tok);
        File.WriteAllText(Path.Combine(tok, "tokenizer.json"), """{"model": {"type": "BPE"}}""");
        (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("llama", tok, dir.File("m")));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("tokenizer.json: model.vocab: missing", err);
        Assert.False(Directory.Exists(dir.File("m")));
    }

    [Fact]
    public void UnsupportedTokenizerModelIsAClearError()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(tok, "tokenizer.json")))!.AsObject();
        json["model"] = JsonNode.Parse("""{"type": "Unigram", "vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0]]}""");
        File.WriteAllText(Path.Combine(tok, "tokenizer.json"), json.ToJsonString());
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("mistral", tok, dir.File("m")));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("model 'Unigram' is not supported", err);
        Assert.False(Directory.Exists(dir.File("m")));
    }

    [Fact]
    public void RefusesANonEmptyOutputFolderAndLeavesItUntouched()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("m/keep.txt"), "mine");
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("m")));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("not empty", err);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(dir.File("m")).Select(Path.GetFileName));
        // An existing empty folder is fine.
        Directory.CreateDirectory(dir.File("empty"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("empty"))).Code);
        Assert.True(File.Exists(dir.File("empty/model.safetensors")));
    }
}

public class ModelFolderTests
{
    [Fact]
    public void OpensAndValidatesAnInitModelFolder()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen2", tok, dir.File("m"))).Code);
        using (var folder = ModelFolder.Open(dir.File("m")))
        {
            Assert.Equal(ModelArchitecture.Qwen2, folder.Config.Architecture);
            Assert.Empty(folder.IgnoredTensors);
            var bias = folder.Layout.Find(TensorRole.QueryBias, 1)!;
            Assert.Equal("model.layers.1.self_attn.q_proj.bias", bias.Name);
            Assert.All(folder.Weights.ReadSingles(bias.Name), x => Assert.Equal(0f, x));
        }
        // A config that no longer matches the weights is refused, naming the weights file.
        var config = ModelConfigJson.Load(dir.File("m")) with { IntermediateSize = 50 };
        ModelConfigJson.Save(dir.File("m/config.json"), config);
        var e = Assert.Throws<UserException>(() => ModelFolder.Open(dir.File("m")));
        Assert.Contains("model.safetensors: checkpoint does not match config.json", e.Message);
        Assert.Contains("mlp.gate_proj.weight is [48, 32], config expects [50, 32]", e.Message);
    }
}
