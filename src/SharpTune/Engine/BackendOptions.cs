namespace SharpTune.Engine;

/// <summary>What <see cref="ComputeBackends.Create"/> builds; every field is optional.</summary>
public sealed record BackendOptions
{
    /// <summary>
    /// The backend variant by name: a full name as <see cref="IComputeBackend.Name"/> reports it (<c>cpu-avx2</c>) or a
    /// kernel set alone (<c>avx512|avx2|vector128|scalar</c>). Null: the <c>SHARPTUNE_KERNELS</c> environment variable if
    /// set, else the fastest variant this machine runs.
    /// </summary>
    public string? Kernels { get; init; }

    /// <summary>Host threads a CPU backend uses inside its kernels; null: every core.</summary>
    public int? Threads { get; init; }
}
