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
            for (int j = 0; j < cols; j++)
            {
                float* s = src + (p * width + j) * ld;
                for (int kk = 0; kk < k; kk++) o[(long)kk * width + j] = s[kk];
            }
        }
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
