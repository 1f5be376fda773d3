using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The AVX2 + FMA GEMM microkernel: a tile of up to 6 rows × 16 columns kept in 12 accumulator registers;
/// per k it loads two B vectors from the panel (rows <c>ldb</c> apart: a packed panel, or a row-major matrix read in place; BF16 widened to fp32 on the fly), broadcasts one A value
/// per row and issues 12 FMAs. <c>c[r, 0..Width) (+)= Σ_k a[r·lda + k] · b[k·ldb + j]</c>.
/// </summary>
internal static unsafe class Avx2Microkernel
{
    /// <summary>Columns per tile, equal to the packed panel width.</summary>
    public const int Width = 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TRows, TW>(float* a, nint lda, TW* b, nint ldb, int kc, float* c, nint ldc, bool load)
        where TRows : struct, IRowCount
        where TW : unmanaged
    {
        int rows = TRows.Count;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        if (load)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            if (rows > 1) { c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8); }
            if (rows > 2) { c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8); }
            if (rows > 3) { c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8); }
            if (rows > 4) { c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8); }
            if (rows > 5) { c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8); }
        }
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (int k = 0; k < kc; k++)
        {
            Vector256<float> b0, b1;
            if (typeof(TW) == typeof(float))
            {
                b0 = Vector256.Load((float*)b);
                b1 = Vector256.Load((float*)b + 8);
            }
            else
            {
                var raw = Vector256.Load((ushort*)b);
                b0 = Vector256.ShiftLeft(Vector256.WidenLower(raw), 16).AsSingle();
                b1 = Vector256.ShiftLeft(Vector256.WidenUpper(raw), 16).AsSingle();
            }
            b += ldb;
            var x = Vector256.Create(a0[k]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            if (rows > 1) { x = Vector256.Create(a1[k]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11); }
            if (rows > 2) { x = Vector256.Create(a2[k]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21); }
            if (rows > 3) { x = Vector256.Create(a3[k]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31); }
            if (rows > 4) { x = Vector256.Create(a4[k]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41); }
            if (rows > 5) { x = Vector256.Create(a5[k]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51); }
        }
        c00.Store(c); c01.Store(c + 8);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 8); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8); }
        if (rows > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8); }
        if (rows > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8); }
    }
}
