using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The AVX-512 microkernel for products with at most 16 columns (a LoRA rank): a tile of 12 rows × 16 columns in 12
/// zmm accumulators; per k one B vector (a [k, 16] panel) and 12 broadcasts feed 12 FMAs. The 64-wide kernel would
/// spend three quarters of its FMAs on padding here. <c>c[r, 0..16) (+)= Σ_k a[r·lda + k] · b[16·k + j]</c>.
/// </summary>
internal static unsafe class Avx512NarrowMicrokernel
{
    /// <summary>Columns per tile.</summary>
    public const int Width = 16;

    /// <summary>Rows per tile.</summary>
    public const int Rows = 12;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, nint lda, float* b, int kc, float* c, nint ldc, bool load)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        if (load)
        {
            c0 = Vector512.Load(c);
            c1 = Vector512.Load(c + ldc);
            c2 = Vector512.Load(c + 2 * ldc);
            c3 = Vector512.Load(c + 3 * ldc);
            c4 = Vector512.Load(c + 4 * ldc);
            c5 = Vector512.Load(c + 5 * ldc);
            c6 = Vector512.Load(c + 6 * ldc);
            c7 = Vector512.Load(c + 7 * ldc);
            c8 = Vector512.Load(c + 8 * ldc);
            c9 = Vector512.Load(c + 9 * ldc);
            c10 = Vector512.Load(c + 10 * ldc);
            c11 = Vector512.Load(c + 11 * ldc);
        }
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda, a8 = a + 8 * lda, a9 = a + 9 * lda, a10 = a + 10 * lda, a11 = a + 11 * lda;
        for (int k = 0; k < kc; k++)
        {
            var bv = Vector512.Load(b);
            b += Width;
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[k]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[k]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[k]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[k]), bv, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[k]), bv, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[k]), bv, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[k]), bv, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[k]), bv, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a8[k]), bv, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a9[k]), bv, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a10[k]), bv, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a11[k]), bv, c11);
        }
        c0.Store(c);
        c1.Store(c + ldc);
        c2.Store(c + 2 * ldc);
        c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc);
        c5.Store(c + 5 * ldc);
        c6.Store(c + 6 * ldc);
        c7.Store(c + 7 * ldc);
        c8.Store(c + 8 * ldc);
        c9.Store(c + 9 * ldc);
        c10.Store(c + 10 * ldc);
        c11.Store(c + 11 * ldc);
    }
}
