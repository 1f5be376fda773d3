using System.Runtime.InteropServices;
using SharpTune.Numerics;

namespace SharpTune.Models;

/// <summary>Typed reads over <see cref="ITensorSource"/>: any stored dtype widened to float32.</summary>
public static class TensorSourceExtensions
{
    /// <summary>The tensor's info; a <see cref="KeyNotFoundException"/> naming the tensor when absent.</summary>
    public static TensorInfo GetInfo(this ITensorSource source, string name) =>
        source.TryGetInfo(name, out var info) ? info : throw new KeyNotFoundException($"no tensor named '{name}'");

    /// <summary>Widens tensor <paramref name="name"/> (F32, BF16 or F16) into <paramref name="destination"/> (exactly its element count).</summary>
    public static void CopyToSingle(this ITensorSource source, string name, Span<float> destination)
    {
        var info = source.GetInfo(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"tensor {name} has {info.ElementCount} elements, destination {destination.Length}", nameof(destination));
        var bytes = source.GetBytes(name);
        switch (info.DType)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case TensorDType.BF16:
                BFloat16.ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), destination);
                break;
            case TensorDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < halves.Length; i++) destination[i] = (float)halves[i];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), info.DType, "unknown dtype");
        }
    }

    /// <summary>Tensor <paramref name="name"/> widened to a new float32 array.</summary>
    public static float[] ReadSingles(this ITensorSource source, string name)
    {
        var result = new float[checked((int)source.GetInfo(name).ElementCount)];
        source.CopyToSingle(name, result);
        return result;
    }
}
