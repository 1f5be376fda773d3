using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Engine;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Training;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune bench train-step</c>: training steps on one fixed batch, for benchmarks and parity checks.</summary>
internal static class BenchCommands
{
    public static CliCommand Create() =>
        new CliCommand("bench", "Benchmarks of the engine.")
            .Add(new CliCommand("train-step", "Run training steps (forward, backward, AdamW) on one fixed batch and time them.")
            {
                Description = "LoRA (default; a fresh PEFT initialization seeded by --seed, or --adapter) or --full fine-tuning of --model.\n"
                    + "The batch is either --batch-file (JSON {\"input_ids\": [[..]], \"labels\": [[..]], \"attention_mask\": [[..]]}, labels\n"
                    + "aligned with input_ids as transformers expects them, -100 = unsupervised) or a seeded random batch of --batch rows\n"
                    + "of --seq tokens whose last --supervised tokens are supervised. The first --warmup steps are not timed into the\n"
                    + "median. --json prints one object per step and a last one with peak_rss_mib and median_tokens_per_s.",
            }
                .Option("model", "Model folder (config.json + safetensors).", "DIR", required: true)
                .Option("adapter", "Start from this PEFT LoRA adapter folder instead of a fresh initialization.", "DIR")
                .Flag("full", "Full fine-tuning: every weight trainable (fp32 master weights).")
                .Option("lora-rank", "LoRA rank r.", "N", "16")
                .Option("lora-alpha", "LoRA alpha.", "X", "32")
                .Option("lora-targets", "all, all-linear, or a comma-separated list (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj).", "LIST", "all")
                .Flag("rslora", "Scale by alpha/sqrt(r) (rsLoRA) instead of alpha/r.")
                .Option("batch", "Rows of the random batch.", "N", "8")
                .Option("seq", "Tokens per row of the random batch.", "N", "448")
                .Option("supervised", "Supervised tokens at the end of each random row.", "N", "7")
                .Option("seed", "Seed of the random batch and of the LoRA initialization.", "N", "0")
                .Option("batch-file", "A fixed batch as JSON (instead of the random one).", "FILE")
                .Option("steps", "Timed steps.", "N", "5")
                .Option("warmup", "Steps run first and left out of the median.", "N", "1")
                .Option("lr", "AdamW learning rate.", "X", "1e-4")
                .Option("weight-decay", "AdamW weight decay.", "X", "0")
                .Flag("gradient-checkpointing", "Recompute each layer in the backward pass instead of keeping its activations.")
                .Flag("json", "Machine-readable output: one JSON object per line.")
                .Handle(TrainStep));

    private static int TrainStep(ParsedArgs a)
    {
        bool full = a.Has("full"), json = a.Has("json");
        if (full && a.Has("adapter")) throw new UserException("--adapter and --full exclude each other: an adapter is LoRA");
        // The adapter's adapter_config.json fixes the LoRA shape, and full fine-tuning has none: a shape flag would be ignored.
        var shapeFlags = LoraShapeFlags.Where(a.Has).Select(f => "--" + f).ToList();
        if (shapeFlags.Count > 0 && (full || a.Has("adapter")))
            throw new UserException(full
                ? $"{string.Join(", ", shapeFlags)}: LoRA shape options do not apply to --full fine-tuning"
                : $"{string.Join(", ", shapeFlags)}: the adapter {a.RequiredString("adapter")} fixes the LoRA shape (its adapter_config.json); drop the option or leave out --adapter");
        int steps = a.Int("steps", 1), warmup = a.Int("warmup", 0);
        ulong seed = (ulong)a.Long("seed");
        var opt = new AdamWOptions { LearningRate = a.Double("lr"), WeightDecay = a.Double("weight-decay") };
        opt.Validate();
        using var folder = ModelFolder.Open(a.RequiredString("model"));
        var config = folder.Config;
        var batch = a.String("batch-file") is { } file ? ReadBatchFile(file, config.VocabSize) : RandomBatch(a, config, seed);
        using var backend = ComputeBackends.Create();
        var options = new TrainingOptions { MaxTokens = batch.Tokens, GradientCheckpointing = a.Has("gradient-checkpointing") };
        var load = Stopwatch.StartNew();
        TrainableDecoder model;
        if (full) model = TrainableDecoder.CreateFull(config, folder.Weights, backend, options);
        else
        {
            var adapter = a.String("adapter") is { } dir
                ? PeftAdapter.Load(dir, config)
                : LoraInitializer.Initialize(config, new LoraConfig
                {
                    Rank = a.Int("lora-rank", 1), Alpha = a.Double("lora-alpha"), UseRslora = a.Has("rslora"),
                    Targets = LoraTargets.Parse(a.RequiredString("lora-targets"), "--lora-targets"),
                }, seed);
            model = TrainableDecoder.CreateLora(config, folder.Weights, adapter, backend, options);
        }
        using var _ = model;
        using var trainer = new Trainer(model, opt, seed: seed);
        var bytes = model.Bytes;
        long trainable = model.Parameters.Sum(p => p.Count);
        if (!json)
            a.Out.WriteLine($"{(full ? "full fine-tuning" : $"LoRA r {model.Lora!.Rank}, alpha {model.Lora.Alpha.ToString(CultureInfo.InvariantCulture)} on {string.Join(",", model.Lora.Targets.Select(t => t.ModuleName()))}")}" +
                $" of {folder.Path} on {backend.Name}: {trainable:N0} trainable parameters; {batch.Sequences} × {batch.PaddedLength} tokens, {batch.SupervisedCount} supervised;" +
                $" arenas {Mib(bytes.Parameters + bytes.Gradients + trainer.Optimizer.Bytes)} MiB trainable + optimizer, {Mib(bytes.Activations)} MiB activations; set up in {load.Elapsed.TotalSeconds:F1} s");
        var rates = new List<double>();
        var batches = new[] { batch };
        for (int s = 0; s < warmup + steps; s++)
        {
            var clock = Stopwatch.StartNew();
            var r = trainer.Step(batches);
            double seconds = clock.Elapsed.TotalSeconds, rate = r.Tokens / seconds;
            bool warm = s < warmup;
            if (!warm) rates.Add(rate);
            if (json)
                a.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["step"] = s + 1, ["warmup"] = warm, ["loss"] = r.Loss, ["token_accuracy"] = r.TokenAccuracy, ["entropy"] = r.Entropy,
                    ["grad_norm"] = r.GradNorm, ["tokens_per_s"] = rate, ["step_s"] = seconds,
                    ["forward_s"] = r.ForwardSeconds, ["backward_s"] = r.BackwardSeconds, ["optimizer_s"] = r.OptimizerSeconds,
                }));
            else
                a.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {s + 1}/{warmup + steps}{(warm ? " (warmup)" : "")}: loss {r.Loss:F4}, token accuracy {r.TokenAccuracy:F3}, {rate:N0} tokens/s ({seconds:F3} s: forward {r.ForwardSeconds:F3}, backward {r.BackwardSeconds:F3}, optimizer {r.OptimizerSeconds:F3})"));
            a.Out.Flush();
        }
        rates.Sort();
        double median = rates[rates.Count / 2], rss = ProcessMemory.PeakRssMiB();
        double gflop = model.StepFlops(batch) / 1e9, achieved = gflop * median / batch.Tokens;
        if (json)
            a.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["peak_rss_mib"] = rss, ["median_tokens_per_s"] = median, ["step_gflop"] = gflop, ["achieved_gflops"] = achieved,
            }));
        else
            a.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median {median:N0} tokens/s over {rates.Count} steps ({gflop:F1} GFLOP a step: {achieved:F0} GFLOP/s); peak RSS {rss:N0} MiB"));
        return CliApp.Success;
    }

    private static readonly string[] LoraShapeFlags = ["lora-rank", "lora-alpha", "lora-targets", "rslora"];

    private static long Mib(long bytes) => bytes / (1 << 20);

    private static TrainingBatch RandomBatch(ParsedArgs a, ModelConfig config, ulong seed) =>
        TrainingBatch.Random(a.Int("batch", 1), a.Int("seq", 2), a.Int("supervised", 1), config.VocabSize, seed);

    private static TrainingBatch ReadBatchFile(string path, int vocabSize)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: batch file not found");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            int[][] Rows(string field, bool required)
            {
                if (!doc.RootElement.TryGetProperty(field, out var e))
                    return required ? throw new UserException($"{path}: field '{field}' is missing (expected an array of integer arrays)") : null!;
                if (e.ValueKind != JsonValueKind.Array) throw new UserException($"{path}: field '{field}' must be an array of integer arrays");
                return e.EnumerateArray().Select((row, i) => row.ValueKind == JsonValueKind.Array
                    ? row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var x) ? x : throw new UserException($"{path}: {field}[{i}] holds {v.GetRawText()}, expected an integer")).ToArray()
                    : throw new UserException($"{path}: {field}[{i}] must be an array of integers")).ToArray();
            }
            var ids = Rows("input_ids", true);
            var labels = Rows("labels", true);
            var mask = doc.RootElement.TryGetProperty("attention_mask", out _) ? Rows("attention_mask", false) : null;
            return TrainingBatch.FromPadded(ids, labels, mask, vocabSize, path);
        }
        catch (JsonException e)
        {
            throw new UserException($"{path}: not valid JSON ({e.Message})", e);
        }
    }
}
