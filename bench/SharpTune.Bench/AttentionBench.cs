using System.Diagnostics;
using SharpTune.Engine;

namespace SharpTune.Bench;

/// <summary>
/// Time of the attention kernel for one layer of a causal prefill: <c>attention [--batch 8] [--prompt 440] [--heads 8] [--kv-heads 4] [--head-dim 64]</c>.
/// </summary>
internal static class AttentionBench
{
    public static int Run(string[] args)
    {
        int Arg(string name, int fallback) { int i = Array.IndexOf(args, name); return i >= 0 ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback; }
        int batch = Arg("--batch", 8), prompt = Arg("--prompt", 440), heads = Arg("--heads", 8), kvHeads = Arg("--kv-heads", 4), d = Arg("--head-dim", 64);
        using var b = ComputeBackends.Create();
        using var arena = b.CreateArena("bench");
        int tokens = batch * prompt;
        var q = arena.Allocate(ElementType.F32, tokens, heads * d);
        var k = arena.Allocate(ElementType.F32, tokens, kvHeads * d);
        var v = arena.Allocate(ElementType.F32, tokens, kvHeads * d);
        var o = arena.Allocate(ElementType.F32, tokens, heads * d);
        var rng = new Random(1);
        b.Upload(Enumerable.Range(0, tokens * heads * d).Select(_ => (float)rng.NextDouble()).ToArray(), q);
        b.Upload(Enumerable.Range(0, tokens * kvHeads * d).Select(_ => (float)rng.NextDouble()).ToArray(), k);
        b.Upload(Enumerable.Range(0, tokens * kvHeads * d).Select(_ => (float)rng.NextDouble()).ToArray(), v);
        var start = arena.Allocate(ElementType.I32, 1, tokens);
        var count = arena.Allocate(ElementType.I32, 1, tokens);
        b.Upload(Enumerable.Range(0, tokens).Select(t => t / prompt * prompt).ToArray(), start);
        b.Upload(Enumerable.Range(0, tokens).Select(t => t % prompt + 1).ToArray(), count);
        var times = new List<double>();
        for (int r = 0; r < 6; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            b.Attention(q, k, v, start, count, heads, kvHeads, 0.125f, o);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        times.Sort();
        double flops = 4.0 * batch * heads * d * (prompt * (prompt + 1) / 2.0);
        Console.WriteLine($"attention {b.Name}: {batch}x{prompt} tokens, {heads}/{kvHeads} heads x {d}: median {times[3] * 1e3:F1} ms, {flops / times[3] / 1e9:F1} GFLOP/s");
        return 0;
    }
}
