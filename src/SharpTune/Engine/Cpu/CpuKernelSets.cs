using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// The CPU part of <see cref="ComputeBackends"/>: which kernel sets this processor runs, their names, and the
/// backend for one of them.
/// </summary>
internal static class CpuKernelSets
{
    /// <summary>The device part of every CPU backend name (<c>cpu-avx2</c>).</summary>
    public const string Device = "cpu";

    /// <summary>Kernel sets this machine can run, slowest (the scalar reference) first.</summary>
    public static IReadOnlyList<KernelIsa> Supported()
    {
        var list = new List<KernelIsa> { KernelIsa.Scalar };
        if (Vector128.IsHardwareAccelerated) list.Add(KernelIsa.Vector128);
        if (Avx2.IsSupported && Fma.IsSupported) list.Add(KernelIsa.Avx2);
        if (Avx512F.IsSupported && Avx512BW.IsSupported) list.Add(KernelIsa.Avx512);
        return list;
    }

    /// <summary>Every kernel set's short name, fastest first (for messages).</summary>
    public static IReadOnlyList<string> Names { get; } = ["avx512", "avx2", "vector128", "scalar"];

    /// <summary>The short name of <paramref name="isa"/> (<c>avx2</c>).</summary>
    public static string NameOf(KernelIsa isa) => isa.ToString().ToLowerInvariant();

    /// <summary>The kernel set called <paramref name="name"/> (<c>avx2</c>); null when there is none.</summary>
    public static KernelIsa? Parse(string name) => name switch
    {
        "scalar" => KernelIsa.Scalar,
        "vector128" => KernelIsa.Vector128,
        "avx2" => KernelIsa.Avx2,
        "avx512" => KernelIsa.Avx512,
        _ => null,
    };

    /// <summary>A CPU backend on <paramref name="isa"/> (which must be supported) using <paramref name="threads"/> threads.</summary>
    public static IComputeBackend Create(KernelIsa isa, int threads) => new CpuBackend(isa, threads);
}
