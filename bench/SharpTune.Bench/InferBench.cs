using System.Globalization;
using SharpTune.Engine;
using SharpTune.Evaluation;
using SharpTune.Inference;
using SharpTune.Models;

namespace SharpTune.Bench;

/// <summary>
/// <c>infer</c> generation against <c>infer --score</c> on the same records, alternated, in process (the library call the
/// CLI makes: <see cref="BatchInference.Run"/>, weights loading included in its timer but reported apart). Each round
/// runs generation (infer's defaults: greedy, 16 new tokens, batch 8) and scoring, each with and without the prefix
/// cache, and generation of one token (the prefill alone, for the prefill's share of generation); prints records/s and
/// the score/generation ratio (median over rounds). <c>--profile</c> times every kernel of
/// one generation and one scoring run (ProfilingBackend) and prints where the time goes.
/// Usage: <c>infer --model DIR [--run DIR] --data FILE [--labels Yes,No] [--rounds 3] [--max-new-tokens 16] [--batch 8] [--profile]</c>.
/// </summary>
internal static class InferBench
{
    public static int Run(string[] args)
    {
        string model = Arg(args, "--model", ""), data = Arg(args, "--data", "");
        string? run = args.Contains("--run") ? Arg(args, "--run", "") : null;
        var labels = LabelSet.Parse(Arg(args, "--labels", "Yes,No"));
        int rounds = int.Parse(Arg(args, "--rounds", "3"), CultureInfo.InvariantCulture);
        int maxNew = int.Parse(Arg(args, "--max-new-tokens", "16"), CultureInfo.InvariantCulture);
        int batch = int.Parse(Arg(args, "--batch", "8"), CultureInfo.InvariantCulture);
        var prompt = run is null ? new SharpTune.Preprocessing.PromptSettings() : RunFolder.Open(run).Prompt;
        using var folder = ModelFolder.Open(model);
        var dir = Directory.CreateTempSubdirectory("sharptune-infer-bench-");
        try
        {
            InferenceSummary Once(IComputeBackend backend, bool score, bool prefixCache, int newTokens = -1)
            {
                var output = Path.Combine(dir.FullName, $"{(score ? "score" : "gen")}-{Guid.NewGuid():N}.jsonl");
                var settings = new InferenceSettings
                {
                    DataPath = data, OutputPath = output, Prompt = prompt, Labels = labels, Score = score, BatchSize = batch,
                    Generation = new GenerationOptions { MaxNewTokens = newTokens < 0 ? maxNew : newTokens }, PrefixCache = prefixCache,
                };
                var s = BatchInference.Run(folder, settings, backend);
                File.Delete(output);
                File.Delete(output + ".infer.json");
                return s;
            }
            using var backend = ComputeBackends.Create();
            Console.WriteLine($"{model}: {folder.Config.NumLayers} layers, hidden {folder.Config.HiddenSize}, vocab {folder.Config.VocabSize}; data {data}; kernels {backend.Name}");
            if (args.Contains("--profile"))
            {
                foreach (var score in new[] { false, true })
                {
                    using var proxy = new ProfilingBackend(ComputeBackends.Create());
                    var s = Once(proxy, score, prefixCache: true);
                    Console.WriteLine($"== {(score ? "score" : "generation")} (profiled): {s.Line()}");
                    Console.Write(proxy.Report(1, s.Seconds - s.LoadSeconds));
                }
                return 0;
            }
            Once(backend, false, true); // warm-up (JIT)
            var rates = new Dictionary<string, List<double>>();
            void Add(string name, InferenceSummary s)
            {
                double rps = s.Done / (s.Seconds - s.LoadSeconds);
                (rates.TryGetValue(name, out var l) ? l : rates[name] = []).Add(rps);
                Console.WriteLine($"  {name,-28} {rps,8:F1} records/s  {s.Line()}");
            }
            for (int r = 0; r < rounds; r++)
            {
                Console.WriteLine($"round {r + 1}/{rounds} (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
                Add("generation", Once(backend, false, true));
                Add("score", Once(backend, true, true));
                Add("prefill only (1 new token)", Once(backend, false, true, newTokens: 1));
                Add("generation, no prefix cache", Once(backend, false, false));
                Add("score, no prefix cache", Once(backend, true, false));
            }
            double Median(string name) { var s = rates[name].Order().ToList(); return s[s.Count / 2]; }
            foreach (var k in rates.Keys) Console.WriteLine($"median {k,-28} {Median(k),8:F1} records/s (model time, weights loading excluded)");
            Console.WriteLine($"score / generation: {Median("score") / Median("generation"):F2}x (prefix cache on), "
                + $"{Median("score, no prefix cache") / Median("generation, no prefix cache"):F2}x (off); "
                + $"score with / without the prefix cache {Median("score") / Median("score, no prefix cache"):F2}x; "
                + $"prefill share of generation {Median("generation") / Median("prefill only (1 new token)"):F2}");
            return 0;
        }
        finally { dir.Delete(true); }
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
