using System.Diagnostics;

namespace SharpTune.Bench;

/// <summary>Runs a script of the PyTorch peer (../shared/peer-pytorch) with its tuned set-up, in the same run.</summary>
internal static class PeerRunner
{
    public static string PeerDir => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "peer-pytorch"));

    /// <summary>Runs <c>/usr/bin/python3 script args</c> in the peer folder with the tuned environment; returns stdout, or null if absent.</summary>
    public static string? Run(string script, params string[] args)
    {
        var dir = PeerDir;
        if (!File.Exists(Path.Combine(dir, script)))
        {
            Console.WriteLine($"peer: {Path.Combine(dir, script)} not found; skipping the PyTorch peer");
            return null;
        }
        var psi = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = dir, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The README's tuned set-up: OpenBLAS OpenMP build, its best kernels for this CPU, and glibc reusing freed memory.
        psi.Environment["LD_LIBRARY_PATH"] = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
        // SkylakeX kernels only where the CPU has AVX-512 (elsewhere they die with SIGILL); Haswell is the AVX2 set.
        psi.Environment["OPENBLAS_CORETYPE"] = Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE")
            ?? (System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "SkylakeX" : "Haswell");
        // The peer waits for a quiet machine (up to 15 min by default); on a shared box, cap it and rely on same-run ratios.
        psi.Environment["BENCH_MAX_WAIT"] = Environment.GetEnvironmentVariable("BENCH_MAX_WAIT") ?? "20";
        psi.Environment["MALLOC_MMAP_MAX_"] = "0";
        psi.Environment["MALLOC_TRIM_THRESHOLD_"] = "100000000000";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    /// <summary>Peak resident memory of this process in MiB (VmHWM).</summary>
    public static double PeakRssMiB() => SharpTune.IO.ProcessMemory.PeakRssMiB();
}
