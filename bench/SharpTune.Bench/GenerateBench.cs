using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Numerics;

namespace SharpTune.Bench;

/// <summary>
/// Prefill and decode tokens/s of greedy generation with the KV cache, on a random model of the peer's shapes,
/// then the PyTorch peer (bench_generate.py) with the same batch, prompt length and new tokens in the same run.
/// Usage: <c>generate --config bench-25m|qwen3-0.6b-shape [--batch 8] [--prompt 440] [--new 8] [--runs 5] [--dtype f32|bf16] [--no-peer]</c>.
/// prefill tokens/s = batch·prompt / prefill time (incl. the first token's logits); decode tokens/s = batch / median step time.
/// </summary>
internal static class GenerateBench
{
    public static int Run(string[] args)
    {
        string config = Arg(args, "--config", "bench-25m");
        int batch = int.Parse(Arg(args, "--batch", config == "bench-25m" ? "8" : "1"), CultureInfo.InvariantCulture);
        int prompt = int.Parse(Arg(args, "--prompt", "440"), CultureInfo.InvariantCulture);
        int newTokens = int.Parse(Arg(args, "--new", "8"), CultureInfo.InvariantCulture);
        int runs = int.Parse(Arg(args, "--runs", "5"), CultureInfo.InvariantCulture);
        var dtype = Arg(args, "--dtype", "f32") == "bf16" ? TensorDType.BF16 : TensorDType.F32;
        var c = config switch
        {
            "bench-25m" => Qwen3(512, 8, 8, 4, 64, 1536),
            "qwen3-0.6b-shape" => Qwen3(1024, 28, 16, 8, 128, 3072),
            _ => throw new ArgumentException("unknown config " + config),
        };
        int? threads = args.Contains("--threads") ? int.Parse(Arg(args, "--threads", "2"), CultureInfo.InvariantCulture) : null;
        using var backend = ComputeBackends.Create(new BackendOptions { Threads = threads });
        var load = Stopwatch.StartNew();
        using var weights = DecoderWeights.Load(c, new SyntheticTensorSource(c, dtype), backend, WeightStorage.Auto, maxPositions: prompt + newTokens);
        GC.Collect();
        using var model = new DecoderModel(weights, maxTokens: 512, maxLogitRows: batch);
        using var generator = new Generator(model, batch, prompt + newTokens);
        Console.WriteLine($"{config} {dtype} on {backend.Name}: parameters {weights.Bytes / 1048576.0:F0} MiB, activations {model.ActivationBytes / 1048576.0:F0} MiB, KV cache {generator.CacheBytes / 1048576.0:F0} MiB, load {load.Elapsed.TotalSeconds:F1} s");
        var rng = new Random(200);
        int[][] Prompts() => Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, prompt).Select(_ => rng.Next(c.VocabSize)).ToArray()).ToArray();
        var options = new GenerationOptions { MaxNewTokens = newTokens };
        generator.Generate(Prompts(), options); // warm-up
        var prefills = new List<double>();
        var steps = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var prompts = Prompts();
            var ((prefill, stepTimes), others) = CpuMonitor.Quiet(() => { generator.Generate(prompts, options); return generator.LastTimings; });
            prefills.Add(prefill);
            steps.AddRange(stepTimes);
            Console.WriteLine($"  run {r}: prefill {prefill:F3} s, decode steps {string.Join(", ", stepTimes.Select(s => (s * 1e3).ToString("F0", CultureInfo.InvariantCulture)))} ms, others {others:F2} cores");
        }
        double pre = Median(prefills), step = Median(steps);
        double ourPrefill = batch * prompt / pre, ourDecode = batch / step, ourRss = PeerRunner.PeakRssMiB();
        Console.WriteLine($"sharptune: prefill {ourPrefill:F1} tokens/s, decode {ourDecode:F1} tokens/s, peak RSS {ourRss:F0} MiB");
        if (args.Contains("--no-peer")) return 0;
        var json = Path.Combine(Path.GetTempPath(), $"sharptune-peer-gen-{Environment.ProcessId}.json");
        var output = PeerRunner.Run("bench_generate.py", "--config", config, "--batch", batch.ToString(CultureInfo.InvariantCulture), "--prompt", prompt.ToString(CultureInfo.InvariantCulture),
            "--new", newTokens.ToString(CultureInfo.InvariantCulture), "--runs", runs.ToString(CultureInfo.InvariantCulture), "--json", json);
        if (output is null || !File.Exists(json)) return 0;
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        File.Delete(json);
        var root = doc.RootElement;
        double peerPrefill = root.GetProperty("prefill_tokens_per_s").GetDouble(), peerDecode = root.GetProperty("decode_tokens_per_s").GetDouble();
        double peerRss = root.GetProperty("peak_rss_mib").GetDouble();
        Console.WriteLine($"pytorch:   prefill {peerPrefill:F1} tokens/s, decode {peerDecode:F1} tokens/s, peak RSS {peerRss:F0} MiB (fp32)");
        Console.WriteLine($"ratio sharptune/pytorch: prefill {ourPrefill / peerPrefill:F2}x, decode {ourDecode / peerDecode:F2}x, peak RSS {ourRss / peerRss:F2}x");
        return 0;
    }

    internal static ModelConfig Qwen3(int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate) => new()
    {
        Architecture = ModelArchitecture.Qwen3, HiddenSize = hidden, NumLayers = layers, NumHeads = heads, NumKvHeads = kvHeads,
        HeadDim = headDim, IntermediateSize = intermediate, VocabSize = 151936, RmsNormEps = 1e-6, RopeTheta = 1e6,
        TieWordEmbeddings = true, MaxPositionEmbeddings = 40960,
    };

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count == 0 ? double.NaN : s[s.Count / 2];
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
