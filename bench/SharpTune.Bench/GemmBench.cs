using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Numerics;

namespace SharpTune.Bench;

/// <summary>
/// fp32 GEMM GFLOP/s of the engine's Linear (x · Wᵀ, W packed once as at model load) on the shapes, then
/// torch.mm / F.linear on the same shapes in the same run. Usage: <c>gemm [--isa avx2] [--min-time 1] [--no-peer]</c>.
/// </summary>
internal static class GemmBench
{
    private static readonly (string Name, int M, int K, int N)[] Shapes =
    [
        ("[3584x512]@[512x1536]", 3584, 512, 1536),
        ("[3584x1536]@[1536x512]", 3584, 1536, 512),
        ("square 2048", 2048, 2048, 2048),
        ("[448x1024]@[1024x3072]", 448, 1024, 3072),
        ("[448x3072]@[3072x1024]", 448, 3072, 1024),
    ];

    public static int Run(string[] args)
    {
        double minTime = Arg(args, "--min-time", 1.0);
        string? kernels = args.Contains("--isa") ? args[Array.IndexOf(args, "--isa") + 1] : null;
        using var backend = ComputeBackends.Create(new BackendOptions { Kernels = kernels });
        Console.WriteLine($"backend {backend.Name}, {Environment.ProcessorCount} threads");
        var ours = new Dictionary<string, double>();
        foreach (var (name, m, k, n) in Shapes)
        {
            using var arena = backend.CreateArena("bench");
            var rng = new Random(0);
            var w = new float[(long)n * k];
            for (long i = 0; i < w.Length; i++) w[i] = (float)rng.NextDouble() - 0.5f;
            var weight = backend.LoadLinear(MemoryMarshal.AsBytes(w.AsSpan()), TensorDType.F32, n, k, ElementType.F32, arena);
            var x = arena.Allocate(ElementType.F32, m, k);
            var xs = new float[(long)m * k];
            for (long i = 0; i < xs.Length; i++) xs[i] = (float)rng.NextDouble() - 0.5f;
            backend.Upload(xs, x);
            var c = arena.Allocate(ElementType.F32, m, n);
            for (int i = 0; i < 2; i++) backend.Linear(x, weight, default, c, false);
            var (med, others) = CpuMonitor.Quiet(() =>
            {
                var times = new List<double>();
                var total = Stopwatch.StartNew();
                while (times.Count < 5 || total.Elapsed.TotalSeconds < minTime)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    backend.Linear(x, weight, default, c, false);
                    times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
                times.Sort();
                return times[times.Count / 2];
            });
            ours[name] = 2.0 * m * k * n / med / 1e9;
            Console.WriteLine($"  sharptune {name,-24} {med * 1e3,9:F2} ms {ours[name],8:F1} GFLOP/s (others {others:F2} cores)");
        }
        Console.WriteLine($"peak RSS {PeerRunner.PeakRssMiB():F0} MiB");
        if (args.Contains("--no-peer")) return 0;
        var json = Path.Combine(Path.GetTempPath(), $"sharptune-peer-gemm-{Environment.ProcessId}.json");
        Console.WriteLine(PeerRunner.Run("bench_gemm.py", "--no-bf16", "--min-time", minTime.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json", json));
        if (!File.Exists(json)) return 0;
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        File.Delete(json);
        Console.WriteLine("shape                      sharptune   torch.mm  F.linear   ratio(mm)  ratio(linear)");
        foreach (var (name, _, _, _) in Shapes)
        {
            double Peer(string op) => doc.RootElement.GetProperty("rows").EnumerateArray()
                .Where(r => r.GetProperty("shape").GetString() == name && r.GetProperty("op").GetString() == op)
                .Select(r => r.GetProperty("gflops").GetDouble()).DefaultIfEmpty(double.NaN).First();
            double mm = Peer("mm"), lin = Peer("linear");
            Console.WriteLine($"{name,-26} {ours[name],9:F1} {mm,10:F1} {lin,9:F1} {ours[name] / mm,10:P0} {ours[name] / lin,13:P0}");
        }
        return 0;
    }

    private static double Arg(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
