using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The AVX-512 GEMM microkernel: a tile of up to 6 rows × 64 columns kept in 24 accumulator registers (of the 32
/// zmm registers); per k it loads four B vectors from the panel (rows <c>ldb</c> apart: a packed panel, or a
/// row-major matrix read in place; BF16 widened to fp32 on the fly), broadcasts one A value per row and issues 24
/// FMAs — 10 loads per 24 FMAs, so the two FMA pipes, not the load ports, set the pace.
/// <c>c[r, 0..Width) (+)= Σ_k a[r·lda + k] · b[k·ldb + j]</c>.
/// </summary>
internal static unsafe class Avx512Microkernel
{
    /// <summary>Columns per tile, equal to the packed panel width.</summary>
    public const int Width = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TRows, TW>(float* a, nint lda, TW* b, nint ldb, int kc, float* c, nint ldc, bool load)
        where TRows : struct, IRowCount
        where TW : unmanaged
    {
        int rows = TRows.Count;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default, c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default, c40 = default, c41 = default, c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        if (load)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16); c02 = Vector512.Load(c + 32); c03 = Vector512.Load(c + 48);
            if (rows > 1) { c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + 16); c12 = Vector512.Load(c + ldc + 32); c13 = Vector512.Load(c + ldc + 48); }
            if (rows > 2) { c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + 16); c22 = Vector512.Load(c + 2 * ldc + 32); c23 = Vector512.Load(c + 2 * ldc + 48); }
            if (rows > 3) { c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + 16); c32 = Vector512.Load(c + 3 * ldc + 32); c33 = Vector512.Load(c + 3 * ldc + 48); }
            if (rows > 4) { c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + 16); c42 = Vector512.Load(c + 4 * ldc + 32); c43 = Vector512.Load(c + 4 * ldc + 48); }
            if (rows > 5) { c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + 16); c52 = Vector512.Load(c + 5 * ldc + 32); c53 = Vector512.Load(c + 5 * ldc + 48); }
        }
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (int k = 0; k < kc; k++)
        {
            Vector512<float> b0, b1, b2, b3;
            if (typeof(TW) == typeof(float))
            {
                b0 = Vector512.Load((float*)b);
                b1 = Vector512.Load((float*)b + 16);
                b2 = Vector512.Load((float*)b + 32);
                b3 = Vector512.Load((float*)b + 48);
            }
            else
            {
                var lo = Vector512.Load((ushort*)b);
                var hi = Vector512.Load((ushort*)b + 32);
                b0 = Vector512.ShiftLeft(Vector512.WidenLower(lo), 16).AsSingle();
                b1 = Vector512.ShiftLeft(Vector512.WidenUpper(lo), 16).AsSingle();
                b2 = Vector512.ShiftLeft(Vector512.WidenLower(hi), 16).AsSingle();
                b3 = Vector512.ShiftLeft(Vector512.WidenUpper(hi), 16).AsSingle();
            }
            b += ldb;
            var x = Vector512.Create(a0[k]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            if (rows > 1) { x = Vector512.Create(a1[k]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13); }
            if (rows > 2) { x = Vector512.Create(a2[k]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23); }
            if (rows > 3) { x = Vector512.Create(a3[k]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33); }
            if (rows > 4) { x = Vector512.Create(a4[k]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41); c42 = Vector512.FusedMultiplyAdd(x, b2, c42); c43 = Vector512.FusedMultiplyAdd(x, b3, c43); }
            if (rows > 5) { x = Vector512.Create(a5[k]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51); c52 = Vector512.FusedMultiplyAdd(x, b2, c52); c53 = Vector512.FusedMultiplyAdd(x, b3, c53); }
        }
        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32); c03.Store(c + 48);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 16); c12.Store(c + ldc + 32); c13.Store(c + ldc + 48); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16); c22.Store(c + 2 * ldc + 32); c23.Store(c + 2 * ldc + 48); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16); c32.Store(c + 3 * ldc + 32); c33.Store(c + 3 * ldc + 48); }
        if (rows > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16); c42.Store(c + 4 * ldc + 32); c43.Store(c + 4 * ldc + 48); }
        if (rows > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16); c52.Store(c + 5 * ldc + 32); c53.Store(c + 5 * ldc + 48); }
    }
}
