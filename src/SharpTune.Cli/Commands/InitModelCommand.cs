using System.Globalization;
using SharpTune.Cli.CommandLine;
using SharpTune.Models;
using SharpTune.Numerics;
using SharpTune.Text;
using SharpTune.Text.Tokenization;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune init-model</c>: a randomly initialized model folder (config.json, model.safetensors, tokenizer files).</summary>
internal static class InitModelCommand
{
    /// <summary>Tokenizer files that must exist in --tokenizer (the others are copied when present).</summary>
    internal static readonly string[] RequiredTokenizerFiles = ["tokenizer.json", "tokenizer_config.json"];

    public static CliCommand Create() =>
        new CliCommand("init-model", "Write a randomly initialized model (config.json, model.safetensors, tokenizer files).")
        {
            Description = "Weights are drawn as transformers initializes them: linear and embedding weights normal(0, 0.02), biases 0,\n"
                + "RMSNorm weights 1; the same seed gives the same bytes. The vocab size and the bos/eos ids come from the tokenizer\n"
                + "folder (tokenizer.json, tokenizer_config.json). The output folder must not exist or be empty; it appears only when complete.",
        }
            .Option("arch", "Architecture: qwen3, llama, mistral or qwen2.", "ARCH", required: true)
            .Option("hidden", "hidden_size.", "N", required: true)
            .Option("layers", "num_hidden_layers.", "N", required: true)
            .Option("heads", "num_attention_heads.", "N", required: true)
            .Option("kv-heads", "num_key_value_heads (must divide --heads).", "N", required: true)
            .Option("head-dim", "head_dim (even).", "N", required: true)
            .Option("intermediate", "intermediate_size of the SwiGLU MLP.", "N", required: true)
            .Option("tokenizer", "Folder with tokenizer.json and tokenizer_config.json (copied into the model).", "DIR", required: true)
            .Option("seed", "Random seed (0 .. 2^64-1).", "S", required: true)
            .Option("out", "Output folder (new or empty).", "DIR", required: true)
            .Option("dtype", "Weight dtype: f32 or bf16.", "DTYPE", "f32")
            .Flag("tie-word-embeddings", "Share the embedding matrix with the LM head (no lm_head.weight).")
            .Option("rope-theta", "rope_theta.", "X", "10000")
            .Option("max-position-embeddings", "max_position_embeddings (default: transformers' default for the architecture).", "N")
            .Option("vocab-size", "vocab_size: at least the tokenizer's (the default); larger pads the embedding as Qwen's checkpoints do (151936).", "N")
            .Handle(Run);

    private static int Run(ParsedArgs a)
    {
        var arch = a.Choice("arch", "qwen3", "llama", "mistral", "qwen2") switch
        {
            "qwen3" => ModelArchitecture.Qwen3,
            "llama" => ModelArchitecture.Llama,
            "mistral" => ModelArchitecture.Mistral,
            _ => ModelArchitecture.Qwen2,
        };
        int hidden = a.Int("hidden", 1), layers = a.Int("layers", 1), heads = a.Int("heads", 1), kvHeads = a.Int("kv-heads", 1);
        int headDim = a.Int("head-dim", 2), intermediate = a.Int("intermediate", 1);
        if (heads % kvHeads != 0) throw new UserException($"--kv-heads: {kvHeads} must divide --heads ({heads})");
        if (headDim % 2 != 0) throw new UserException($"--head-dim: {headDim} must be even (RoPE rotates halves)");
        var seedText = a.RequiredString("seed");
        if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
            throw new UserException($"--seed: expected an integer from 0 to {ulong.MaxValue}, got '{seedText}'");
        var dtype = a.Choice("dtype", "f32", "bf16") == "bf16" ? TensorDType.BF16 : TensorDType.F32;
        double ropeTheta = a.Double("rope-theta");
        if (ropeTheta <= 0) throw new UserException($"--rope-theta: expected a positive number, got {ropeTheta}");
        int maxPositions = a.OptionalInt("max-position-embeddings") ?? ModelConfigJson.DefaultMaxPositionEmbeddings(arch);
        if (maxPositions < 1) throw new UserException($"--max-position-embeddings: expected a positive integer, got {maxPositions}");

        var tokenizerDir = a.RequiredString("tokenizer");
        if (!Directory.Exists(tokenizerDir)) throw new UserException($"--tokenizer: folder not found: {tokenizerDir}");
        foreach (var f in RequiredTokenizerFiles)
            if (!File.Exists(Path.Combine(tokenizerDir, f))) throw new UserException($"--tokenizer: {Path.Combine(tokenizerDir, f)} not found");
        var tokenizer = Tokenizer.Load(Path.Combine(tokenizerDir, "tokenizer.json"));
        int vocabSize = tokenizer.MaxId + 1; // the embedding needs a row for every id, holes included
        if (a.OptionalInt("vocab-size") is int requested)
        {
            if (requested < vocabSize) throw new UserException($"--vocab-size: {requested} is below the tokenizer's {vocabSize} ids (largest id + 1)");
            vocabSize = requested;
        }
        var tokConfigPath = Path.Combine(tokenizerDir, "tokenizer_config.json");
        var tokConfig = TokenizerConfig.Load(tokConfigPath);

        var config = new ModelConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            IntermediateSize = intermediate,
            VocabSize = vocabSize,
            RopeTheta = ropeTheta,
            MaxPositionEmbeddings = maxPositions,
            TieWordEmbeddings = a.Bool("tie-word-embeddings"),
            TorchDtype = dtype == TensorDType.BF16 ? "bfloat16" : "float32",
            BosTokenIds = SpecialId(tokenizer, tokConfig.BosToken, "bos_token", tokConfigPath),
            EosTokenIds = SpecialId(tokenizer, tokConfig.EosToken, "eos_token", tokConfigPath),
            AttentionBias = arch == ModelArchitecture.Qwen2,
        };

        var outDir = a.RequiredString("out");
        long parameters = CheckpointLayout.For(config).ParameterCount;
        ModelInitializer.WriteFolder(config, seed, dtype, tokenizerDir, outDir);
        a.Out.WriteLine($"wrote {outDir}: {ModelConfigJson.ClassName(arch)}, {parameters:N0} parameters ({dtype}), vocab {vocabSize}, seed {seed}");
        return CliApp.Success;
    }

    private static IReadOnlyList<int> SpecialId(Tokenizer tokenizer, string? token, string field, string tokConfigPath)
    {
        if (token is null) return [];
        return tokenizer.TokenToId(token) is int id
            ? [id]
            : throw new UserException($"{tokConfigPath}: {field} '{token}' is not a token of tokenizer.json");
    }
}
