using System.Text.Json;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Tests.Engine;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

/// <summary>
/// Training cases (model, adapter, batches, optimizer) and the PyTorch reference's answers for them
/// (tests/oracles/python/reference_train.py), computed in ONE Python process for the class.
/// </summary>
public sealed class TrainingOracleFixture : IDisposable
{
    public const string Python = "/usr/bin/python3";
    public const int Steps = 10;

    public sealed record Case(string Name, ModelConfig Config, InMemoryTensorSource Weights, LoraAdapterWeights? Adapter,
        IReadOnlyList<(int[][] Ids, int[][] Labels, int[][] Mask)> Batches, AdamWOptions Optimizer, LearningRateSchedule Schedule)
    {
        public string ModelDir { get; set; } = "";
        public string AdapterDir { get; set; } = "";
    }

    private readonly TempDir _dir = new();

    public TrainingOracleFixture()
    {
        var llama3 = new RopeScaling("llama3", 8, 1, 4, 32);
        var qwen3 = RandomModels.Config(ModelArchitecture.Qwen3, tied: true);
        var llama = RandomModels.Config(ModelArchitecture.Llama, tied: false, scaling: llama3, heads: 4, kvHeads: 2, headDim: 10);
        var qwen2 = RandomModels.Config(ModelArchitecture.Qwen2, tied: false, heads: 4, kvHeads: 1, headDim: 10);
        var mistral = RandomModels.Config(ModelArchitecture.Mistral, tied: true, dtype: "bfloat16");
        var smallQwen3 = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, hidden: 24, heads: 2, kvHeads: 1, headDim: 12, intermediate: 40, vocab: 61);
        var constant = LearningRateSchedule.ConstantRate;
        var adam = new AdamWOptions { LearningRate = 1e-3 };
        Cases =
        [
            Lora("qwen3-lora-fresh", qwen3, 1, new LoraConfig { Rank = 4, Alpha = 8 }, trainedB: false, [Batch(qwen3, 11, [9, 5, 12])], adam, constant),
            Lora("qwen3-lora-rslora-accumulated-clipped", qwen3, 2, new LoraConfig { Rank = 4, Alpha = 8, UseRslora = true, Targets = LoraTargets.Parse("q_proj,v_proj,o_proj,down_proj", "test") },
                trainedB: true, [Batch(qwen3, 12, [7, 10]), Batch(qwen3, 13, [4, 8, 6])],
                adam with { WeightDecay = 0.01, MaxGradNorm = 0.05 }, new LearningRateSchedule(LearningRateScheduleType.Cosine, 2, Steps)),
            Lora("llama-lora-llama3-rope", llama, 3, new LoraConfig { Rank = 3, Alpha = 6 }, trainedB: true, [Batch(llama, 14, [8, 13, 3])],
                adam with { WeightDecay = 0.1 }, new LearningRateSchedule(LearningRateScheduleType.Linear, 1, Steps)),
            Lora("qwen2-lora-bias", qwen2, 4, new LoraConfig { Rank = 2, Alpha = 4 }, trainedB: true, [Batch(qwen2, 15, [6, 9])], adam, constant),
            Lora("mistral-bf16-lora", mistral, 5, new LoraConfig { Rank = 4, Alpha = 16, Targets = LoraTargets.Parse("gate_proj,up_proj,down_proj", "test") },
                trainedB: true, [Batch(mistral, 16, [10, 4])], adam, constant),
            Full("qwen3-full", smallQwen3, 6, [Batch(smallQwen3, 17, [9, 6, 11])], adam with { WeightDecay = 0.01, MaxGradNorm = 1.0 },
                new LearningRateSchedule(LearningRateScheduleType.Cosine, 2, Steps)),
            Full("qwen2-full-untied", qwen2 with { NumLayers = 1 }, 7, [Batch(qwen2, 18, [5, 7]), Batch(qwen2, 19, [8])], adam with { WeightDecay = 0.05 }, constant),
        ];
        Available = File.Exists(Python) && ProcessRunner.Run(Python, ["-c", "import torch, numpy"]).Code == 0;
        if (!Available) return;
        var requests = new System.Text.StringBuilder();
        foreach (var c in Cases)
        {
            c.ModelDir = Path.Combine(_dir.Path, c.Name, "model");
            RandomModels.Write(c.ModelDir, c.Config, c.Weights);
            if (c.Adapter is not null)
            {
                c.AdapterDir = Path.Combine(_dir.Path, c.Name, "adapter");
                PeftAdapter.Save(c.AdapterDir, c.Adapter, c.ModelDir);
            }
            var noDecay = c.Adapter is null ? CheckpointLayout.For(c.Config).Tensors.Select(t => t.Name).Where(n => !TrainableParameter.DecaysByName(n)).ToArray() : [];
            requests.AppendLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["id"] = c.Name, ["model"] = c.ModelDir, ["mode"] = c.Adapter is null ? "full" : "lora", ["adapter"] = c.Adapter is null ? null : c.AdapterDir,
                ["batches"] = c.Batches.Select(b => new { input_ids = b.Ids, labels = b.Labels, attention_mask = b.Mask }).ToArray(),
                ["steps"] = Steps,
                ["optimizer"] = new Dictionary<string, object?>
                {
                    ["lr"] = c.Optimizer.LearningRate, ["betas"] = new[] { c.Optimizer.Beta1, c.Optimizer.Beta2 }, ["eps"] = c.Optimizer.Epsilon,
                    ["weight_decay"] = c.Optimizer.WeightDecay, ["max_grad_norm"] = c.Optimizer.MaxGradNorm,
                },
                ["no_decay"] = noDecay,
                ["schedule"] = new { type = c.Schedule.Type.ToString().ToLowerInvariant(), warmup_steps = c.Schedule.WarmupSteps, total_steps = Math.Max(c.Schedule.TotalSteps, Steps) },
                ["return_grads"] = true,
            }));
        }
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "reference_train.py")], requests.ToString());
        if (code != 0) throw new InvalidOperationException("reference_train.py failed: " + stderr);
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var doc = JsonDocument.Parse(line);
            var id = doc.RootElement.GetProperty("id").GetString()!;
            if (doc.RootElement.TryGetProperty("error", out var error)) throw new InvalidOperationException($"reference_train.py on {id}: {error.GetString()}");
            Answers[id] = doc.RootElement;
        }
    }

    /// <summary>Right-padded sequences of the given lengths: random ids, the first ~40% of each unsupervised, padding 0 / -100.</summary>
    public static (int[][], int[][], int[][]) Batch(ModelConfig c, int seed, int[] lengths)
    {
        var rng = new Random(seed);
        int width = lengths.Max();
        var ids = new int[lengths.Length][];
        var labels = new int[lengths.Length][];
        var mask = new int[lengths.Length][];
        for (int s = 0; s < lengths.Length; s++)
        {
            ids[s] = new int[width];
            labels[s] = Enumerable.Repeat(TrainingBatch.IgnoreIndex, width).ToArray();
            mask[s] = new int[width];
            for (int t = 0; t < lengths[s]; t++)
            {
                ids[s][t] = rng.Next(c.VocabSize);
                mask[s][t] = 1;
                if (t >= Math.Max(1, lengths[s] * 2 / 5)) labels[s][t] = ids[s][t];
            }
        }
        return (ids, labels, mask);
    }

    private static Case Lora(string name, ModelConfig config, int seed, LoraConfig lora, bool trainedB, IReadOnlyList<(int[][], int[][], int[][])> batches, AdamWOptions optimizer, LearningRateSchedule schedule)
    {
        var weights = RandomModels.Weights(config, seed, config.TorchDtype == "bfloat16");
        var adapter = LoraInitializer.Initialize(config, lora, (ulong)seed);
        if (trainedB)
        {
            // An adapter that has trained a while: B is no longer zero, so every A gradient is exercised.
            var rng = new Random(seed + 100);
            adapter = adapter with { Modules = adapter.Modules.Select(m => m with { B = m.B.Select(_ => (float)(rng.NextDouble() - 0.5) * 0.2f).ToArray() }).ToList() };
        }
        return new Case(name, config, weights, adapter, batches, optimizer, schedule);
    }

    private static Case Full(string name, ModelConfig config, int seed, IReadOnlyList<(int[][], int[][], int[][])> batches, AdamWOptions optimizer, LearningRateSchedule schedule) =>
        new(name, config, RandomModels.Weights(config, seed, false), null, batches, optimizer, schedule);

    public IReadOnlyList<Case> Cases { get; }

    public bool Available { get; }

    public Dictionary<string, JsonElement> Answers { get; } = new();

    public Case Get(string name) => Cases.Single(c => c.Name == name);

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// One training step identical to PyTorch: for LoRA (fresh and trained adapters, rsLoRA, target subsets, BF16 base,
/// biases, llama3 RoPE) and full fine-tuning, on a batch with padding and masked labels (and with gradient
/// accumulation), the loss, token accuracy and entropy at step 0, every trainable gradient at step 0 (to 1e-4 of its
/// norm) and the losses of 10 AdamW steps (to 1e-5 relative) match the reference, on every kernel set.
/// </summary>
public sealed class TrainingParityTests(TrainingOracleFixture oracle) : IClassFixture<TrainingOracleFixture>
{
    private static readonly string[] Names =
        ["qwen3-lora-fresh", "qwen3-lora-rslora-accumulated-clipped", "llama-lora-llama3-rope", "qwen2-lora-bias", "mistral-bf16-lora", "qwen3-full", "qwen2-full-untied"];

    public static TheoryData<string, BackendVariant> Cases() => TestBackends.ForEach(Names);

    internal static TrainableDecoder Build(TrainingOracleFixture.Case c, IComputeBackend backend, bool checkpointing = false)
    {
        var options = new TrainingOptions { MaxTokens = c.Batches.Max(b => b.Mask.Sum(m => m.Sum())), LogitChunk = 5, GradientCheckpointing = checkpointing };
        return c.Adapter is null
            ? TrainableDecoder.CreateFull(c.Config, c.Weights, backend, options)
            : TrainableDecoder.CreateLora(c.Config, c.Weights, c.Adapter, backend, options);
    }

    internal static List<TrainingBatch> Batches(TrainingOracleFixture.Case c) =>
        c.Batches.Select(b => TrainingBatch.FromPadded(b.Ids, b.Labels, b.Mask, c.Config.VocabSize)).ToList();

    private static void Near(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(Math.Abs(expected), 1e-30), $"{what}: expected {expected:R}, got {actual:R}");

    private static void NearAbs(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(Math.Abs(expected), 1.0), $"{what}: expected {expected:R}, got {actual:R}");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_zero_gradients_and_ten_adamw_steps_match_pytorch(string name, BackendVariant kernels)
    {
        TestEnvironment.RequireOracle(oracle.Available, "/usr/bin/python3 with torch and numpy (python3-torch)");
        var c = oracle.Get(name);
        var answer = oracle.Answers[name];
        using var backend = kernels.Create();
        using var model = Build(c, backend);
        var batches = Batches(c);
        long supervised = batches.Sum(b => (long)b.SupervisedCount);
        Assert.Equal(answer.GetProperty("supervised_tokens").GetInt64(), supervised);

        // Step 0's gradients, before clipping.
        model.ZeroGradients();
        var stats = new BatchStatistics();
        foreach (var b in batches) stats += model.ForwardBackward(b, (float)(1.0 / supervised));
        Near(answer.GetProperty("losses")[0].GetDouble(), stats.LossSum / supervised, 1e-5, $"{name}/{kernels} loss at step 0");
        // Entropy = logsumexp − Σ p·logit cancels in fp32: its error is absolute (~1e-6 nats), so a small entropy is
        // compared on the scale of 1 nat rather than relative to itself.
        NearAbs(answer.GetProperty("entropy")[0].GetDouble(), stats.EntropySum / supervised, 1e-5, $"{name}/{kernels} entropy at step 0");
        Assert.Equal(answer.GetProperty("token_accuracy")[0].GetDouble(), (double)stats.Correct / supervised, 12);
        var grads = answer.GetProperty("grads");
        Assert.Equal(grads.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), model.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var p in model.Parameters)
        {
            var expected = grads.GetProperty(p.Name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var ours = model.Download(p.Grad);
            Assert.Equal(expected.Length, ours.Length);
            double diff = 0, norm = 0;
            for (int i = 0; i < ours.Length; i++)
            {
                diff += (ours[i] - expected[i]) * (ours[i] - expected[i]);
                norm += expected[i] * expected[i];
            }
            if (norm == 0) Assert.True(diff == 0, $"{name}/{kernels} {p.Name}: PyTorch's gradient is exactly zero, ours has norm {Math.Sqrt(diff):E2}");
            else Assert.True(Math.Sqrt(diff / norm) <= 1e-4, $"{name}/{kernels} {p.Name}: gradient relative error {Math.Sqrt(diff / norm):E2} > 1e-4");
        }

        // Ten optimizer steps from the same start.
        using var trainer = new Trainer(model, c.Optimizer, c.Schedule);
        for (int s = 0; s < TrainingOracleFixture.Steps; s++)
        {
            var r = trainer.Step(batches);
            Near(answer.GetProperty("losses")[s].GetDouble(), r.Loss, 1e-5, $"{name}/{kernels} loss of step {s}");
            Near(answer.GetProperty("grad_norms")[s].GetDouble(), r.GradNorm, 1e-4, $"{name}/{kernels} gradient norm of step {s}");
            Assert.Equal(answer.GetProperty("lrs")[s].GetDouble(), r.LearningRate, 12);
        }
    }
}
