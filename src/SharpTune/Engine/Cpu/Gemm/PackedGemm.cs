using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// The blocked GEMM driver: <c>C [M, N] (+)= α · A [M, K] · B [K, N] (+ bias)</c> on the microkernel of one
/// instruction set. B is read in place where the microkernel can (a packed weight's panels for the forward
/// <c>x · Wᵀ</c>; a row-major matrix, one row every <c>ldb</c>), else packed per call into per-thread panel buffers
/// (a weight used untransposed for <c>dy · W</c>, a transposed matrix, a partial last panel); A is read in place when
/// row-major, else packed per block; α goes into whichever operand is packed. A product with fewer columns than a
/// panel (a LoRA rank) is computed transposed, <c>Cᵀ = Bᵀ · Aᵀ</c>, so that the long side fills the panels. The
/// threads split the panels (output columns), or the rows when there are too few panels; each walks K in blocks of
/// <see cref="KBlock"/> (a kc × Width panel slice stays in L1) and M in blocks of <see cref="MBlock"/> rows (the A
/// block stays in L2), calling the microkernel on 6-row tiles. Partial tiles at the right edge go through a small
/// stack tile. One instance per backend; not reentrant. Buffers grow to the largest job seen and are then reused.
/// </summary>
internal sealed unsafe class PackedGemm(KernelIsa isa, WorkerPool pool) : IParallelWork
{
    public const int KBlock = 768;
    public const int MBlock = 456; // multiple of 6
    private const int MaxWidth = 64;

    private GemmJob _job;
    private bool _splitRows, _packA, _alphaInB;
    private readonly float[][] _bPack = new float[pool.Threads][];
    private readonly float[][] _aPack = new float[pool.Threads][];
    private readonly float[][] _lowRankPack = new float[pool.Threads][];
    private float[] _transposed = [];

    public int Width { get; } = Microkernels.Width(isa);

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
        // A narrow product whose A is stored transposed (dB = s·dyᵀ·u) runs as Cᵀ = op(B)ᵀ·op(A)ᵀ: the long operand then
        // becomes a row-major B read in place, and the narrow side becomes the (cheaply packed) rows.
        if (job.Source == GemmSource.Matrix && job.N < Width && job.M > job.N && job.ARow == 1 && job.ACol != 1 && !job.HasLowRank)
        {
            RunTransposed(job);
            return;
        }
        if (job.Source == GemmSource.Weight && job.M <= Width && job.Weight!.Storage == ElementType.F32 && !job.HasLowRank)
        {
            RunFewRowsInputGradient(job);
            return;
        }
        if (isa == KernelIsa.Avx512 && job.Source == GemmSource.Matrix && job.N <= Avx512NarrowMicrokernel.Width && job.M >= 2 * Avx512NarrowMicrokernel.Rows && !job.HasLowRank)
        {
            RunNarrow(job);
            return;
        }
        RunDirect(job);
    }

    private float[] _narrowB = [];
    private GemmJob _narrow;
    private NarrowWork? _narrowWork;

    private sealed class NarrowWork(PackedGemm owner) : IParallelWork
    {
        public void Execute(int part, int parts) => owner.NarrowPart(part, parts);
    }

    /// <summary>
    /// A product with at most 16 columns on AVX-512: B packed whole as one [K, 16] panel (α folded in), A read in
    /// place when row-major, rows split between the threads; 12-row tiles on <see cref="Avx512NarrowMicrokernel"/>, the
    /// remaining rows on the AVX2 kernel (whose panels are 16 wide too).
    /// </summary>
    private void RunNarrow(in GemmJob job)
    {
        const int w = Avx512NarrowMicrokernel.Width;
        long size = (long)job.K * w;
        if (_narrowB.Length < size) _narrowB = GC.AllocateUninitializedArray<float>(checked((int)size), pinned: true);
        fixed (float* bp = _narrowB)
        {
            var pack = job with { Source = GemmSource.Matrix };
            PackBWidth(pack, 0, job.K, 0, job.N, job.Alpha, bp, w);
            _narrow = job with { B = bp };
            long flops = 2L * job.M * job.K * job.N;
            pool.Run(_narrowWork ??= new NarrowWork(this), flops < 200_000 ? 1 : pool.Threads);
            _narrow = default;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void NarrowPart(int part, int parts)
    {
        const int w = Avx512NarrowMicrokernel.Width, rowsPerTile = Avx512NarrowMicrokernel.Rows;
        ref readonly var job = ref _narrow;
        int tiles = (job.M + rowsPerTile - 1) / rowsPerTile;
        int r0 = (int)((long)tiles * part / parts) * rowsPerTile, r1 = Math.Min(job.M, (int)((long)tiles * (part + 1) / parts) * rowsPerTile);
        if (r0 >= r1) return;
        bool inPlace = job.ACol == 1, direct = job.N == w;
        int k = job.K, n = job.N;
        float* tile = stackalloc float[rowsPerTile * w];
        fixed (float* ap = Buffer(_aPack, part, inPlace ? 0 : (long)rowsPerTile * k))
            for (int i = r0; i < r1; i += rowsPerTile)
            {
                int rows = Math.Min(rowsPerTile, r1 - i);
                float* a;
                nint lda;
                if (inPlace) { a = job.A + i * job.ARow; lda = (nint)job.ARow; }
                else { PackA(job, i, rows, 0, k, 1f, ap); a = ap; lda = k; }
                float* c = direct ? job.C + (long)i * n : tile;
                nint ldc = direct ? n : w;
                if (!direct && job.Accumulate)
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < w; j++) tile[r * w + j] = j < n ? job.C[(long)(i + r) * n + j] : 0f;
                if (rows == rowsPerTile) Avx512NarrowMicrokernel.Run(a, lda, job.B, k, c, ldc, job.Accumulate);
                else
                    for (int r = 0; r < rows; r += 6)
                        Microkernels.Tile(KernelIsa.Avx2, Math.Min(6, rows - r), a + r * lda, lda, job.B, w, k, c + r * ldc, ldc, job.Accumulate);
                if (!direct)
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < n; j++) job.C[(long)(i + r) * n + j] = tile[r * w + j];
                if (job.Bias != null)
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < n; j++) job.C[(long)(i + r) * n + j] += job.Bias[j];
            }
    }

    private float[] _fewRowsB = [];
    private readonly float[][] _fewRowsC = new float[pool.Threads][];

    /// <summary>
    /// <c>C [M, in] (+)= α·A [M, out] · W</c> for a handful of rows (the LM head's input gradient at the supervised
    /// positions): computed as <c>Cᵀ = Wᵀ·Aᵀ</c> straight off the weight's panels — within one panel, row i of Wᵀ is
    /// <see cref="Width"/> contiguous values, one panel width apart — so the (vocabulary-sized) weight is never repacked.
    /// Aᵀ is packed once (Width columns, zero-padded), and the threads split the rows of Cᵀ.
    /// </summary>
    private void RunFewRowsInputGradient(in GemmJob job)
    {
        var w = job.Weight!;
        int width = Width, panels = w.Panels, m = job.M;
        long size = (long)panels * width * width;
        if (_fewRowsB.Length < size) _fewRowsB = GC.AllocateUninitializedArray<float>(checked((int)size), pinned: true);
        fixed (float* bp = _fewRowsB)
        {
            // B'[k, n] = α·A[n, k]: per weight panel q a [Width × Width] block, rows k, columns n (zero past M and past out).
            new Span<float>(bp, (int)size).Clear();
            for (int n = 0; n < m; n++)
            {
                float* src = job.A + n * job.ARow;
                for (int k = 0; k < job.K; k++) bp[(long)k * width + n] = job.Alpha * src[k * job.ACol];
            }
            _fewRows = (job, (nint)bp);
            pool.Run(_fewRowsWork ??= new FewRowsWork(this), job.N >= 12 * pool.Threads ? pool.Threads : 1);
            _fewRows = default;
        }
    }

    private (GemmJob Job, nint B) _fewRows;
    private FewRowsWork? _fewRowsWork;

    private sealed class FewRowsWork(PackedGemm owner) : IParallelWork
    {
        public void Execute(int part, int parts) => owner.FewRowsPart(part, parts);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void FewRowsPart(int part, int parts)
    {
        var (job, bAddress) = _fewRows;
        var w = job.Weight!;
        int width = Width, inF = w.InFeatures, tiles = (inF + 5) / 6;
        int i0 = (int)((long)tiles * part / parts) * 6, i1 = Math.Min(inF, (int)((long)tiles * (part + 1) / parts) * 6);
        if (i0 >= i1) return;
        float* b = (float*)bAddress, data = (float*)w.Data;
        fixed (float* ct = Buffer(_fewRowsC, part, (long)(i1 - i0) * width))
        {
            for (int q = 0; q < w.Panels; q++)
                for (int i = i0; i < i1; i += 6)
                    Tile(Math.Min(6, i1 - i), data + ((long)q * inF + i) * width, width, b + (long)q * width * width, width, width, ct + (long)(i - i0) * width, width, q > 0);
            for (int n = 0; n < job.M; n++)
            {
                float* row = job.C + (long)n * job.N;
                for (int i = i0; i < i1; i++)
                {
                    float v = ct[(long)(i - i0) * width + n];
                    row[i] = job.Accumulate ? row[i] + v : v;
                }
            }
        }
    }

    /// <summary><c>Cᵀ [N, M] = op(B)ᵀ · op(A)ᵀ</c> into a scratch buffer, then added or written into C with the bias.</summary>
    private void RunTransposed(in GemmJob job)
    {
        long size = (long)job.N * job.M;
        if (_transposed.Length < size) _transposed = GC.AllocateUninitializedArray<float>(checked((int)size), pinned: true);
        fixed (float* t = _transposed)
        {
            RunDirect(new GemmJob
            {
                A = job.B, ARow = job.BCol, ACol = job.BRow, M = job.N, N = job.M, K = job.K, Alpha = job.Alpha,
                Source = GemmSource.Matrix, B = job.A, BRow = job.ACol, BCol = job.ARow, C = t, Accumulate = false,
            });
            int m = job.M, n = job.N;
            for (int i = 0; i < m; i++)
            {
                float* row = job.C + (long)i * n;
                for (int j = 0; j < n; j++)
                {
                    float v = t[(long)j * m + i] + (job.Bias != null ? job.Bias[j] : 0f);
                    row[j] = job.Accumulate ? row[j] + v : v;
                }
            }
        }
    }

    private void RunDirect(in GemmJob job)
    {
        _job = job;
        // α goes into a packed operand: B when B is always packed, else A (packing A if need be).
        bool bAlwaysPacked = job.Source == GemmSource.Weight || (job.Source == GemmSource.Matrix && (job.BCol != 1 || job.N < Width));
        _packA = job.ACol != 1 || (job.Alpha != 1f && !bAlwaysPacked);
        _alphaInB = job.Alpha != 1f && !_packA;
        // A part must have enough work to pay for the hand-off (~1-2 µs).
        long flops = 2L * job.M * job.K * job.N;
        int panels = (job.N + Width - 1) / Width;
        int parts = flops < 200_000 ? 1 : pool.Threads;
        // Few panels leave the column split idle: split the rows instead.
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
        bool bInPlace = job.Source == GemmSource.Matrix && job.BCol == 1 && !_alphaInB;
        bool bf16 = prepacked && job.Weight!.Storage == ElementType.BF16;
        int kcMax = Math.Min(KBlock, k);
        fixed (float* bPack = Buffer(_bPack, part, prepacked ? 0 : (long)(p1 - p0) * kcMax * width))
        fixed (float* aPack = Buffer(_aPack, part, _packA ? (long)MBlock * kcMax : 0))
        fixed (float* lowRank = Buffer(_lowRankPack, part, job.HasLowRank ? (long)(p1 - p0) * job.K2 * width : 0))
        {
            float* tile = stackalloc float[6 * MaxWidth];
            if (job.HasLowRank)
            {
                var second = new GemmJob { B = job.B2, BRow = job.B2Row, BCol = job.B2Col, Source = GemmSource.Matrix };
                for (int p = p0; p < p1; p++)
                    PackB(second, 0, job.K2, p * width, Math.Min(width, n - p * width), job.Alpha2, lowRank + (long)(p - p0) * job.K2 * width);
            }
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - k0);
                bool load = job.Accumulate || k0 > 0, last = k0 + kc >= k && job.HasLowRank;
                if (!prepacked)
                    for (int p = p0; p < p1; p++)
                    {
                        int cols = Math.Min(width, n - p * width);
                        // A row-major B is read in place, but a partial last panel is padded with zeros.
                        if (!bInPlace || cols < width)
                            PackB(job, k0, kc, p * width, cols, _alphaInB ? job.Alpha : 1f, bPack + (long)(p - p0) * kc * width);
                    }
                for (int m0 = r0; m0 < r1; m0 += MBlock)
                {
                    int mEnd = Math.Min(r1, m0 + MBlock);
                    if (_packA) PackA(job, m0, mEnd - m0, k0, kc, _alphaInB ? 1f : job.Alpha, aPack);
                    for (int p = p0; p < p1; p++)
                    {
                        int cols = Math.Min(width, n - p * width);
                        void* bData;
                        long bOffset;
                        nint ldb = width;
                        if (prepacked) { bData = job.Weight!.Data; bOffset = ((long)p * k + k0) * width; }
                        else if (bInPlace && cols == width) { bData = job.B; bOffset = k0 * job.BRow + (long)p * width; ldb = (nint)job.BRow; }
                        else { bData = bPack; bOffset = (long)(p - p0) * kc * width; }
                        for (int i = m0; i < mEnd; i += 6)
                        {
                            int rows = Math.Min(6, mEnd - i);
                            float* a;
                            nint lda;
                            if (_packA) { a = aPack + (long)(i - m0) * kc; lda = kc; }
                            else { a = job.A + i * job.ARow + k0; lda = (nint)job.ARow; }
                            float* c = job.C + (long)i * n + (long)p * width;
                            float* lrA = last ? job.A2 + i * job.A2Row : null, lrB = lowRank + (long)(p - p0) * job.K2 * width;
                            if (cols == width)
                            {
                                Tile(rows, a, lda, bf16, bData, bOffset, ldb, kc, c, n, load);
                                if (last) Tile(rows, lrA, (nint)job.A2Row, lrB, width, job.K2, c, n, true);
                                continue;
                            }
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < width; j++)
                                    tile[r * width + j] = load && j < cols ? c[(long)r * n + j] : 0f;
                            Tile(rows, a, lda, bf16, bData, bOffset, ldb, kc, tile, width, load);
                            if (last) Tile(rows, lrA, (nint)job.A2Row, lrB, width, job.K2, tile, width, true);
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

    /// <summary>Rows <c>m0 .. m0+rows</c>, columns <c>k0 .. k0+kc</c> of alpha·A into <c>dst [rows, kc]</c>.</summary>
    private static void PackA(in GemmJob job, int m0, int rows, int k0, int kc, float alpha, float* dst)
    {
        if (job.ARow == 1)
        {
            // A transposed in memory (dW = dYᵀ·X): the [kc, rows] block transposed 8 × 8 at a time — element by element
            // this packing cost a quarter of the product's time for the weight gradients of a small model.
            Microkernels.Transpose(job.A + k0 * job.ACol + m0, (nint)job.ACol, kc, rows, dst, kc);
            if (alpha != 1f) VectorOps.Scale(dst, alpha, rows * kc, Vector256.IsHardwareAccelerated);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* src = job.A + (m0 + r) * job.ARow + k0 * job.ACol;
            float* o = dst + (long)r * kc;
            for (int kk = 0; kk < kc; kk++) o[kk] = alpha * src[kk * job.ACol];
        }
    }

    /// <summary>
    /// 8 columns × 8 lanes of a weight panel (column c's 8 lanes contiguous at <c>src + c·stride</c>) into 8 packed rows
    /// (lane l's 8 columns at <c>dst + l·ldd</c>), times alpha: F32 unscaled blocks transpose straight from the weight,
    /// others are widened and scaled into a small block first.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void TransposeBlock(CpuLinearWeight w, long src, int stride, float alpha, float* dst, int ldd)
    {
        if (w.Storage == ElementType.F32 && alpha == 1f)
        {
            Microkernels.Transpose8((float*)w.Data + src, stride, dst, ldd);
            return;
        }
        float* block = stackalloc float[64];
        var a = Vector256.Create(alpha);
        for (int c = 0; c < 8; c++)
        {
            var v = w.Storage == ElementType.BF16
                ? Vector256.ShiftLeft(Vector256.WidenLower(Vector256.Create(Vector128.Load((ushort*)w.Data + src + (long)c * stride), Vector128<ushort>.Zero)), 16).AsSingle()
                : Vector256.Load((float*)w.Data + src + (long)c * stride);
            (v * a).Store(block + c * 8);
        }
        Microkernels.Transpose8(block, 8, dst, ldd);
    }

    /// <summary>Rows <c>k0 .. k0+kc</c>, columns <c>n0 .. n0+cols</c> of alpha·B into a zero-padded panel <c>dst [kc, Width]</c>.</summary>
    private void PackB(in GemmJob job, int k0, int kc, int n0, int cols, float alpha, float* dst) => PackBWidth(job, k0, kc, n0, cols, alpha, dst, Width);

    /// <summary><see cref="PackB"/> into a panel of <paramref name="width"/> columns.</summary>
    private static void PackBWidth(in GemmJob job, int k0, int kc, int n0, int cols, float alpha, float* dst, int width)
    {
        if (cols < width) new Span<float>(dst, kc * width).Clear();
        if (job.Source == GemmSource.Weight)
        {
            // B[kk, n] = W[kk, n]: in the panel layout W[row, col] sits at ((row / width)·in + col)·width + row % width,
            // so for a fixed column the rows of one weight panel are contiguous.
            var w = job.Weight!;
            long inF = w.InFeatures;
            int fast = 0;
            // Whole 8 × 8 blocks (k0 is a multiple of the panel width, so lanes start at 0) go through an AVX transpose.
            if (Avx.IsSupported && width % 8 == 0 && cols == width && k0 % width == 0)
            {
                fast = kc / 8 * 8;
                for (int kk = 0; kk < fast; kk += 8)
                {
                    int row = k0 + kk;
                    long rowBase = (long)(row / width) * inF * width + row % width;
                    for (int j = 0; j < width; j += 8)
                        TransposeBlock(w, rowBase + (long)(n0 + j) * width, width, alpha, dst + (long)kk * width + j, width);
                }
            }
            for (int j = 0; j < cols && fast < kc; j++)
            {
                int col = n0 + j;
                for (int kk = fast; kk < kc;)
                {
                    int row = k0 + kk, lane = row % width, run = Math.Min(width - lane, kc - kk);
                    long src = ((long)(row / width) * inF + col) * width + lane;
                    if (w.Storage == ElementType.BF16)
                    {
                        ushort* s = (ushort*)w.Data + src;
                        for (int q = 0; q < run; q++) dst[(long)(kk + q) * width + j] = alpha * BitConverter.Int32BitsToSingle(s[q] << 16);
                    }
                    else
                    {
                        float* s = (float*)w.Data + src;
                        for (int q = 0; q < run; q++) dst[(long)(kk + q) * width + j] = alpha * s[q];
                    }
                    kk += run;
                }
            }
            return;
        }
        if (job.BCol == 1)
        {
            for (int kk = 0; kk < kc; kk++)
            {
                float* src = job.B + (k0 + kk) * job.BRow + n0;
                float* o = dst + (long)kk * width;
                for (int j = 0; j < cols; j++) o[j] = alpha * src[j];
            }
            return;
        }
        for (int j = 0; j < cols; j++)
        {
            float* src = job.B + (n0 + j) * job.BCol + k0 * job.BRow;
            for (int kk = 0; kk < kc; kk++) dst[(long)kk * width + j] = alpha * src[kk * job.BRow];
        }
    }

    private void Tile(int rows, float* a, nint lda, bool bf16, void* data, long bOffset, nint ldb, int kc, float* c, nint ldc, bool load)
    {
        if (bf16) Tile(rows, a, lda, (ushort*)data + bOffset, ldb, kc, c, ldc, load);
        else Tile(rows, a, lda, (float*)data + bOffset, ldb, kc, c, ldc, load);
    }

    private void Tile<TW>(int rows, float* a, nint lda, TW* b, nint ldb, int kc, float* c, nint ldc, bool load) where TW : unmanaged =>
        Microkernels.Tile(isa, rows, a, lda, b, ldb, kc, c, ldc, load);
}
