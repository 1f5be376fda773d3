using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// Small vector loops shared by the fast kernels, each with a 256-bit path (when <c>wide</c>) and a 128-bit
/// path, and a scalar tail.
/// </summary>
internal static unsafe class VectorOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* x, float* y, int n, bool wide)
    {
        int i = 0;
        float sum = 0;
        if (wide)
        {
            var s0 = Vector256<float>.Zero;
            var s1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), Vector256.Load(y + i + 8), s1);
            }
            for (; i + 8 <= n; i += 8) s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), s0);
            sum = Vector256.Sum(s0 + s1);
        }
        else
        {
            var s0 = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4) s0 = Vector128.MultiplyAddEstimate(Vector128.Load(x + i), Vector128.Load(y + i), s0);
            sum = Vector128.Sum(s0);
        }
        for (; i < n; i++) sum += x[i] * y[i];
        return sum;
    }

    /// <summary><c>y += a · x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, float* x, float* y, int n, bool wide)
    {
        int i = 0;
        if (wide)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }
        else
        {
            var va = Vector128.Create(a);
            for (; i + 4 <= n; i += 4) Vector128.MultiplyAddEstimate(va, Vector128.Load(x + i), Vector128.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    /// <summary><c>y += x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(float* x, float* y, int n, bool wide)
    {
        int i = 0;
        if (wide) for (; i + 8 <= n; i += 8) (Vector256.Load(y + i) + Vector256.Load(x + i)).Store(y + i);
        else for (; i + 4 <= n; i += 4) (Vector128.Load(y + i) + Vector128.Load(x + i)).Store(y + i);
        for (; i < n; i++) y[i] += x[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(float* x, int n, bool wide)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (wide && n >= 8)
        {
            var m = Vector256.Load(x);
            for (i = 8; i + 8 <= n; i += 8) m = Vector256.Max(m, Vector256.Load(x + i));
            for (int j = 0; j < 8; j++) max = MathF.Max(max, m[j]);
        }
        else if (n >= 4)
        {
            var m = Vector128.Load(x);
            for (i = 4; i + 4 <= n; i += 4) m = Vector128.Max(m, Vector128.Load(x + i));
            for (int j = 0; j < 4; j++) max = MathF.Max(max, m[j]);
        }
        for (; i < n; i++) max = MathF.Max(max, x[i]);
        return max;
    }

    /// <summary><c>dst = exp(x - shift)</c>; returns the sum of dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShifted(float* x, float shift, int n, float* dst, bool wide)
    {
        int i = 0;
        float sum = 0;
        if (wide)
        {
            var vs = Vector256.Create(shift);
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var e = SimdMath.Exp(Vector256.Load(x + i) - vs);
                e.Store(dst + i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        else
        {
            var vs = Vector128.Create(shift);
            var acc = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4)
            {
                var e = SimdMath.Exp(Vector128.Load(x + i) - vs);
                e.Store(dst + i);
                acc += e;
            }
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++) { dst[i] = MathF.Exp(x[i] - shift); sum += dst[i]; }
        return sum;
    }

    /// <summary><c>x *= s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* x, float s, int n, bool wide)
    {
        int i = 0;
        if (wide) for (; i + 8 <= n; i += 8) (Vector256.Load(x + i) * s).Store(x + i);
        else for (; i + 4 <= n; i += 4) (Vector128.Load(x + i) * s).Store(x + i);
        for (; i < n; i++) x[i] *= s;
    }
}
