using System.Diagnostics;
using System.Globalization;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Numerics;
using SharpTune.Training;

namespace SharpTune.Bench;

/// <summary>
/// Where a training step's time goes: every kernel call through the backend boundary is timed (a proxy around
/// the backend), grouped by kernel and operand shape. Usage:
/// <c>train-profile [--config bench-25m|demo|qwen3-0.6b-shape] [--batch 8] [--seq 448] [--supervised 7] [--rank 16] [--full] [--steps 2]</c>.
/// </summary>
internal static class TrainProfileBench
{
    public static int Run(string[] args)
    {
        string config = Arg(args, "--config", "bench-25m");
        int batch = int.Parse(Arg(args, "--batch", config == "bench-25m" ? "8" : "1"), CultureInfo.InvariantCulture);
        int seq = int.Parse(Arg(args, "--seq", "448"), CultureInfo.InvariantCulture);
        int supervised = int.Parse(Arg(args, "--supervised", "7"), CultureInfo.InvariantCulture);
        int rank = int.Parse(Arg(args, "--rank", "16"), CultureInfo.InvariantCulture);
        int steps = int.Parse(Arg(args, "--steps", "2"), CultureInfo.InvariantCulture);
        var c = config switch
        {
            "bench-25m" => GenerateBench.Qwen3(512, 8, 8, 4, 64, 1536),
            // The demo's tiny model (DemoSettings.Full): 525k parameters, a 1,024-token vocabulary.
            "demo" => GenerateBench.Qwen3(128, 2, 4, 2, 32, 384) with { VocabSize = 1024, RopeTheta = 10000, MaxPositionEmbeddings = 1024 },
            _ => GenerateBench.Qwen3(1024, 28, 16, 8, 128, 3072),
        };
        using var proxy = new ProfilingBackend(ComputeBackends.Create());
        var source = new SyntheticTensorSource(c, TensorDType.F32);
        var options = new TrainingOptions { MaxTokens = batch * seq, GradientCheckpointing = args.Contains("--gradient-checkpointing") };
        using var model = args.Contains("--full")
            ? TrainableDecoder.CreateFull(c, source, proxy, options)
            : TrainableDecoder.CreateLora(c, source, LoraInitializer.Initialize(c, new LoraConfig { Rank = rank, Alpha = 2 * rank }, 1), proxy, options);
        using var trainer = new Trainer(model, new AdamWOptions());
        var data = new[] { TrainingBatch.Random(batch, seq, supervised, c.VocabSize, 1) };
        trainer.Step(data); // warm-up (JIT, first touch of every buffer)
        proxy.Reset();
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++) trainer.Step(data);
        double total = clock.Elapsed.TotalSeconds / steps;
        Console.WriteLine($"{config} {(args.Contains("--full") ? "full" : $"LoRA r{rank}")} {batch}x{seq} on {proxy.Name}: {total:F3} s/step, {batch * seq / total:F0} tokens/s");
        Console.Write(proxy.Report(steps, total));
        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
