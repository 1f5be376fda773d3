using SharpTune.Engine.Cpu;

namespace SharpTune.Engine;

/// <summary>
/// The one place compute backends are created. It picks the device and the kernel set — today the CPU, with the
/// fastest kernel set this processor supports, or the one named by <see cref="BackendOptions.Kernels"/> or the
/// <c>SHARPTUNE_KERNELS</c> environment variable (<c>avx512|avx2|vector128|scalar</c>) — and lists every variant
/// this machine runs so that tests can exercise each one against the reference. A new backend (CUDA) adds its
/// variants to <see cref="Available"/> and its names to <see cref="Create"/>; callers do not change.
/// </summary>
public static class ComputeBackends
{
    /// <summary>The environment variable that forces a kernel set.</summary>
    public const string KernelsVariable = "SHARPTUNE_KERNELS";

    /// <summary>The reference the other variants are compared to: the scalar CPU kernels (plain loops, unpacked weights).</summary>
    public static BackendVariant Reference { get; } = Variant(KernelIsa.Scalar);

    /// <summary>Every variant this machine runs, the reference first, then the others from slowest to fastest.</summary>
    public static IReadOnlyList<BackendVariant> Available() => [.. CpuKernelSets.Supported().Select(Variant)];

    /// <summary>
    /// Creates a backend: the variant <paramref name="options"/> names, else the one <c>SHARPTUNE_KERNELS</c> names, else
    /// the fastest available. An unknown or unsupported name is a <see cref="UserException"/>.
    /// </summary>
    public static IComputeBackend Create(BackendOptions? options = null)
    {
        var isa = Choose(options?.Kernels, Environment.GetEnvironmentVariable(KernelsVariable));
        int threads = options?.Threads ?? Environment.ProcessorCount;
        if (threads < 1) throw new UserException($"backend threads: expected at least 1, got {threads}");
        return CpuKernelSets.Create(isa, threads);
    }

    /// <summary>The kernel set for a requested name (from options), else the environment's value, else the fastest supported.</summary>
    internal static KernelIsa Choose(string? requested, string? environment)
    {
        var supported = CpuKernelSets.Supported();
        string? name = !string.IsNullOrWhiteSpace(requested) ? requested : environment;
        if (string.IsNullOrWhiteSpace(name)) return supported[^1];
        string source = !string.IsNullOrWhiteSpace(requested) ? $"kernel set {requested}" : $"{KernelsVariable}={environment}";
        string key = name.Trim().ToLowerInvariant();
        if (key.StartsWith(CpuKernelSets.Device + "-", StringComparison.Ordinal)) key = key[(CpuKernelSets.Device.Length + 1)..];
        var isa = CpuKernelSets.Parse(key)
            ?? throw new UserException($"{source}: expected one of {string.Join(", ", CpuKernelSets.Names)}");
        if (!supported.Contains(isa))
            throw new UserException($"{source}: this CPU does not support it (supported: {string.Join(", ", supported.Select(CpuKernelSets.NameOf))})");
        return isa;
    }

    private static BackendVariant Variant(KernelIsa isa) =>
        new($"{CpuKernelSets.Device}-{CpuKernelSets.NameOf(isa)}", () => CpuKernelSets.Create(isa, Environment.ProcessorCount));
}
