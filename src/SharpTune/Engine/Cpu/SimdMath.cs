using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// Vectorized exp (Cephes' expf: range reduction by ln 2 in two parts, degree-6 polynomial, scale by 2^n);
/// relative error about 2e-7 on [-87, 88], which is below the fp32 rounding of what is summed afterwards.
/// </summary>
internal static class SimdMath
{
    private const float Log2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    private const float Hi = 88.3762626647949f, Lo = -87.3365478515625f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        var fx = Vector256.Floor(x * Log2E + Vector256.Create(0.5f));
        x = x - fx * C1 - fx * C2;
        var z = x * x;
        var y = Vector256.Create(P0);
        y = y * x + Vector256.Create(P1);
        y = y * x + Vector256.Create(P2);
        y = y * x + Vector256.Create(P3);
        y = y * x + Vector256.Create(P4);
        y = y * x + Vector256.Create(P5);
        y = y * z + x + Vector256<float>.One;
        var pow2 = Vector256.ShiftLeft(Vector256.ConvertToInt32(fx) + Vector256.Create(127), 23).AsSingle();
        return y * pow2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(Lo)), Vector128.Create(Hi));
        var fx = Vector128.Floor(x * Log2E + Vector128.Create(0.5f));
        x = x - fx * C1 - fx * C2;
        var z = x * x;
        var y = Vector128.Create(P0);
        y = y * x + Vector128.Create(P1);
        y = y * x + Vector128.Create(P2);
        y = y * x + Vector128.Create(P3);
        y = y * x + Vector128.Create(P4);
        y = y * x + Vector128.Create(P5);
        y = y * z + x + Vector128<float>.One;
        var pow2 = Vector128.ShiftLeft(Vector128.ConvertToInt32(fx) + Vector128.Create(127), 23).AsSingle();
        return y * pow2;
    }
}
