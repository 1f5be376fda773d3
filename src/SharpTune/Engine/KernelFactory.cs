using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpTune.Engine.Cpu;

namespace SharpTune.Engine;

/// <summary>
/// Creates the compute backend: the fastest CPU kernel set this machine supports, or the one named by the
/// <c>SHARPTUNE_KERNELS</c> environment variable (<c>avx512|avx2|vector128|scalar</c>) so that every
/// implementation can be exercised.
/// </summary>
public static class KernelFactory
{
    /// <summary>The environment variable that forces a kernel set.</summary>
    public const string EnvironmentVariable = "SHARPTUNE_KERNELS";

    /// <summary>Kernel sets this machine can run, slowest first.</summary>
    public static IReadOnlyList<KernelIsa> Supported()
    {
        var list = new List<KernelIsa> { KernelIsa.Scalar };
        if (Vector128.IsHardwareAccelerated) list.Add(KernelIsa.Vector128);
        if (Avx2.IsSupported && Fma.IsSupported) list.Add(KernelIsa.Avx2);
        if (Avx512F.IsSupported && Avx512BW.IsSupported) list.Add(KernelIsa.Avx512);
        return list;
    }

    /// <summary>The kernel set chosen now: the environment variable if set, else the fastest supported.</summary>
    public static KernelIsa Choose()
    {
        var forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(forced)) return Supported()[^1];
        KernelIsa isa = forced.Trim().ToLowerInvariant() switch
        {
            "scalar" => KernelIsa.Scalar,
            "vector128" => KernelIsa.Vector128,
            "avx2" => KernelIsa.Avx2,
            "avx512" => KernelIsa.Avx512,
            _ => throw new UserException($"{EnvironmentVariable}={forced}: expected one of avx512, avx2, vector128, scalar"),
        };
        if (!Supported().Contains(isa))
            throw new UserException($"{EnvironmentVariable}={forced}: this CPU does not support it (supported: {string.Join(", ", Supported()).ToLowerInvariant()})");
        return isa;
    }

    /// <summary>Creates a CPU backend for <paramref name="isa"/> (default: <see cref="Choose"/>) using <paramref name="threads"/> threads (default: all cores).</summary>
    public static IComputeBackend CreateCpu(KernelIsa? isa = null, int? threads = null)
    {
        var chosen = isa ?? Choose();
        if (!Supported().Contains(chosen)) throw new UserException($"kernel set {chosen} is not supported by this CPU");
        return new CpuBackend(chosen, threads ?? Environment.ProcessorCount);
    }
}
