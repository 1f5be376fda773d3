namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The blocked GEMM driver over packed weight panels: <c>c [m, N] (+)= a [m, K] · Wᵀ (+ bias)</c>. The two threads
/// split the panels (output columns); each walks K in blocks of <see cref="KBlock"/> (a kc × Width panel slice stays
/// in L1) and M in blocks of <see cref="MBlock"/> rows (the A block stays in L2), calling the microkernel on 6-row
/// tiles. Partial tiles at the right edge go through a small stack tile. One instance per backend; not reentrant.
/// </summary>
internal sealed unsafe class PackedGemm(KernelIsa isa, WorkerPool pool) : IParallelWork
{
    public const int KBlock = 256;
    public const int MBlock = 144; // multiple of 6
    private const int MaxWidth = 32;

    private float* _a;
    private float* _c;
    private float* _bias;
    private CpuLinearWeight _w = null!;
    private int _m;
    private bool _accumulate;

    public int Width { get; } = isa switch
    {
        KernelIsa.Avx512 => Avx512Microkernel.Width,
        KernelIsa.Avx2 => Avx2Microkernel.Width,
        KernelIsa.Vector128 => Vector128Microkernel.Width,
        _ => throw new ArgumentOutOfRangeException(nameof(isa)),
    };

    public void Run(float* a, int m, CpuLinearWeight w, float* bias, float* c, bool accumulate)
    {
        if (w.PanelWidth != Width) throw new InvalidOperationException($"weight packed for width {w.PanelWidth}, kernel needs {Width}");
        if (m == 0) return;
        _a = a; _c = c; _bias = bias; _w = w; _m = m; _accumulate = accumulate;
        // A part must have enough work to pay for the hand-off (~1-2 µs).
        long flops = 2L * m * w.InFeatures * w.OutFeatures;
        int parts = flops < 200_000 || w.Panels < 2 ? 1 : pool.Threads;
        pool.Run(this, parts);
        _w = null!;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        var w = _w;
        int panels = w.Panels, n = w.OutFeatures, k = w.InFeatures, width = Width;
        int p0 = (int)((long)panels * part / parts), p1 = (int)((long)panels * (part + 1) / parts);
        if (p0 == p1) return;
        bool bf16 = w.Storage == ElementType.BF16;
        float* tile = stackalloc float[6 * MaxWidth];
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int kc = Math.Min(KBlock, k - k0);
            bool load = _accumulate || k0 > 0;
            for (int m0 = 0; m0 < _m; m0 += MBlock)
            {
                int mEnd = Math.Min(_m, m0 + MBlock);
                for (int p = p0; p < p1; p++)
                {
                    long bOffset = ((long)p * k + k0) * width;
                    int cols = Math.Min(width, n - p * width);
                    for (int i = m0; i < mEnd; i += 6)
                    {
                        int rows = Math.Min(6, mEnd - i);
                        float* a = _a + (long)i * k + k0;
                        float* c = _c + (long)i * n + (long)p * width;
                        if (cols == width)
                        {
                            Tile(rows, a, k, bf16, w.Data, bOffset, kc, c, n, load);
                            continue;
                        }
                        for (int r = 0; r < rows; r++)
                            for (int j = 0; j < width; j++)
                                tile[r * width + j] = load && j < cols ? c[(long)r * n + j] : 0f;
                        Tile(rows, a, k, bf16, w.Data, bOffset, kc, tile, width, load);
                        for (int r = 0; r < rows; r++)
                            for (int j = 0; j < cols; j++)
                                c[(long)r * n + j] = tile[r * width + j];
                    }
                }
            }
        }
        if (_bias != null)
        {
            int j0 = p0 * width, j1 = Math.Min(n, p1 * width);
            for (int i = 0; i < _m; i++)
            {
                float* row = _c + (long)i * n;
                for (int j = j0; j < j1; j++) row[j] += _bias[j];
            }
        }
    }

    private void Tile(int rows, float* a, nint lda, bool bf16, void* data, long bOffset, int kc, float* c, nint ldc, bool load)
    {
        if (bf16) Tile(rows, a, lda, (ushort*)data + bOffset, kc, c, ldc, load);
        else Tile(rows, a, lda, (float*)data + bOffset, kc, c, ldc, load);
    }

    private void Tile<TW>(int rows, float* a, nint lda, TW* b, int kc, float* c, nint ldc, bool load) where TW : unmanaged
    {
        switch (isa)
        {
            case KernelIsa.Avx512:
                switch (rows)
                {
                    case 6: Avx512Microkernel.Run<Rows6, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 5: Avx512Microkernel.Run<Rows5, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 4: Avx512Microkernel.Run<Rows4, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 3: Avx512Microkernel.Run<Rows3, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 2: Avx512Microkernel.Run<Rows2, TW>(a, lda, b, kc, c, ldc, load); break;
                    default: Avx512Microkernel.Run<Rows1, TW>(a, lda, b, kc, c, ldc, load); break;
                }
                break;
            case KernelIsa.Avx2:
                switch (rows)
                {
                    case 6: Avx2Microkernel.Run<Rows6, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 5: Avx2Microkernel.Run<Rows5, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 4: Avx2Microkernel.Run<Rows4, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 3: Avx2Microkernel.Run<Rows3, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 2: Avx2Microkernel.Run<Rows2, TW>(a, lda, b, kc, c, ldc, load); break;
                    default: Avx2Microkernel.Run<Rows1, TW>(a, lda, b, kc, c, ldc, load); break;
                }
                break;
            default:
                switch (rows)
                {
                    case 6: Vector128Microkernel.Run<Rows6, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 5: Vector128Microkernel.Run<Rows5, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 4: Vector128Microkernel.Run<Rows4, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 3: Vector128Microkernel.Run<Rows3, TW>(a, lda, b, kc, c, ldc, load); break;
                    case 2: Vector128Microkernel.Run<Rows2, TW>(a, lda, b, kc, c, ldc, load); break;
                    default: Vector128Microkernel.Run<Rows1, TW>(a, lda, b, kc, c, ldc, load); break;
                }
                break;
        }
    }
}
