namespace SharpTune.Engine;

/// <summary>
/// A named group of backend allocations with one lifetime (parameters, activations, KV cache). Everything is
/// allocated when a model or cache is built; kernels never allocate. Disposing frees the whole group.
/// </summary>
public abstract class Arena : IDisposable
{
    /// <summary>Creates the arena.</summary>
    protected Arena(string name) => Name = name;

    /// <summary>What the arena holds, for diagnostics.</summary>
    public string Name { get; }

    /// <summary>Bytes allocated so far.</summary>
    public long Bytes { get; protected set; }

    /// <summary>Allocates a zero-filled matrix <c>[rows, cols]</c>.</summary>
    public abstract Tensor Allocate(ElementType type, int rows, int cols);

    /// <inheritdoc />
    public abstract void Dispose();
}
