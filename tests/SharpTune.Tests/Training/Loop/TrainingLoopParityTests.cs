using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Preprocessing;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;
using SharpTune.Training.Loop;

namespace SharpTune.Tests.Training.Loop;

/// <summary>
/// A whole training loop against the PyTorch reference (tests/oracles/python/reference_train.py, its "loop" request:
/// transformers' epoch loop, accumulation with the last incomplete accumulation, num_items_in_batch, clipping, AdamW,
/// the warmup + cosine schedule, logged window means): a tiny random Qwen3 with LoRA, 40 samples of mixed lengths,
/// disable_shuffling. Every step loss and every logged loss match to 1e-5, the learning rates exactly, and every final
/// adapter tensor to 1e-4 of its norm.
/// </summary>
public sealed class TrainingLoopParityTests
{
    private const string Python = "/usr/bin/python3";

    public static TheoryData<string, int, int, int, double, int> Cases() => new()
    {
        // name, samples, batch, accumulation, epochs, logging_steps
        { "issue-case", 40, 4, 2, 2.0, 1 },
        { "remainder-fractional", 40, 4, 3, 1.5, 2 },   // 10 batches: 3 updates of 3 and one of 1 an epoch; 1.5 epochs
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Whole_loop_matches_the_pytorch_reference(string name, int samples, int batch, int accumulation, double epochs, int loggingSteps)
    {
        TestEnvironment.RequireOracle(File.Exists(Python) && ProcessRunner.Run(Python, ["-c", "import torch, numpy"]).Code == 0, "/usr/bin/python3 with torch and numpy (python3-torch)");
        using var dir = new TempDir();
        var config = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, hidden: 24, heads: 2, kvHeads: 1, headDim: 12, intermediate: 40, vocab: 61);
        var weights = RandomModels.Weights(config, 21, false);
        var modelDir = Path.Combine(dir.Path, "model");
        RandomModels.Write(modelDir, config, weights);
        var adapter = LoraInitializer.Initialize(config, new LoraConfig { Rank = 4, Alpha = 8 }, 5);
        // A trained-looking B so the first steps move A too.
        var rng = new Random(9);
        adapter = adapter with { Modules = adapter.Modules.Select(m => m with { B = m.B.Select(_ => (float)(rng.NextDouble() - 0.5) * 0.2f).ToArray() }).ToList() };
        var adapterDir = Path.Combine(dir.Path, "adapter");
        PeftAdapter.Save(adapterDir, adapter, modelDir);

        // 40 samples of mixed lengths (3 … 24 tokens), the answer part supervised.
        var data = new Random(17);
        var builder = new TokenizedDataset.Builder();
        var json = new JsonArray();
        for (int i = 0; i < samples; i++)
        {
            int n = data.Next(3, 25);
            var ids = Enumerable.Range(0, n).Select(_ => data.Next(config.VocabSize)).ToArray();
            var labels = ids.Select((id, t) => t >= Math.Max(1, n * 3 / 5) ? id : TrainingBatch.IgnoreIndex).ToArray();
            builder.Add(ids, labels, i);
            json.Add(new JsonObject { ["input_ids"] = new JsonArray(ids.Select(x => (JsonNode)x).ToArray()), ["labels"] = new JsonArray(labels.Select(x => (JsonNode)x).ToArray()) });
        }
        var train = builder.Build();

        var args = new TrainingArguments
        {
            OutputDir = Path.Combine(dir.Path, "out"), PerDeviceTrainBatchSize = batch, GradientAccumulationSteps = accumulation, NumTrainEpochs = epochs,
            LearningRate = 3e-3, LrSchedulerType = LearningRateScheduleType.Cosine, WarmupRatio = 0.1, MaxGradNorm = 0.5, WeightDecay = 0.01,
            DisableShuffling = true, LoggingSteps = loggingSteps, SaveSteps = 4, Seed = 3,
        };
        var request = new JsonObject
        {
            ["id"] = name, ["model"] = modelDir, ["mode"] = "lora", ["adapter"] = adapterDir,
            ["loop"] = new JsonObject
            {
                ["samples"] = json, ["batch_size"] = batch, ["accumulation"] = accumulation, ["epochs"] = epochs, ["max_steps"] = -1,
                ["warmup_ratio"] = args.WarmupRatio, ["logging_steps"] = loggingSteps, ["pad_id"] = 0,
            },
            ["optimizer"] = new JsonObject { ["lr"] = args.LearningRate, ["betas"] = new JsonArray(0.9, 0.999), ["eps"] = 1e-8, ["weight_decay"] = 0.01, ["max_grad_norm"] = 0.5 },
            ["schedule"] = new JsonObject { ["type"] = "cosine" },
        };
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "reference_train.py")], request.ToJsonString() + "\n");
        Assert.True(code == 0, "reference_train.py failed: " + stderr);
        var answer = JsonDocument.Parse(stdout).RootElement;
        Assert.False(answer.TryGetProperty("error", out var error), error.ToString());

        var obs = new RecordingObserver();
        using var backend = ComputeBackends.Create();
        using var model = TrainableDecoder.CreateLora(config, weights, adapter, backend, new TrainingOptions { MaxTokens = TrainingRun.RequiredTokens(train, null, args), LogitChunk = 7 });
        var result = new TrainingRun(args, new TrainingRunInputs { Model = model, TrainSet = train, Observers = [obs] }).Run(TestContext.Current.CancellationToken);

        Assert.Equal(answer.GetProperty("max_steps").GetInt64(), result.MaxSteps);
        var refLosses = answer.GetProperty("step_losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(refLosses.Length, obs.Steps.Count);
        for (int s = 0; s < refLosses.Length; s++)
        {
            Near(refLosses[s], obs.Steps[s].Result.Loss, 1e-5, $"{name} loss of step {s + 1}");
            Near(answer.GetProperty("grad_norms")[s].GetDouble(), obs.Steps[s].Result.GradNorm, 1e-4, $"{name} gradient norm of step {s + 1}");
            Assert.Equal(answer.GetProperty("lrs")[s].GetDouble(), obs.Steps[s].Result.LearningRate, 12);
        }
        var logged = obs.Logs.Where(l => l["loss"] is not null).ToList();
        var refLogged = answer.GetProperty("logged_losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(answer.GetProperty("logged_steps").EnumerateArray().Select(e => e.GetInt64()), logged.Select(l => l.Step));
        for (int i = 0; i < refLogged.Length; i++) Near(refLogged[i], logged[i]["loss"]!.Value, 1e-5, $"{name} logged loss {i}");

        // The final adapter at the root of output_dir against the reference's parameters.
        var ours = PeftAdapter.Load(args.OutputDir, config);
        var refParams = answer.GetProperty("params");
        foreach (var m in ours.Modules)
            foreach (var (key, values) in new[] { (PeftAdapter.KeyA(m.PeftPrefix), m.A), (PeftAdapter.KeyB(m.PeftPrefix), m.B) })
            {
                var expected = refParams.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
                double diff = 0, norm = 0;
                for (int i = 0; i < values.Length; i++)
                {
                    diff += (values[i] - expected[i]) * (values[i] - expected[i]);
                    norm += expected[i] * expected[i];
                }
                Assert.True(Math.Sqrt(diff) <= 1e-4 * Math.Sqrt(norm), $"{name} {key}: relative error {Math.Sqrt(diff / norm):E2} > 1e-4");
            }
    }

    private static void Near(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(Math.Abs(expected), 1e-30), $"{what}: expected {expected:R}, got {actual:R}");
}
