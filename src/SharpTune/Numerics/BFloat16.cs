using System.Runtime.CompilerServices;

namespace SharpTune.Numerics;

/// <summary>
/// bfloat16 conversions as PyTorch does them: widening is exact (shift into the top half of a float32);
/// narrowing rounds to nearest, ties to even, and keeps NaN a (quiet) NaN.
/// </summary>
public static class BFloat16
{
    /// <summary>Widens bfloat16 bits to float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Rounds float32 to the nearest bfloat16 (ties to even), as <c>tensor.to(torch.bfloat16)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFFu) > 0x7F80_0000u) return (ushort)((u >> 16) | 0x0040); // NaN stays NaN (quiet)
        uint rounding = 0x7FFFu + ((u >> 16) & 1u);
        return (ushort)((u + rounding) >> 16);
    }

    /// <summary>Widens a span of bfloat16 bits into float32.</summary>
    public static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination too short", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = ToSingle(source[i]);
    }

    /// <summary>Rounds a span of float32 into bfloat16 bits.</summary>
    public static void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination too short", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = FromSingle(source[i]);
    }
}
