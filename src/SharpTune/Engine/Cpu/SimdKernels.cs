using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpTune.Engine.Cpu.Gemm;
using SharpTune.Numerics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// The fast CPU kernels for one instruction set: the packed-panel GEMM with that set's microkernel, and vector
/// loops (256-bit from AVX2 up, 128-bit otherwise) for the rest. GEMM and attention use both cores.
/// </summary>
internal sealed unsafe class SimdKernels : CpuKernels, IParallelWork
{
    private readonly KernelIsa _isa;
    private readonly bool _wide;
    private readonly PackedGemm _gemm;
    private readonly TiledAttention _tiled;
    private readonly WorkerPool _pool;

    // Attention job state and per-part score scratch (grown to the longest context seen, then reused).
    private float* _q, _k, _v, _o, _lse;
    private int* _start, _count;
    private int _tokens, _heads, _kvHeads, _headDim;
    private float _scale;
    private float[] _scratch = [];
    private int _scratchStride;

    public SimdKernels(KernelIsa isa, WorkerPool pool)
    {
        if (isa == KernelIsa.Scalar) throw new ArgumentOutOfRangeException(nameof(isa));
        _isa = isa;
        _pool = pool;
        _wide = isa >= KernelIsa.Avx2 && Vector256.IsHardwareAccelerated;
        _gemm = new PackedGemm(isa, pool);
        _tiled = new TiledAttention(isa, pool);
    }

    public override string Name => _isa.ToString().ToLowerInvariant();

    public override int PanelWidth => _gemm.Width;

    /// <summary>
    /// Rows of a packed weight: row r's elements lie one panel width apart, so 8 are fetched per AVX2 gather (BF16:
    /// 32-bit gathers whose low half is the element, widened by a shift); tokens split between the threads.
    /// </summary>
    public override void Embedding(int* ids, int n, CpuLinearWeight table, float* dst) =>
        _pool.For(new EmbeddingBody
        {
            Ids = ids, Data = table.Data, Dim = table.InFeatures, Width = table.PanelWidth, Bf16 = table.Storage == ElementType.BF16,
            Gather = _wide && Avx2.IsSupported, Dst = dst,
        }, n, Math.Max(1, 16384 / Math.Max(1, table.InFeatures)));

    private struct EmbeddingBody : IRangeBody
    {
        public int* Ids;
        public void* Data;
        public float* Dst;
        public int Dim, Width;
        public bool Bf16, Gather;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            int dim = Dim, width = Width;
            var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * width;
            for (long t = begin; t < end; t++)
            {
                int row = Ids[t];
                long first = (long)(row / width) * dim * width + row % width; // (row, 0) in the panel layout
                float* o = Dst + t * dim;
                int j = 0;
                if (Bf16)
                {
                    ushort* src = (ushort*)Data + first;
                    // Each 32-bit read also takes the next lane's element; the last column is left to the scalar tail so
                    // that no read passes the end of the buffer.
                    if (Gather)
                        for (; j + 8 < dim; j += 8)
                            Vector256.ShiftLeft(Avx2.GatherVector256((int*)(src + (long)j * width), lanes, 2), 16).AsSingle().Store(o + j);
                    for (; j < dim; j++) o[j] = BFloat16.ToSingle(src[(long)j * width]);
                }
                else
                {
                    float* src = (float*)Data + first;
                    if (Gather)
                        for (; j + 8 <= dim; j += 8) Avx2.GatherVector256(src + (long)j * width, lanes, 4).Store(o + j);
                    for (; j < dim; j++) o[j] = src[(long)j * width];
                }
            }
        }
    }

    public override void GatherRows(float* source, int cols, int* indices, int n, float* dst)
    {
        long bytes = cols * 4L;
        for (int i = 0; i < n; i++) Buffer.MemoryCopy(source + (long)indices[i] * cols, dst + (long)i * cols, bytes, bytes);
    }

    /// <summary>The columns split between the threads; each adds every row to its columns in row order (as the reference).</summary>
    public override void ScatterAddRows(float* source, int cols, int* indices, int n, float* dst) =>
        _pool.For(new ScatterAddRowsBody { Source = source, Cols = cols, Indices = indices, N = n, Dst = dst, Wide = _wide }, cols, Math.Max(64, (1 << 15) / Math.Max(1, n)));

    private struct ScatterAddRowsBody : IRangeBody
    {
        public float* Source, Dst;
        public int* Indices;
        public int Cols, N;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            int count = (int)(end - begin);
            for (int i = 0; i < N; i++) VectorOps.Add(Source + (long)i * Cols + begin, Dst + (long)Indices[i] * Cols + begin, count, Wide);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void RmsNorm(float* x, int rows, int n, float* weight, float eps, float* dst) =>
        _pool.For(new RmsNormBody { X = x, N = n, Weight = weight, Eps = eps, Dst = dst, Wide = _wide }, rows, Math.Max(1, 16384 / Math.Max(1, n)));

    private struct RmsNormBody : IRangeBody
    {
        public float* X, Weight, Dst;
        public int N;
        public float Eps;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            int n = N;
            for (long r = begin; r < end; r++)
            {
                float* row = X + r * n;
                float* o = Dst + r * n;
                float inv = 1f / MathF.Sqrt(VectorOps.Dot(row, row, n, Wide) / n + Eps);
                int i = 0;
                if (Wide) for (; i + 8 <= n; i += 8) (Vector256.Load(Weight + i) * (Vector256.Load(row + i) * inv)).Store(o + i);
                else for (; i + 4 <= n; i += 4) (Vector128.Load(Weight + i) * (Vector128.Load(row + i) * inv)).Store(o + i);
                for (; i < n; i++) o[i] = Weight[i] * (row[i] * inv);
            }
        }
    }

    public override void RmsNormBackward(float* x, int rows, int n, float* weight, float eps, float* dy, float* dx, bool accumulate, float* dWeight)
    {
        var body = new RmsNormBackwardBody { X = x, N = n, Weight = weight, Eps = eps, Dy = dy, Dx = dx, Accumulate = accumulate, DWeight = dWeight, Wide = _wide };
        // The weight gradient sums over rows: one thread keeps that sum in a fixed order.
        if (dWeight != null) body.Run(0, rows);
        else _pool.For(body, rows, Math.Max(1, 16384 / Math.Max(1, n)));
    }

    private struct RmsNormBackwardBody : IRangeBody
    {
        public float* X, Weight, Dy, Dx, DWeight;
        public int N;
        public float Eps;
        public bool Accumulate, Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            int n = N;
            for (long r = begin; r < end; r++)
            {
                float* xr = X + r * n, gr = Dy + r * n, o = Dx + r * n;
                float inv = 1f / MathF.Sqrt(VectorOps.Dot(xr, xr, n, Wide) / n + Eps);
                // Σ dy·w·x, then dx = r·dy·w − x·r³·Σ/n.
                float gx = 0;
                int i = 0;
                if (Wide)
                {
                    var acc = Vector256<float>.Zero;
                    for (; i + 8 <= n; i += 8) acc += Vector256.Load(gr + i) * Vector256.Load(Weight + i) * Vector256.Load(xr + i);
                    gx = Vector256.Sum(acc);
                }
                for (; i < n; i++) gx += gr[i] * Weight[i] * xr[i];
                float c = gx * inv * inv * inv / n;
                if (DWeight != null)
                    for (int j = 0; j < n; j++) DWeight[j] += gr[j] * xr[j] * inv;
                i = 0;
                if (Wide)
                {
                    var vInv = Vector256.Create(inv);
                    var vc = Vector256.Create(c);
                    for (; i + 8 <= n; i += 8)
                    {
                        var d = vInv * Vector256.Load(gr + i) * Vector256.Load(Weight + i) - vc * Vector256.Load(xr + i);
                        (Accumulate ? Vector256.Load(o + i) + d : d).Store(o + i);
                    }
                }
                for (; i < n; i++)
                {
                    float d = inv * gr[i] * Weight[i] - c * xr[i];
                    o[i] = Accumulate ? o[i] + d : d;
                }
            }
        }
    }

    public override void Gemm(in GemmJob job) => _gemm.Run(job);

    public override void AddBias(float* bias, int rows, int n, float* dst) =>
        _pool.For(new AddBiasBody { Bias = bias, N = n, Dst = dst, Wide = _wide }, rows, Math.Max(1, (1 << 15) / Math.Max(1, n)));

    private struct AddBiasBody : IRangeBody
    {
        public float* Bias, Dst;
        public int N;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            for (long r = begin; r < end; r++) VectorOps.Add(Bias, Dst + r * N, N, Wide);
        }
    }

    /// <summary>The columns split between the threads; each column is summed over the rows in order (as the reference), so the result is exact to it.</summary>
    public override void SumRows(float* x, int rows, int n, float* dst, bool accumulate) =>
        _pool.For(new SumRowsBody { X = x, Rows = rows, N = n, Dst = dst, Accumulate = accumulate, Wide = _wide }, n, Math.Max(64, (1 << 15) / Math.Max(1, rows)));

    private struct SumRowsBody : IRangeBody
    {
        public float* X, Dst;
        public int Rows, N;
        public bool Accumulate, Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            int count = (int)(end - begin);
            float* d = Dst + begin;
            if (!Accumulate) new Span<float>(d, count).Clear();
            for (int i = 0; i < Rows; i++) VectorOps.Add(X + (long)i * N + begin, d, count, Wide);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Rope(float* x, int tokens, int width, int* positions, float* cos, float* sin, int headDim, float* dst, bool inverse)
    {
        int half = headDim / 2;
        float sign = inverse ? -1f : 1f;
        for (int t = 0; t < tokens; t++)
        {
            float* c = cos + (long)positions[t] * half;
            float* s = sin + (long)positions[t] * half;
            for (int h0 = 0; h0 < width; h0 += headDim)
            {
                float* x1 = x + (long)t * width + h0, x2 = x1 + half;
                float* o1 = dst + (long)t * width + h0, o2 = o1 + half;
                int i = 0;
                if (_wide)
                    for (; i + 8 <= half; i += 8)
                    {
                        var a = Vector256.Load(x1 + i); var b = Vector256.Load(x2 + i);
                        var vc = Vector256.Load(c + i); var vs = Vector256.Load(s + i) * sign;
                        (a * vc - b * vs).Store(o1 + i);
                        (b * vc + a * vs).Store(o2 + i);
                    }
                for (; i + 4 <= half; i += 4)
                {
                    var a = Vector128.Load(x1 + i); var b = Vector128.Load(x2 + i);
                    var vc = Vector128.Load(c + i); var vs = Vector128.Load(s + i) * sign;
                    (a * vc - b * vs).Store(o1 + i);
                    (b * vc + a * vs).Store(o2 + i);
                }
                for (; i < half; i++)
                {
                    float a = x1[i], b = x2[i], si = sign * s[i];
                    o1[i] = a * c[i] - b * si;
                    o2[i] = b * c[i] + a * si;
                }
            }
        }
    }

    public override void ScatterRows(float* source, int cols, int* indices, int n, float* dst)
    {
        long bytes = cols * 4L;
        for (int i = 0; i < n; i++) Buffer.MemoryCopy(source + (long)i * cols, dst + (long)indices[i] * cols, bytes, bytes);
    }

    public override void Attention(float* q, int tokens, float* kCache, float* vCache, int* kvStart, int* kvCount, int* groupStart, int groups,
        int heads, int kvHeads, int headDim, float scale, float* dst, float* lse)
    {
        // Whole sequences (training, prefill) go through the tiled kernel; decode steps (one token per sequence) through
        // the per-token one.
        if (tokens >= TiledAttention.MinGroupTokens * groups)
        {
            _tiled.Forward(q, kCache, vCache, kvStart, kvCount, groupStart, groups, heads, kvHeads, headDim, scale, dst, lse, _wide);
            return;
        }
        int maxCount = 0;
        for (int t = 0; t < tokens; t++) maxCount = Math.Max(maxCount, kvCount[t]);
        int parts = tokens * heads >= 2 && (long)maxCount * tokens * heads >= 4096 ? _pool.Threads : 1;
        if (_scratch.Length == 0 || _scratchStride < maxCount)
        {
            _scratchStride = Math.Max(maxCount, 64);
            _scratch = GC.AllocateUninitializedArray<float>(_pool.Threads * _scratchStride, pinned: true);
        }
        _q = q; _k = kCache; _v = vCache; _o = dst; _lse = lse; _start = kvStart; _count = kvCount;
        _tokens = tokens; _heads = heads; _kvHeads = kvHeads; _headDim = headDim; _scale = scale;
        _pool.Run(this, parts);
    }

    /// <summary>One part of the attention: a contiguous range of (token, head) pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        int total = _tokens * _heads, headDim = _headDim;
        int i0 = (int)((long)total * part / parts), i1 = (int)((long)total * (part + 1) / parts);
        int qWidth = _heads * headDim, kvWidth = _kvHeads * headDim, group = _heads / _kvHeads;
        fixed (float* scratch = &_scratch[part * _scratchStride])
            for (int i = i0; i < i1; i++)
            {
                int t = i / _heads, h = i % _heads;
                float* qh = _q + (long)t * qWidth + h * headDim;
                float* o = _o + (long)t * qWidth + h * headDim;
                new Span<float>(o, headDim).Clear();
                int count = _count[t];
                if (_lse != null) _lse[i] = 0;
                if (count == 0) continue;
                long start = _start[t];
                int kvOff = h / group * headDim;
                float* k = _k + start * kvWidth + kvOff, v = _v + start * kvWidth + kvOff;
                if (_wide && Avx.IsSupported && headDim % 8 == 0)
                {
                    float lse = AttentionHead256(qh, k, v, kvWidth, count, headDim, scratch, o);
                    if (_lse != null) _lse[i] = lse;
                    continue;
                }
                for (int j = 0; j < count; j++)
                    scratch[j] = VectorOps.Dot(qh, k + (long)j * kvWidth, headDim, _wide) * _scale;
                float max = VectorOps.Max(scratch, count, _wide);
                float sum = VectorOps.ExpShifted(scratch, max, count, scratch, _wide), inv = 1f / sum;
                if (_lse != null) _lse[i] = max + MathF.Log(sum);
                for (int j = 0; j < count; j++)
                    VectorOps.Axpy(scratch[j] * inv, v + (long)j * kvWidth, o, headDim, _wide);
            }
    }

    /// <summary>
    /// One query head over <paramref name="count"/> key/value rows (row stride <paramref name="stride"/>), 256-bit:
    /// scores four keys at a time with one horizontal reduction per four, then the weighted value sum in 32-wide
    /// column blocks whose accumulators stay in registers across all keys. Returns the log-sum-exp of the scores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float AttentionHead256(float* q, float* k, float* v, int stride, int count, int headDim, float* scores, float* o)
    {
        int j = 0;
        var scale = Vector128.Create(_scale);
        for (; j + 4 <= count; j += 4)
        {
            float* k0 = k + (long)j * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < headDim; d += 8)
            {
                var qv = Vector256.Load(q + d);
                a0 = Vector256.FusedMultiplyAdd(qv, Vector256.Load(k0 + d), a0);
                a1 = Vector256.FusedMultiplyAdd(qv, Vector256.Load(k1 + d), a1);
                a2 = Vector256.FusedMultiplyAdd(qv, Vector256.Load(k2 + d), a2);
                a3 = Vector256.FusedMultiplyAdd(qv, Vector256.Load(k3 + d), a3);
            }
            var h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            ((h.GetLower() + h.GetUpper()) * scale).Store(scores + j);
        }
        for (; j < count; j++) scores[j] = VectorOps.Dot(q, k + (long)j * stride, headDim, true) * _scale;
        float max = VectorOps.Max(scores, count, true);
        float sum = VectorOps.ExpShifted(scores, max, count, scores, true), inv = 1f / sum;
        int c = 0;
        for (; c + 32 <= headDim; c += 32)
        {
            Vector256<float> o0 = default, o1 = default, o2 = default, o3 = default;
            float* vr = v + c;
            for (int i = 0; i < count; i++, vr += stride)
            {
                var p = Vector256.Create(scores[i]);
                o0 = Vector256.FusedMultiplyAdd(p, Vector256.Load(vr), o0);
                o1 = Vector256.FusedMultiplyAdd(p, Vector256.Load(vr + 8), o1);
                o2 = Vector256.FusedMultiplyAdd(p, Vector256.Load(vr + 16), o2);
                o3 = Vector256.FusedMultiplyAdd(p, Vector256.Load(vr + 24), o3);
            }
            (o0 * inv).Store(o + c); (o1 * inv).Store(o + c + 8); (o2 * inv).Store(o + c + 16); (o3 * inv).Store(o + c + 24);
        }
        for (; c < headDim; c += 8)
        {
            Vector256<float> acc = default;
            float* vr = v + c;
            for (int i = 0; i < count; i++, vr += stride) acc = Vector256.FusedMultiplyAdd(Vector256.Create(scores[i]), Vector256.Load(vr), acc);
            (acc * inv).Store(o + c);
        }
        return max + MathF.Log(sum);
    }

    public override void AttentionBackward(float* q, float* k, float* v, float* o, float* dO, float* lse, int* kvStart, int* kvCount,
        int* groupStart, int groups, int heads, int kvHeads, int headDim, float scale, float* dQ, float* dK, float* dV) =>
        _tiled.Backward(q, k, v, o, dO, lse, kvStart, kvCount, groupStart, groups, heads, kvHeads, headDim, scale, dQ, dK, dV, _wide);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void SwiGlu(float* gate, float* up, long n, float* dst) =>
        _pool.For(new SwiGluBody { Gate = gate, Up = up, Dst = dst, Wide = _wide }, n, 1 << 15);

    private struct SwiGluBody : IRangeBody
    {
        public float* Gate, Up, Dst;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            long i = begin;
            if (Wide)
                for (; i + 8 <= end; i += 8)
                {
                    var g = Vector256.Load(Gate + i);
                    (g / (Vector256<float>.One + SimdMath.Exp(-g)) * Vector256.Load(Up + i)).Store(Dst + i);
                }
            else
                for (; i + 4 <= end; i += 4)
                {
                    var g = Vector128.Load(Gate + i);
                    (g / (Vector128<float>.One + SimdMath.Exp(-g)) * Vector128.Load(Up + i)).Store(Dst + i);
                }
            for (; i < end; i++)
            {
                float g = Gate[i];
                Dst[i] = g / (1f + MathF.Exp(-g)) * Up[i];
            }
        }
    }

    public override void SwiGluBackward(float* gate, float* up, float* dy, long n, float* dGate, float* dUp) =>
        _pool.For(new SwiGluBackwardBody { Gate = gate, Up = up, Dy = dy, DGate = dGate, DUp = dUp, Wide = _wide }, n, 1 << 15);

    private struct SwiGluBackwardBody : IRangeBody
    {
        public float* Gate, Up, Dy, DGate, DUp;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            long i = begin;
            if (Wide)
                for (; i + 8 <= end; i += 8)
                {
                    var g = Vector256.Load(Gate + i); var u = Vector256.Load(Up + i); var d = Vector256.Load(Dy + i);
                    var s = Vector256<float>.One / (Vector256<float>.One + SimdMath.Exp(-g));
                    (d * g * s).Store(DUp + i);
                    (d * u * s * (Vector256<float>.One + g * (Vector256<float>.One - s))).Store(DGate + i);
                }
            else
                for (; i + 4 <= end; i += 4)
                {
                    var g = Vector128.Load(Gate + i); var u = Vector128.Load(Up + i); var d = Vector128.Load(Dy + i);
                    var s = Vector128<float>.One / (Vector128<float>.One + SimdMath.Exp(-g));
                    (d * g * s).Store(DUp + i);
                    (d * u * s * (Vector128<float>.One + g * (Vector128<float>.One - s))).Store(DGate + i);
                }
            for (; i < end; i++)
            {
                float g = Gate[i], u = Up[i], d = Dy[i];
                float s = 1f / (1f + MathF.Exp(-g));
                DUp[i] = d * g * s;
                DGate[i] = d * u * s * (1f + g * (1f - s));
            }
        }
    }

    /// <summary>The mask hashed 8 elements at a time (two vectors of four 64-bit counters), the elements split between the threads.</summary>
    public override void Dropout(float* x, long n, float probability, ulong seed, float* dst)
    {
        var (keep, threshold) = DropoutConstants(probability);
        _pool.For(new DropoutBody { X = x, Key = SplitMix64.Mix(seed), Threshold = threshold, Keep = keep, Dst = dst, Wide = _wide }, n, 1 << 15);
    }

    private struct DropoutBody : IRangeBody
    {
        public float* X, Dst;
        public ulong Key, Threshold;
        public float Keep;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            long i = begin;
            if (Wide)
            {
                Vector256<ulong> lanes = Vector256.Create(0UL, 1, 2, 3), four = Vector256.Create(4UL), threshold = Vector256.Create(Threshold);
                var keep = Vector256.Create(Keep);
                for (; i + 8 <= end; i += 8)
                {
                    var counter = Vector256.Create(Key + (ulong)i) + lanes;
                    var low = Vector256.LessThan(SplitMix64.Mix(counter), threshold);
                    var high = Vector256.LessThan(SplitMix64.Mix(counter + four), threshold);
                    var drop = Vector256.Narrow(low, high).AsSingle();
                    Vector256.ConditionalSelect(drop, Vector256<float>.Zero, Vector256.Load(X + i) * keep).Store(Dst + i);
                }
            }
            else
            {
                Vector128<ulong> lanes = Vector128.Create(0UL, 1), two = Vector128.Create(2UL), threshold = Vector128.Create(Threshold);
                var keep = Vector128.Create(Keep);
                for (; i + 4 <= end; i += 4)
                {
                    var counter = Vector128.Create(Key + (ulong)i) + lanes;
                    var low = Vector128.LessThan(SplitMix64.Mix(counter), threshold);
                    var high = Vector128.LessThan(SplitMix64.Mix(counter + two), threshold);
                    var drop = Vector128.Narrow(low, high).AsSingle();
                    Vector128.ConditionalSelect(drop, Vector128<float>.Zero, Vector128.Load(X + i) * keep).Store(Dst + i);
                }
            }
            for (; i < end; i++) Dst[i] = SplitMix64.Mix(Key + (ulong)i) < Threshold ? 0f : X[i] * Keep;
        }
    }

    public override void CrossEntropy(float* logits, int rows, int vocab, int* targets, float gradScale, float* dLogits, float* stats) =>
        _pool.For(new CrossEntropyBody { Logits = logits, Vocab = vocab, Targets = targets, Scale = gradScale, DLogits = dLogits, Stats = stats, Wide = _wide }, rows, 1);

    private struct CrossEntropyBody : IRangeBody
    {
        public float* Logits, DLogits, Stats;
        public int* Targets;
        public int Vocab;
        public float Scale;
        public bool Wide;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            int n = Vocab;
            for (long r = begin; r < end; r++)
            {
                float* x = Logits + r * n, g = DLogits + r * n;
                float max = VectorOps.Max(x, n, Wide);
                int best = 0;
                while (best < n - 1 && !(x[best] == max)) best++;
                // Σ e and Σ e·x with e = exp(x − max), in fp32 vector lanes.
                float sum = 0, weighted = 0;
                int i = 0;
                if (Wide)
                {
                    var vm = Vector256.Create(max);
                    Vector256<float> s0 = default, w0 = default;
                    for (; i + 8 <= n; i += 8)
                    {
                        var xv = Vector256.Load(x + i);
                        var e = SimdMath.Exp(xv - vm);
                        s0 += e;
                        w0 = Vector256.FusedMultiplyAdd(e, xv, w0);
                    }
                    sum = Vector256.Sum(s0);
                    weighted = Vector256.Sum(w0);
                }
                for (; i < n; i++)
                {
                    float e = MathF.Exp(x[i] - max);
                    sum += e;
                    weighted += e * x[i];
                }
                float lse = max + MathF.Log(sum);
                int target = Targets[r];
                Stats[r * 3] = lse - x[target];
                Stats[r * 3 + 1] = best == target ? 1f : 0f;
                Stats[r * 3 + 2] = lse - weighted / sum;
                i = 0;
                if (Wide)
                {
                    var vl = Vector256.Create(lse);
                    var vs = Vector256.Create(Scale);
                    for (; i + 8 <= n; i += 8) (SimdMath.Exp(Vector256.Load(x + i) - vl) * vs).Store(g + i);
                }
                for (; i < n; i++) g[i] = MathF.Exp(x[i] - lse) * Scale;
                g[target] -= Scale;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Softmax(float* x, int rows, int n, float* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * n;
            float* o = dst + (long)r * n;
            float sum = VectorOps.ExpShifted(row, VectorOps.Max(row, n, _wide), n, o, _wide);
            VectorOps.Scale(o, 1f / sum, n, _wide);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Argmax(float* x, int rows, int n, int* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * n;
            float max = VectorOps.Max(row, n, _wide);
            int best = 0;
            while (best < n - 1 && !(row[best] == max)) best++;
            dst[r] = best;
        }
    }

    public override void Axpy(float alpha, float* x, long n, float* y) => _pool.For(new AxpyBody { Alpha = alpha, X = x, Y = y, Wide = _wide }, n, 1 << 16);

    private struct AxpyBody : IRangeBody
    {
        public float* X, Y;
        public float Alpha;
        public bool Wide;

        public readonly void Run(long begin, long end) => VectorOps.Axpy(Alpha, X + begin, Y + begin, checked((int)(end - begin)), Wide);
    }

    public override void Scale(float* x, long n, float factor) => _pool.For(new ScaleBody { X = x, Factor = factor, Wide = _wide }, n, 1 << 16);

    private struct ScaleBody : IRangeBody
    {
        public float* X;
        public float Factor;
        public bool Wide;

        public readonly void Run(long begin, long end) => VectorOps.Scale(X + begin, Factor, checked((int)(end - begin)), Wide);
    }

    /// <summary>Fixed chunks, each summed in double, added in chunk order: the result does not depend on the thread count.</summary>
    public override double SumOfSquares(float* x, long n)
    {
        const long Chunk = 1 << 14;
        long chunks = (n + Chunk - 1) / Chunk;
        if (_partials.Length < chunks) _partials = new double[chunks];
        fixed (double* partials = _partials)
            _pool.For(new SumOfSquaresBody { X = x, N = n, Chunk = Chunk, Partials = partials }, chunks, 8);
        double total = 0;
        for (long c = 0; c < chunks; c++) total += _partials[c];
        return total;
    }

    private double[] _partials = [];

    private struct SumOfSquaresBody : IRangeBody
    {
        public float* X;
        public long N, Chunk;
        public double* Partials;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            for (long c = begin; c < end; c++)
            {
                long i = c * Chunk, stop = Math.Min(N, i + Chunk);
                var acc = Vector256<double>.Zero;
                if (Vector256.IsHardwareAccelerated)
                    for (; i + 4 <= stop; i += 4)
                    {
                        var d = Vector256.WidenLower(Vector256.Create(Vector128.Load(X + i), Vector128<float>.Zero));
                        acc += d * d;
                    }
                double sum = Vector256.Sum(acc);
                for (; i < stop; i++) sum += (double)X[i] * X[i];
                Partials[c] = sum;
            }
        }
    }

    public override void AdamW(float* p, float* g, float* m, float* v, long n, in AdamWStep step) =>
        _pool.For(new AdamWBody
        {
            P = p, G = g, M = m, V = v, Decay = step.DecayFactor, B1 = (float)step.Beta1, B2 = (float)step.Beta2,
            C1 = (float)(1 - step.Beta1), C2 = (float)(1 - step.Beta2), Eps = (float)step.Epsilon, NegStep = -step.StepSize,
            Bc2 = step.BiasCorrection2Sqrt, Wide = _wide,
        }, n, 1 << 15);

    private struct AdamWBody : IRangeBody
    {
        public float* P, G, M, V;
        public float Decay, B1, B2, C1, C2, Eps, NegStep, Bc2;
        public bool Wide;

        // The operations of the scalar reference (PyTorch 1.13's rounding: fused multiply-adds for the moments, a true
        // division by the denominator), so all three agree bit for bit.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long begin, long end)
        {
            long i = begin;
            if (Wide)
            {
                Vector256<float> c1 = Vector256.Create(C1), c2 = Vector256.Create(C2), eps = Vector256.Create(Eps);
                for (; i + 8 <= end; i += 8)
                {
                    var g = Vector256.Load(G + i);
                    var m = Vector256.FusedMultiplyAdd(g, c1, Vector256.Load(M + i) * B1);
                    var v = Vector256.FusedMultiplyAdd(c2 * g, g, Vector256.Load(V + i) * B2);
                    var p = Vector256.Load(P + i) * Decay;
                    (p + NegStep * m / (Vector256.Sqrt(v) / Bc2 + eps)).Store(P + i);
                    m.Store(M + i);
                    v.Store(V + i);
                }
            }
            for (; i < end; i++)
            {
                P[i] *= Decay;
                M[i] = MathF.FusedMultiplyAdd(G[i], C1, M[i] * B1);
                V[i] = MathF.FusedMultiplyAdd(C2 * G[i], G[i], V[i] * B2);
                P[i] += NegStep * M[i] / (MathF.Sqrt(V[i]) / Bc2 + Eps);
            }
        }
    }
}
