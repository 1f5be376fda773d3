using System.Text.Json;
using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Tests.Engine;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

/// <summary>
/// The models, batches and answers of the Python reference (tests/oracles/python/reference_model.py), computed in
/// ONE Python process for the whole test class.
/// </summary>
public sealed class DecoderOracleFixture : IDisposable
{
    public const string Python = "/usr/bin/python3";

    public sealed record Case(string Name, ModelConfig Config, InMemoryTensorSource Weights, bool Bf16);

    public static readonly int[][] Sequences = [[5, 17, 3, 88, 41], [9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 31], [60], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]];
    public static readonly int[][] Prompts = [[3, 14, 15], [9, 2, 6, 5, 3, 5, 8], [42]];
    public const int MaxNewTokens = 8;

    private readonly TempDir _dir = new();

    public DecoderOracleFixture()
    {
        var llama3 = new RopeScaling("llama3", 8, 1, 4, 32);
        Cases =
        [
            Make("qwen3-f32-tied", RandomModels.Config(ModelArchitecture.Qwen3, tied: true), false, 1),
            Make("qwen3-bf16-untied", RandomModels.Config(ModelArchitecture.Qwen3, tied: false, dtype: "bfloat16"), true, 2),
            Make("qwen2-f32-untied-bias", RandomModels.Config(ModelArchitecture.Qwen2, tied: false, heads: 4, kvHeads: 1, headDim: 10), false, 3),
            Make("llama-f32-untied-llama3-rope", RandomModels.Config(ModelArchitecture.Llama, tied: false, scaling: llama3, heads: 5, kvHeads: 5, headDim: 8), false, 4),
            Make("mistral-bf16-tied", RandomModels.Config(ModelArchitecture.Mistral, tied: true, dtype: "bfloat16", layers: 3), true, 5),
            Make("qwen3-f32-mha-odd", RandomModels.Config(ModelArchitecture.Qwen3, tied: false, hidden: 33, heads: 3, kvHeads: 3, headDim: 22, intermediate: 51, vocab: 131), false, 6),
            Make("llama-f32-attention-bias", RandomModels.Config(ModelArchitecture.Llama, tied: true, attentionBias: true), false, 7),
        ];
        Available = File.Exists(Python) && ProcessRunner.Run(Python, ["-c", "import torch, numpy"]).Code == 0;
        if (!Available) return;
        int width = Sequences.Max(s => s.Length);
        var requests = new System.Text.StringBuilder();
        foreach (var c in Cases)
        {
            string dir = Path.Combine(_dir.Path, c.Name);
            RandomModels.Write(dir, c.Config, c.Weights);
            var ids = Sequences.Select(s => s.Concat(Enumerable.Repeat(0, width - s.Length)).ToArray()).ToArray();
            var mask = Sequences.Select(s => Enumerable.Repeat(1, s.Length).Concat(Enumerable.Repeat(0, width - s.Length)).ToArray()).ToArray();
            requests.AppendLine(JsonSerializer.Serialize(new { id = c.Name + "/logits", model = dir, op = "logits", ids, mask }));
            requests.AppendLine(JsonSerializer.Serialize(new { id = c.Name + "/greedy", model = dir, op = "greedy", prompts = Prompts, max_new_tokens = MaxNewTokens, eos = c.Config.EosTokenIds }));
        }
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "reference_model.py")], requests.ToString());
        if (code != 0) throw new InvalidOperationException("reference_model.py failed: " + stderr);
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var doc = JsonDocument.Parse(line);
            Answers[doc.RootElement.GetProperty("id").GetString()!] = doc.RootElement;
        }
    }

    private static Case Make(string name, ModelConfig config, bool bf16, int seed) => new(name, config, RandomModels.Weights(config, seed, bf16), bf16);

    public IReadOnlyList<Case> Cases { get; }

    public bool Available { get; }

    public Dictionary<string, JsonElement> Answers { get; } = new();

    public Case Get(string name) => Cases.Single(c => c.Name == name);

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// Decoder forward and greedy generation against the PyTorch reference: logits of a right-padded batch with
/// different lengths within 1e-4 of their norm (1e-2 with BF16 weights), and identical greedy tokens, for every
/// architecture, tied and untied.
/// </summary>
public sealed class DecoderParityTests(DecoderOracleFixture oracle) : IClassFixture<DecoderOracleFixture>
{
    private static readonly string[] Names = ["qwen3-f32-tied", "qwen3-bf16-untied", "qwen2-f32-untied-bias", "llama-f32-untied-llama3-rope", "mistral-bf16-tied", "qwen3-f32-mha-odd", "llama-f32-attention-bias"];

    /// <summary>Every case on every kernel set this CPU supports (scalar reference included).</summary>
    public static TheoryData<string, BackendVariant> Cases() => TestBackends.ForEach(Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Padded_batch_logits_match_pytorch(string name, BackendVariant kernels)
    {
        TestEnvironment.RequireOracle(oracle.Available, "/usr/bin/python3 with torch and numpy (python3-torch)");
        var c = oracle.Get(name);
        using var backend = kernels.Create();
        using var weights = DecoderWeights.Load(c.Config, c.Weights, backend);
        // Small chunks so that a prompt spans several forward chunks through the cache.
        using var model = new DecoderModel(weights, maxTokens: 7, maxLogitRows: 5);
        using var cache = new KvCache(c.Config, backend, 4, 32);
        int width = DecoderOracleFixture.Sequences.Max(s => s.Length);
        var ids = DecoderOracleFixture.Sequences.Select(s => s.Concat(Enumerable.Repeat(0, width - s.Length)).ToArray()).ToList();
        var mask = DecoderOracleFixture.Sequences.Select(s => Enumerable.Repeat(1, s.Length).Concat(Enumerable.Repeat(0, width - s.Length)).ToArray()).ToList();
        var ours = model.ForwardPadded(cache, ids, mask);
        var reference = oracle.Answers[name + "/logits"];
        double tolerance = c.Bf16 ? 1e-2 : 1e-4;
        int vocab = c.Config.VocabSize, compared = 0;
        for (int s = 0; s < ids.Count; s++)
        {
            var rows = reference.GetProperty("logits")[s];
            Assert.Equal(DecoderOracleFixture.Sequences[s].Length, rows.GetArrayLength());
            for (int t = 0; t < rows.GetArrayLength(); t++)
            {
                var expected = rows[t].EnumerateArray().Select(e => e.GetDouble()).ToArray();
                double diff = 0, norm = 0;
                for (int v = 0; v < vocab; v++)
                {
                    double d = ours[s][t * vocab + v] - expected[v];
                    diff += d * d;
                    norm += expected[v] * expected[v];
                }
                double rel = Math.Sqrt(diff / norm);
                Assert.True(rel <= tolerance, $"{name} ({backend.Name}): sequence {s} position {t}: relative error {rel:E2} > {tolerance:E0}");
                compared++;
            }
        }
        Assert.Equal(DecoderOracleFixture.Sequences.Sum(s => s.Length), compared);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_generation_matches_pytorch_tokens(string name, BackendVariant kernels)
    {
        TestEnvironment.RequireOracle(oracle.Available, "/usr/bin/python3 with torch and numpy (python3-torch)");
        var c = oracle.Get(name);
        using var backend = kernels.Create();
        using var weights = DecoderWeights.Load(c.Config, c.Weights, backend);
        using var model = new DecoderModel(weights, maxTokens: 16, maxLogitRows: 4);
        using var generator = new Generator(model, maxBatch: 2, maxLength: 24);
        var results = generator.Generate(DecoderOracleFixture.Prompts, new GenerationOptions { MaxNewTokens = DecoderOracleFixture.MaxNewTokens, EosTokenIds = c.Config.EosTokenIds });
        var expected = oracle.Answers[name + "/greedy"].GetProperty("tokens");
        for (int p = 0; p < DecoderOracleFixture.Prompts.Length; p++)
        {
            var want = expected[p].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(want, results[p].Ids.ToArray());
            var reason = want.Length > 0 && c.Config.EosTokenIds.Contains(want[^1]) ? FinishReason.Eos : FinishReason.Length;
            Assert.Equal(reason, results[p].FinishReason);
        }
    }
}
