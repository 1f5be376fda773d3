using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SharpTune.Engine.Cpu.Gemm;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// Attention of whole sequences (training, prefill) as small matrix products on the GEMM microkernel instead of one
/// dot product per (query, key): per sequence and head, the keys are packed once (Kᵀ, and for the backward K and Vᵀ
/// too), and tiles of <see cref="QueryTile"/> queries compute <c>S = Q·Kᵀ</c> over the keys their rows may see,
/// softmax the rows in place (keys beyond a row's count masked), then <c>O = P·V</c>. The backward recomputes P from
/// the log-sum-exp and forms <c>dP = dO·Vᵀ</c>, <c>dS = P ⊙ (dP − rowsum(dO ⊙ O))·scale</c>, <c>dQ = dS·K</c>,
/// <c>dK += dSᵀ·Q</c>, <c>dV += Pᵀ·dO</c>. Work items are (sequence, kv head), forward and
/// backward, where each item owns its key and value gradient rows; in both, an item packs its keys once for the query
/// heads of its group. Per-thread scratch grows to the longest sequence seen and is reused.
/// </summary>
internal sealed unsafe class TiledAttention(KernelIsa isa, WorkerPool pool) : IParallelWork
{
    /// <summary>Queries per tile (a multiple of the microkernel's 6 rows).</summary>
    public const int QueryTile = 48;

    /// <summary>Groups shorter than this (decode steps) are left to the per-token kernel.</summary>
    public const int MinGroupTokens = 8;

    private readonly int _width = Microkernels.Width(isa);
    private readonly float[][] _scratch = new float[pool.Threads][];

    private float* _q, _k, _v, _o, _dO, _lse, _dQ, _dK, _dV;
    private int* _start, _count, _groupStart;
    private int _groups, _heads, _kvHeads, _headDim;
    private float _scale;
    private bool _backward, _wide;

    public void Forward(float* q, float* k, float* v, int* kvStart, int* kvCount, int* groupStart, int groups, int heads, int kvHeads, int headDim, float scale, float* dst, float* lse, bool wide)
    {
        Set(q, k, v, kvStart, kvCount, groupStart, groups, heads, kvHeads, headDim, scale, wide);
        _o = dst;
        _lse = lse;
        _backward = false;
        Run((long)groups * kvHeads);
    }

    public void Backward(float* q, float* k, float* v, float* o, float* dO, float* lse, int* kvStart, int* kvCount, int* groupStart, int groups,
        int heads, int kvHeads, int headDim, float scale, float* dQ, float* dK, float* dV, bool wide)
    {
        Set(q, k, v, kvStart, kvCount, groupStart, groups, heads, kvHeads, headDim, scale, wide);
        _o = o; _dO = dO; _lse = lse; _dQ = dQ; _dK = dK; _dV = dV;
        _backward = true;
        Run((long)groups * kvHeads);
    }

    private void Set(float* q, float* k, float* v, int* kvStart, int* kvCount, int* groupStart, int groups, int heads, int kvHeads, int headDim, float scale, bool wide)
    {
        _q = q; _k = k; _v = v; _start = kvStart; _count = kvCount; _groupStart = groupStart;
        _groups = groups; _heads = heads; _kvHeads = kvHeads; _headDim = headDim; _scale = scale; _wide = wide;
    }

    private long _items;

    private void Run(long items)
    {
        _items = items;
        pool.Run(this, (int)Math.Min(items, pool.Threads));
    }

    public void Execute(int part, int parts)
    {
        long i0 = _items * part / parts, i1 = _items * (part + 1) / parts;
        for (long item = i0; item < i1; item++)
        {
            int g = (int)(item / _kvHeads), head = (int)(item % _kvHeads);
            if (_backward) BackwardItem(part, g, head);
            else ForwardItem(part, g, head);
        }
    }

    private int Round(int n) => (n + _width - 1) / _width * _width;

    /// <summary>The keys the group sees: its start row and the largest count.</summary>
    private (int T0, int T1, long Start, int Keys) Group(int g)
    {
        int t0 = _groupStart[g], t1 = _groupStart[g + 1], keys = 0;
        for (int t = t0; t < t1; t++) keys = Math.Max(keys, _count[t]);
        return (t0, t1, _start[t0], keys);
    }

    private float* Scratch(int part, long length)
    {
        if (_scratch[part] is null || _scratch[part].Length < length)
            _scratch[part] = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(length, 1024)), pinned: true);
        return (float*)Unsafe.AsPointer(ref _scratch[part][0]); // pinned
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardItem(int part, int g, int kh)
    {
        var (t0, t1, start, keys) = Group(g);
        int d = _headDim, qWidth = _heads * d, kvWidth = _kvHeads * d, kvOff = kh * d, group = _heads / _kvHeads;
        if (keys == 0)
        {
            for (int h = kh * group; h < (kh + 1) * group; h++) ZeroRows(t0, t1 - t0, h, qWidth);
            return;
        }
        int lk = Round(keys), dp = Round(d);
        long kT = (long)lk * d, vR = (long)dp * keys, s = (long)QueryTile * lk;
        float* kt = Scratch(part, kT + vR + s);
        float* vr = kt + kT, scores = vr + vR;
        // Packed once per kv head, shared by the query heads of its group.
        Microkernels.PackColumns(_k + start * kvWidth + kvOff, kvWidth, d, keys, _width, kt, (long)d * _width);
        Microkernels.PackRows(_v + start * kvWidth + kvOff, kvWidth, keys, d, _width, vr, (long)keys * _width);
        for (int h = kh * group; h < (kh + 1) * group; h++)
            for (int ta = t0; ta < t1; ta += QueryTile)
            {
                int mq = Math.Min(QueryTile, t1 - ta), kmax = 0;
                for (int t = ta; t < ta + mq; t++) kmax = Math.Max(kmax, _count[t]);
                if (kmax == 0) { ZeroRows(ta, mq, h, qWidth); continue; }
                Microkernels.Multiply(isa, _q + (long)ta * qWidth + h * d, qWidth, mq, d, kt, (long)d * _width, kmax, scores, lk, accumulate: false);
                for (int r = 0; r < mq; r++)
                {
                    int t = ta + r, cnt = _count[t];
                    float* row = scores + (long)r * lk;
                    if (cnt == 0)
                    {
                        new Span<float>(row, kmax).Clear();
                        if (_lse != null) _lse[(long)t * _heads + h] = 0;
                        continue;
                    }
                    // exp((s − max)·scale) on the raw scores: the scale folds into the exponent (scale > 0).
                    float max = VectorOps.Max(row, cnt, _wide);
                    float sum = ExpScaled(row, max, cnt);
                    VectorOps.Scale(row, 1f / sum, cnt, _wide);
                    new Span<float>(row + cnt, kmax - cnt).Clear();
                    if (_lse != null) _lse[(long)t * _heads + h] = max * _scale + MathF.Log(sum);
                }
                Microkernels.Multiply(isa, scores, lk, mq, kmax, vr, (long)keys * _width, d, _o + (long)ta * qWidth + h * d, qWidth, accumulate: false);
            }
    }

    /// <summary><c>row[j] = exp((row[j] − max)·scale)</c> in place; returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float ExpScaled(float* row, float max, int n)
    {
        int j = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(max), scale = Vector256.Create(_scale), acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                var e = SimdMath.Exp((Vector256.Load(row + j) - m) * scale);
                e.Store(row + j);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; j < n; j++) { row[j] = MathF.Exp((row[j] - max) * _scale); sum += row[j]; }
        return sum;
    }

    private void ZeroRows(int ta, int mq, int h, int qWidth)
    {
        for (int t = ta; t < ta + mq; t++)
        {
            new Span<float>(_o + (long)t * qWidth + h * _headDim, _headDim).Clear();
            if (_lse != null) _lse[(long)t * _heads + h] = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardItem(int part, int g, int kh)
    {
        var (t0, t1, start, keys) = Group(g);
        int d = _headDim, qWidth = _heads * d, kvWidth = _kvHeads * d, kvOff = kh * d, group = _heads / _kvHeads, w = _width;
        if (keys == 0)
        {
            for (int h = kh * group; h < (kh + 1) * group; h++)
                for (int t = t0; t < t1; t++) new Span<float>(_dQ + (long)t * qWidth + h * d, d).Clear();
            return;
        }
        int lk = Round(keys), dp = Round(d);
        long kT = (long)lk * d, rows = (long)dp * keys, tile = (long)QueryTile * lk, grad = (long)d * lk, tr = (long)d * QueryTile;
        float* kt = Scratch(part, 2 * kT + rows + 4 * tile + 2 * grad + 2 * tr);
        float* vt = kt + kT, kr = vt + kT, s = kr + rows, ds = s + tile, pPacked = ds + tile, dsPacked = pPacked + tile;
        float* dKt = dsPacked + tile, dVt = dKt + grad, qT = dVt + grad, doT = qT + tr;
        float* k = _k + start * kvWidth + kvOff, v = _v + start * kvWidth + kvOff;
        Microkernels.PackColumns(k, kvWidth, d, keys, w, kt, (long)d * w);   // Kᵀ [d, keys]
        Microkernels.PackColumns(v, kvWidth, d, keys, w, vt, (long)d * w);   // Vᵀ [d, keys]
        Microkernels.PackRows(k, kvWidth, keys, d, w, kr, (long)keys * w);    // K [keys, d]
        // dKᵀ, dVᵀ [d, keys] accumulate over the item's query tiles (so no tile needs a transposed P or dS), then are
        // added to the row-major gradients once.
        new Span<float>(dKt, (int)(2 * grad)).Clear();
        for (int h = kh * group; h < (kh + 1) * group; h++)
            for (int ta = t0; ta < t1; ta += QueryTile)
            {
                int mq = Math.Min(QueryTile, t1 - ta), kmax = 0;
                for (int t = ta; t < ta + mq; t++) kmax = Math.Max(kmax, _count[t]);
                float* qTile = _q + (long)ta * qWidth + h * d, doTile = _dO + (long)ta * qWidth + h * d;
                if (kmax == 0)
                {
                    for (int t = ta; t < ta + mq; t++) new Span<float>(_dQ + (long)t * qWidth + h * d, d).Clear();
                    continue;
                }
                Microkernels.Multiply(isa, qTile, qWidth, mq, d, kt, (long)d * w, kmax, s, lk, accumulate: false);    // S = Q·Kᵀ
                Microkernels.Multiply(isa, doTile, qWidth, mq, d, vt, (long)d * w, kmax, ds, lk, accumulate: false);  // dP = dO·Vᵀ
                long panelStride = (long)mq * w;
                for (int r = 0; r < mq; r++)
                {
                    int t = ta + r;
                    long qo = (long)t * qWidth + h * d;
                    float delta = VectorOps.Dot(_dO + qo, _o + qo, d, _wide), m = _lse[(long)t * _heads + h];
                    SoftmaxGradRow(s + (long)r * lk, ds + (long)r * lk, kmax, _count[t], m, delta, pPacked + (long)r * w, dsPacked + (long)r * w, panelStride);
                }
                Microkernels.Multiply(isa, ds, lk, mq, kmax, kr, (long)keys * w, d, _dQ + (long)ta * qWidth + h * d, qWidth, accumulate: false); // dQ = dS·K
                Transpose(qTile, qWidth, mq, d, qT);
                Transpose(doTile, qWidth, mq, d, doT);
                Microkernels.Multiply(isa, qT, QueryTile, d, mq, dsPacked, panelStride, kmax, dKt, lk, accumulate: true);  // dKᵀ += Qᵀ·dS
                Microkernels.Multiply(isa, doT, QueryTile, d, mq, pPacked, panelStride, kmax, dVt, lk, accumulate: true);  // dVᵀ += dOᵀ·P
            }
        // The gradients of this item's key/value rows are its own (zeroed by the backend): transpose them into place.
        Microkernels.Transpose(dKt, lk, d, keys, _dK + start * kvWidth + kvOff, kvWidth);
        Microkernels.Transpose(dVt, lk, d, keys, _dV + start * kvWidth + kvOff, kvWidth);
    }

    /// <summary><c>dst [cols, rows]</c> (row stride <see cref="QueryTile"/>) = the transpose of <c>src [rows, cols]</c> (row stride ld).</summary>
    private static void Transpose(float* src, int ld, int rows, int cols, float* dst) => Microkernels.Transpose(src, ld, rows, cols, dst, QueryTile);

    /// <summary>
    /// One query row: <c>P = exp(S·scale − lse)</c> and <c>dS = P·(dP − δ)·scale</c> for its <paramref name="count"/>
    /// visible keys, 0 for the rest up to <paramref name="n"/>; dS replaces dP in place (row-major, for dQ), and P and dS
    /// are also stored into this row of their packed panels (for dKᵀ, dVᵀ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SoftmaxGradRow(float* s, float* dpRow, int n, int count, float lse, float delta, float* pPacked, float* dsPacked, long panelStride)
    {
        int w = _width, j = 0;
        if (Vector256.IsHardwareAccelerated && w % 8 == 0)
        {
            Vector256<float> scale = Vector256.Create(_scale), m = Vector256.Create(lse), dl = Vector256.Create(delta);
            for (; j + 8 <= n; j += 8)
            {
                var p = SimdMath.Exp(Vector256.Load(s + j) * scale - m);
                var g = p * (Vector256.Load(dpRow + j) - dl) * scale;
                if (j + 8 > count)
                {
                    var keep = Vector256.LessThan(Vector256.Create(j) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
                    p &= keep;
                    g &= keep;
                }
                g.Store(dpRow + j);
                long o = j / w * panelStride + j % w;
                p.Store(pPacked + o);
                g.Store(dsPacked + o);
            }
        }
        for (; j < n; j++)
        {
            float p = j < count ? MathF.Exp(s[j] * _scale - lse) : 0f;
            float g = p * (dpRow[j] - delta) * _scale;
            if (j >= count) g = 0f;
            dpRow[j] = g;
            long o = j / w * panelStride + j % w;
            pPacked[o] = p;
            dsPacked[o] = g;
        }
    }
}
