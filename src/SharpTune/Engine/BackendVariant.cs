namespace SharpTune.Engine;

/// <summary>
/// One backend this machine can run — a device and a kernel set, named as its <see cref="IComputeBackend.Name"/>
/// (<c>cpu-avx2</c>) — with the factory that builds it. The parity and gradient tests run every variant
/// <see cref="ComputeBackends.Available"/> lists against <see cref="ComputeBackends.Reference"/>.
/// </summary>
/// <param name="Name">The variant's name, equal to the created backend's <see cref="IComputeBackend.Name"/>.</param>
/// <param name="Create">Builds a new backend of this variant with the default options (every core).</param>
public sealed record BackendVariant(string Name, Func<IComputeBackend> Create)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}
