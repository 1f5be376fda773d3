using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpTune.Engine.Cpu.Gemm;

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
    private readonly WorkerPool _pool;

    // Attention job state and per-part score scratch (grown to the longest context seen, then reused).
    private float* _q, _k, _v, _o;
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
    }

    public override string Name => _isa.ToString().ToLowerInvariant();

    public override int PanelWidth => _gemm.Width;

    public override void Gemm(float* a, int m, CpuLinearWeight w, float* bias, float* c, bool accumulate) =>
        _gemm.Run(a, m, w, bias, c, accumulate);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void RmsNorm(float* x, int rows, int n, float* weight, float eps, float* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * n;
            float* o = dst + (long)r * n;
            float inv = 1f / MathF.Sqrt(VectorOps.Dot(row, row, n, _wide) / n + eps);
            int i = 0;
            if (_wide) for (; i + 8 <= n; i += 8) (Vector256.Load(weight + i) * (Vector256.Load(row + i) * inv)).Store(o + i);
            else for (; i + 4 <= n; i += 4) (Vector128.Load(weight + i) * (Vector128.Load(row + i) * inv)).Store(o + i);
            for (; i < n; i++) o[i] = weight[i] * (row[i] * inv);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Rope(float* x, int tokens, int width, int* positions, float* cos, float* sin, int headDim, float* dst)
    {
        int half = headDim / 2;
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
                        var vc = Vector256.Load(c + i); var vs = Vector256.Load(s + i);
                        (a * vc - b * vs).Store(o1 + i);
                        (b * vc + a * vs).Store(o2 + i);
                    }
                for (; i + 4 <= half; i += 4)
                {
                    var a = Vector128.Load(x1 + i); var b = Vector128.Load(x2 + i);
                    var vc = Vector128.Load(c + i); var vs = Vector128.Load(s + i);
                    (a * vc - b * vs).Store(o1 + i);
                    (b * vc + a * vs).Store(o2 + i);
                }
                for (; i < half; i++)
                {
                    float a = x1[i], b = x2[i];
                    o1[i] = a * c[i] - b * s[i];
                    o2[i] = b * c[i] + a * s[i];
                }
            }
        }
    }

    public override void Attention(float* q, int tokens, float* kCache, float* vCache, int* kvStart, int* kvCount, int heads, int kvHeads, int headDim, float scale, float* dst)
    {
        int maxCount = 0;
        for (int t = 0; t < tokens; t++) maxCount = Math.Max(maxCount, kvCount[t]);
        int parts = tokens * heads >= 2 && (long)maxCount * tokens * heads >= 4096 ? _pool.Threads : 1;
        if (_scratch.Length == 0 || _scratchStride < maxCount)
        {
            _scratchStride = Math.Max(maxCount, 64);
            _scratch = GC.AllocateUninitializedArray<float>(_pool.Threads * _scratchStride, pinned: true);
        }
        _q = q; _k = kCache; _v = vCache; _o = dst; _start = kvStart; _count = kvCount;
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
                if (count == 0) continue;
                long start = _start[t];
                int kvOff = h / group * headDim;
                float* k = _k + start * kvWidth + kvOff, v = _v + start * kvWidth + kvOff;
                if (_wide && Avx.IsSupported && headDim % 8 == 0)
                {
                    AttentionHead256(qh, k, v, kvWidth, count, headDim, scratch, o);
                    continue;
                }
                for (int j = 0; j < count; j++)
                    scratch[j] = VectorOps.Dot(qh, k + (long)j * kvWidth, headDim, _wide) * _scale;
                float max = VectorOps.Max(scratch, count, _wide);
                float inv = 1f / VectorOps.ExpShifted(scratch, max, count, scratch, _wide);
                for (int j = 0; j < count; j++)
                    VectorOps.Axpy(scratch[j] * inv, v + (long)j * kvWidth, o, headDim, _wide);
            }
    }

    /// <summary>
    /// One query head over <paramref name="count"/> key/value rows (row stride <paramref name="stride"/>), 256-bit:
    /// scores four keys at a time with one horizontal reduction per four, then the weighted value sum in 32-wide
    /// column blocks whose accumulators stay in registers across all keys.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AttentionHead256(float* q, float* k, float* v, int stride, int count, int headDim, float* scores, float* o)
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
        float inv = 1f / VectorOps.ExpShifted(scores, max, count, scores, true);
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
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void SwiGlu(float* gate, float* up, long n, float* dst)
    {
        long i = 0;
        if (_wide)
            for (; i + 8 <= n; i += 8)
            {
                var g = Vector256.Load(gate + i);
                (g / (Vector256<float>.One + SimdMath.Exp(-g)) * Vector256.Load(up + i)).Store(dst + i);
            }
        else
            for (; i + 4 <= n; i += 4)
            {
                var g = Vector128.Load(gate + i);
                (g / (Vector128<float>.One + SimdMath.Exp(-g)) * Vector128.Load(up + i)).Store(dst + i);
            }
        for (; i < n; i++)
        {
            float g = gate[i];
            dst[i] = g / (1f + MathF.Exp(-g)) * up[i];
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
}
