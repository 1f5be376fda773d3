using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The GEMM microkernel of an instruction set, by row count, and the single-thread building blocks the attention
/// kernels use on top of it: packing a strided matrix (or its transpose) into panels, and multiplying a row-major A
/// by packed panels. <c>C [m, n] (+)= A [m, k] · B [k, n]</c> with B as panels of <see cref="Width"/> columns,
/// panel p at <c>b + p·panelStride</c>, its rows <c>Width</c> apart.
/// </summary>
internal static unsafe class Microkernels
{
    private const int MaxWidth = 64;

    /// <summary>Columns per tile (= packed panel width) of <paramref name="isa"/>'s microkernel.</summary>
    public static int Width(KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => Avx512Microkernel.Width,
        KernelIsa.Avx2 => Avx2Microkernel.Width,
        KernelIsa.Vector128 => Vector128Microkernel.Width,
        _ => throw new ArgumentOutOfRangeException(nameof(isa)),
    };

    /// <summary>One tile: <c>c[r, 0..Width) (+)= Σ_k a[r·lda + k] · b[k·ldb + j]</c> for <paramref name="rows"/> ≤ 6 rows.</summary>
    public static void Tile<TW>(KernelIsa isa, int rows, float* a, nint lda, TW* b, nint ldb, int kc, float* c, nint ldc, bool load) where TW : unmanaged
    {
        switch (isa)
        {
            case KernelIsa.Avx512:
                switch (rows)
                {
                    case 6: Avx512Microkernel.Run<Rows6, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 5: Avx512Microkernel.Run<Rows5, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 4: Avx512Microkernel.Run<Rows4, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 3: Avx512Microkernel.Run<Rows3, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 2: Avx512Microkernel.Run<Rows2, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    default: Avx512Microkernel.Run<Rows1, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                }
                break;
            case KernelIsa.Avx2:
                switch (rows)
                {
                    case 6: Avx2Microkernel.Run<Rows6, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 5: Avx2Microkernel.Run<Rows5, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 4: Avx2Microkernel.Run<Rows4, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 3: Avx2Microkernel.Run<Rows3, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 2: Avx2Microkernel.Run<Rows2, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    default: Avx2Microkernel.Run<Rows1, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                }
                break;
            default:
                switch (rows)
                {
                    case 6: Vector128Microkernel.Run<Rows6, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 5: Vector128Microkernel.Run<Rows5, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 4: Vector128Microkernel.Run<Rows4, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 3: Vector128Microkernel.Run<Rows3, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    case 2: Vector128Microkernel.Run<Rows2, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                    default: Vector128Microkernel.Run<Rows1, TW>(a, lda, b, ldb, kc, c, ldc, load); break;
                }
                break;
        }
    }

    /// <summary>Panels of <c>B [k, n]</c> with <c>B[kk, j] = src[kk·ld + j]</c> (a row-major block), zero-padded to whole panels.</summary>
    public static void PackRows(float* src, nint ld, int k, int n, int width, float* dst, long panelStride)
    {
        for (int p = 0; p * width < n; p++)
        {
            int cols = Math.Min(width, n - p * width);
            float* o = dst + p * panelStride;
            for (int kk = 0; kk < k; kk++)
            {
                float* s = src + kk * ld + p * width;
                float* r = o + (long)kk * width;
                int j = 0;
                for (; j < cols; j++) r[j] = s[j];
                for (; j < width; j++) r[j] = 0f;
            }
        }
    }

    /// <summary>Panels of <c>B [k, n]</c> with <c>B[kk, j] = src[j·ld + kk]</c> (the transpose of a row-major <c>[n, k]</c> block), zero-padded.</summary>
    public static void PackColumns(float* src, nint ld, int k, int n, int width, float* dst, long panelStride)
    {
        for (int p = 0; p * width < n; p++)
        {
            int cols = Math.Min(width, n - p * width);
            float* o = dst + p * panelStride;
            if (cols < width) new Span<float>(o, k * width).Clear();
            Transpose(src + p * width * ld, ld, cols, k, o, width);
        }
    }

    /// <summary>
    /// <c>dst[c·ldd + r] = src[r·lds + c]</c> for <paramref name="rows"/> × <paramref name="cols"/>: whole 8 × 8 blocks with
    /// an AVX unpack/shuffle/permute transpose, the edges element by element.
    /// </summary>
    public static void Transpose(float* src, nint lds, int rows, int cols, float* dst, nint ldd)
    {
        int r8 = Avx.IsSupported ? rows / 8 * 8 : 0, c8 = Avx.IsSupported ? cols / 8 * 8 : 0;
        for (int r = 0; r < r8; r += 8)
            for (int c = 0; c < c8; c += 8)
                Transpose8(src + r * lds + c, lds, dst + c * ldd + r, ldd);
        for (int r = 0; r < rows; r++)
        {
            float* s = src + r * lds;
            for (int c = r < r8 ? c8 : 0; c < cols; c++) dst[c * ldd + r] = s[c];
        }
    }

    /// <summary>One 8 × 8 block: row i of src (8 floats at <c>src + i·lds</c>) becomes column i of dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + lds), r2 = Vector256.Load(src + 2 * lds), r3 = Vector256.Load(src + 3 * lds);
        Vector256<float> r4 = Vector256.Load(src + 4 * lds), r5 = Vector256.Load(src + 5 * lds), r6 = Vector256.Load(src + 6 * lds), r7 = Vector256.Load(src + 7 * lds);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + ldd);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * ldd);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * ldd);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * ldd);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * ldd);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * ldd);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * ldd);
    }

    /// <summary>
    /// <c>C [m, n] (+)= A [m, k] · B</c> on one thread: A row-major (<paramref name="lda"/>), B packed panels, C row-major
    /// (<paramref name="ldc"/>). The right edge goes through a stack tile, so C beyond n is never written.
    /// </summary>
    public static void Multiply(KernelIsa isa, float* a, nint lda, int m, int k, float* b, long panelStride, int n, float* c, nint ldc, bool accumulate)
    {
        int width = Width(isa);
        float* tile = stackalloc float[6 * MaxWidth];
        for (int p = 0; p * width < n; p++)
        {
            int cols = Math.Min(width, n - p * width);
            float* bp = b + p * panelStride;
            for (int i = 0; i < m; i += 6)
            {
                int rows = Math.Min(6, m - i);
                float* ci = c + i * ldc + p * width;
                if (cols == width)
                {
                    Tile(isa, rows, a + i * lda, lda, bp, width, k, ci, ldc, accumulate);
                    continue;
                }
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < width; j++)
                        tile[r * width + j] = accumulate && j < cols ? ci[r * ldc + j] : 0f;
                Tile(isa, rows, a + i * lda, lda, bp, width, k, tile, width, accumulate);
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < cols; j++)
                        ci[r * ldc + j] = tile[r * width + j];
            }
        }
    }
}
