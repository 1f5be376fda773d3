namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The blocked GEMM driver: <c>C [M, N] (+)= α · A [M, K] · B [K, N] (+ bias)</c> on the microkernel of one
/// instruction set. B is either a packed weight's panels read in place (the forward <c>x · Wᵀ</c>) or packed per call
/// into per-thread panel buffers (a weight used untransposed for <c>dy · W</c>, or any strided matrix); A is read in
/// place when row-major and unscaled, else packed per block. The threads split the panels (output columns), or the
/// rows when there are too few panels; each walks K in blocks of <see cref="KBlock"/> (a kc × Width panel slice
/// stays in L1) and M in blocks of <see cref="MBlock"/> rows (the A block stays in L2), calling the microkernel on
/// 6-row tiles. Partial tiles at the right edge go through a small stack tile. One instance per backend; not
/// reentrant. Packing buffers grow to the largest job seen and are then reused.
/// </summary>
internal sealed unsafe class PackedGemm(KernelIsa isa, WorkerPool pool) : IParallelWork
{
    public const int KBlock = 256;
    public const int MBlock = 144; // multiple of 6
    private const int MaxWidth = 32;

    private GemmJob _job;
    private bool _splitRows;
    private readonly float[][] _bPack = new float[pool.Threads][];
    private readonly float[][] _aPack = new float[pool.Threads][];

    public int Width { get; } = isa switch
    {
        KernelIsa.Avx512 => Avx512Microkernel.Width,
        KernelIsa.Avx2 => Avx2Microkernel.Width,
        KernelIsa.Vector128 => Vector128Microkernel.Width,
        _ => throw new ArgumentOutOfRangeException(nameof(isa)),
    };

    /// <summary>The forward <c>c [m, out] (+)= a [m, in] · Wᵀ (+ bias)</c> on the weight's panels.</summary>
    public void Run(float* a, int m, CpuLinearWeight w, float* bias, float* c, bool accumulate)
    {
        if (w.PanelWidth != Width) throw new InvalidOperationException($"weight packed for width {w.PanelWidth}, kernel needs {Width}");
        Run(new GemmJob
        {
            A = a, ARow = w.InFeatures, ACol = 1, M = m, N = w.OutFeatures, K = w.InFeatures, Alpha = 1f,
            Source = GemmSource.WeightTransposed, Weight = w, Bias = bias, C = c, Accumulate = accumulate,
        });
    }

    /// <summary>Runs one job on the worker pool.</summary>
    public void Run(in GemmJob job)
    {
        if (job.Weight is { } w && w.PanelWidth != Width) throw new InvalidOperationException($"weight packed for width {w.PanelWidth}, kernel needs {Width}");
        if (job.M == 0 || job.N == 0) return;
        if (job.K == 0)
        {
            // An empty sum: C = bias (or unchanged when accumulating).
            for (int i = 0; i < job.M; i++)
                for (int j = 0; j < job.N; j++)
                {
                    float* cell = job.C + (long)i * job.N + j;
                    float add = job.Bias != null ? job.Bias[j] : 0f;
                    *cell = job.Accumulate ? *cell + add : add;
                }
            return;
        }
        _job = job;
        // A part must have enough work to pay for the hand-off (~1-2 µs).
        long flops = 2L * job.M * job.K * job.N;
        int panels = (job.N + Width - 1) / Width;
        int parts = flops < 200_000 ? 1 : pool.Threads;
        // Few panels (a LoRA rank, say) leave the column split idle: split the rows instead.
        _splitRows = parts > 1 && panels < 2 * parts && job.M >= 12 * parts;
        if (parts > 1 && !_splitRows && panels < parts) parts = 1;
        pool.Run(this, parts);
        _job = default;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        ref readonly var job = ref _job;
        int n = job.N, k = job.K, width = Width, panels = (n + width - 1) / width;
        int p0 = 0, p1 = panels, r0 = 0, r1 = job.M;
        if (_splitRows)
        {
            int tiles = (job.M + 5) / 6;
            r0 = (int)((long)tiles * part / parts) * 6;
            r1 = Math.Min(job.M, (int)((long)tiles * (part + 1) / parts) * 6);
        }
        else
        {
            p0 = (int)((long)panels * part / parts);
            p1 = (int)((long)panels * (part + 1) / parts);
        }
        if (p0 == p1 || r0 >= r1) return;
        bool prepacked = job.Source == GemmSource.WeightTransposed;
        bool bf16 = prepacked && job.Weight!.Storage == ElementType.BF16;
        float* bPack = null, aPack = null;
        fixed (float* bp = Buffer(_bPack, part, prepacked ? 0 : (long)(p1 - p0) * Math.Min(KBlock, k) * width))
        fixed (float* ap = Buffer(_aPack, part, job.AInPlace ? 0 : (long)MBlock * Math.Min(KBlock, k)))
        {
            bPack = bp;
            aPack = ap;
            float* tile = stackalloc float[6 * MaxWidth];
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - k0);
                bool load = job.Accumulate || k0 > 0;
                if (!prepacked)
                    for (int p = p0; p < p1; p++)
                        PackB(job, k0, kc, p * width, Math.Min(width, n - p * width), bPack + (long)(p - p0) * kc * width);
                for (int m0 = r0; m0 < r1; m0 += MBlock)
                {
                    int mEnd = Math.Min(r1, m0 + MBlock);
                    if (!job.AInPlace) PackA(job, m0, mEnd - m0, k0, kc, aPack);
                    for (int p = p0; p < p1; p++)
                    {
                        void* bData;
                        long bOffset;
                        if (prepacked) { bData = job.Weight!.Data; bOffset = ((long)p * k + k0) * width; }
                        else { bData = bPack; bOffset = (long)(p - p0) * kc * width; }
                        int cols = Math.Min(width, n - p * width);
                        for (int i = m0; i < mEnd; i += 6)
                        {
                            int rows = Math.Min(6, mEnd - i);
                            float* a;
                            nint lda;
                            if (job.AInPlace) { a = job.A + i * job.ARow + k0; lda = (nint)job.ARow; }
                            else { a = aPack + (long)(i - m0) * kc; lda = kc; }
                            float* c = job.C + (long)i * n + (long)p * width;
                            if (cols == width)
                            {
                                Tile(rows, a, lda, bf16, bData, bOffset, kc, c, n, load);
                                continue;
                            }
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < width; j++)
                                    tile[r * width + j] = load && j < cols ? c[(long)r * n + j] : 0f;
                            Tile(rows, a, lda, bf16, bData, bOffset, kc, tile, width, load);
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < cols; j++)
                                    c[(long)r * n + j] = tile[r * width + j];
                        }
                    }
                }
            }
        }
        if (job.Bias != null)
        {
            int j0 = p0 * width, j1 = Math.Min(n, p1 * width);
            for (int i = r0; i < r1; i++)
            {
                float* row = job.C + (long)i * n;
                for (int j = j0; j < j1; j++) row[j] += job.Bias[j];
            }
        }
    }

    private static float[] Buffer(float[][] buffers, int part, long length)
    {
        if (length == 0) return buffers[part] ??= GC.AllocateUninitializedArray<float>(16, pinned: true);
        if (buffers[part] is null || buffers[part].Length < length)
            buffers[part] = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        return buffers[part];
    }

    /// <summary>Rows <c>m0 .. m0+rows</c>, columns <c>k0 .. k0+kc</c> of α·A into <c>dst [rows, kc]</c>.</summary>
    private static void PackA(in GemmJob job, int m0, int rows, int k0, int kc, float* dst)
    {
        float alpha = job.Alpha;
        if (job.ARow == 1)
        {
            // A transposed in memory: walk each source row (one k) contiguously.
            for (int kk = 0; kk < kc; kk++)
            {
                float* src = job.A + (k0 + kk) * job.ACol + m0;
                for (int r = 0; r < rows; r++) dst[(long)r * kc + kk] = alpha * src[r];
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* src = job.A + (m0 + r) * job.ARow + k0 * job.ACol;
            float* o = dst + (long)r * kc;
            for (int kk = 0; kk < kc; kk++) o[kk] = alpha * src[kk * job.ACol];
        }
    }

    /// <summary>Rows <c>k0 .. k0+kc</c>, columns <c>n0 .. n0+cols</c> of B into a zero-padded panel <c>dst [kc, Width]</c>.</summary>
    private void PackB(in GemmJob job, int k0, int kc, int n0, int cols, float* dst)
    {
        int width = Width;
        if (cols < width) new Span<float>(dst, kc * width).Clear();
        if (job.Source == GemmSource.Weight)
        {
            // B[kk, n] = W[kk, n]: in the panel layout W[row, col] sits at ((row / width)·in + col)·width + row % width,
            // so for a fixed column the rows of one weight panel are contiguous.
            var w = job.Weight!;
            long inF = w.InFeatures;
            for (int j = 0; j < cols; j++)
            {
                int col = n0 + j;
                for (int kk = 0; kk < kc;)
                {
                    int row = k0 + kk, lane = row % width, run = Math.Min(width - lane, kc - kk);
                    long src = ((long)(row / width) * inF + col) * width + lane;
                    if (w.Storage == ElementType.BF16)
                    {
                        ushort* s = (ushort*)w.Data + src;
                        for (int q = 0; q < run; q++) dst[(long)(kk + q) * width + j] = BitConverter.Int32BitsToSingle(s[q] << 16);
                    }
                    else
                    {
                        float* s = (float*)w.Data + src;
                        for (int q = 0; q < run; q++) dst[(long)(kk + q) * width + j] = s[q];
                    }
                    kk += run;
                }
            }
            return;
        }
        if (job.BCol == 1)
        {
            for (int kk = 0; kk < kc; kk++)
                new ReadOnlySpan<float>(job.B + (k0 + kk) * job.BRow + n0, cols).CopyTo(new Span<float>(dst + (long)kk * width, cols));
            return;
        }
        for (int j = 0; j < cols; j++)
        {
            float* src = job.B + (n0 + j) * job.BCol + k0 * job.BRow;
            for (int kk = 0; kk < kc; kk++) dst[(long)kk * width + j] = src[kk * job.BRow];
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
