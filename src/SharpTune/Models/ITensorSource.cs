using SharpTune.Numerics;

namespace SharpTune.Models;

/// <summary>Name, element type and shape of one checkpoint tensor.</summary>
/// <param name="Name">The Hugging Face tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">Element type as stored.</param>
/// <param name="Shape">Dimensions, outermost first (HF linear weights are <c>[out_features, in_features]</c>).</param>
public sealed record TensorInfo(string Name, TensorDType DType, long[] Shape)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Number of bytes of the raw data.</summary>
    public long ByteLength => ElementCount * DType.SizeOf();
}

/// <summary>
/// Read access to named checkpoint tensors as raw little-endian bytes (a safetensors file, a set of shards, or memory).
/// Implementations are safe for concurrent reads.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>All tensor names, in a stable order.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Looks a tensor up by name.</summary>
    bool TryGetInfo(string name, out TensorInfo info);

    /// <summary>The raw bytes of a tensor (valid until the source is disposed); throws when the name is unknown.</summary>
    ReadOnlySpan<byte> GetBytes(string name);

    /// <summary>
    /// A hint that tensor <paramref name="name"/> will not be read again (its bytes have been copied into the engine's
    /// own layout): a memory-mapped file drops the tensor's pages from this process, so that loading a model does not
    /// hold the file and the packed copy at once. Reading it again later is still correct, only slower.
    /// </summary>
    void Release(string name) { }
}
