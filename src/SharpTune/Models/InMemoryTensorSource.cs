using System.Runtime.InteropServices;
using SharpTune.Numerics;

namespace SharpTune.Models;

/// <summary>An <see cref="ITensorSource"/> over tensors held in managed arrays (tests, freshly initialized models).</summary>
public sealed class InMemoryTensorSource : ITensorSource
{
    private readonly Dictionary<string, (TensorInfo Info, byte[] Data)> _tensors = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _names;

    /// <summary>Adds a float32 tensor.</summary>
    public void Add(string name, long[] shape, ReadOnlySpan<float> values) =>
        Add(name, TensorDType.F32, shape, MemoryMarshal.AsBytes(values));

    /// <summary>Adds a tensor from raw little-endian bytes.</summary>
    public void Add(string name, TensorDType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        var info = new TensorInfo(name, dtype, shape);
        if (info.ByteLength != data.Length)
            throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] × {dtype} needs {info.ByteLength} bytes, got {data.Length}");
        if (!_tensors.ContainsKey(name)) _names.Add(name);
        _tensors[name] = (info, data.ToArray());
    }

    /// <summary>Adds a tensor whose bytes this source takes over without copying (the caller must not change them).</summary>
    internal void AddOwned(string name, TensorDType dtype, long[] shape, byte[] data)
    {
        var info = new TensorInfo(name, dtype, shape);
        if (info.ByteLength != data.Length)
            throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] × {dtype} needs {info.ByteLength} bytes, got {data.Length}");
        if (!_tensors.ContainsKey(name)) _names.Add(name);
        _tensors[name] = (info, data);
    }

    /// <inheritdoc />
    public bool TryGetInfo(string name, out TensorInfo info)
    {
        if (_tensors.TryGetValue(name, out var t)) { info = t.Info; return true; }
        info = null!;
        return false;
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetBytes(string name) =>
        _tensors.TryGetValue(name, out var t) ? t.Data : throw new KeyNotFoundException($"no tensor named '{name}'");

    /// <inheritdoc />
    public void Dispose() { }
}
