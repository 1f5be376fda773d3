using System.Runtime.InteropServices;
using SharpTune.Engine.Cpu.Gemm;
using SharpTune.Numerics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// The CPU implementation of the kernel boundary: buffers are native host memory, tensors resolve to pointers. It
/// only validates (shapes, types, indices) and dispatches: every computation runs in a <see cref="CpuKernels"/> set
/// (the scalar reference or a SIMD instruction set). Members follow the order of <see cref="IComputeBackend"/>.
/// </summary>
internal sealed unsafe class CpuBackend : IComputeBackend
{
    private readonly WorkerPool _pool;

    public CpuBackend(KernelIsa isa, int threads)
    {
        _pool = new WorkerPool(threads);
        Kernels = isa == KernelIsa.Scalar ? new ScalarKernels() : new SimdKernels(isa, _pool);
    }

    internal CpuKernels Kernels { get; }

    public string Name => CpuKernelSets.Device + "-" + Kernels.Name;

    public Arena CreateArena(string name) => new CpuArena(name);

    public LinearWeight LoadLinear(ReadOnlySpan<byte> data, TensorDType dtype, int outFeatures, int inFeatures, ElementType storage, Arena arena)
    {
        if (storage is not (ElementType.F32 or ElementType.BF16)) throw new ArgumentOutOfRangeException(nameof(storage));
        long expected = (long)outFeatures * inFeatures * dtype.SizeOf();
        if (data.Length != expected) throw new ArgumentException($"weight [{outFeatures}, {inFeatures}] {dtype} needs {expected} bytes, got {data.Length}");
        int width = Kernels.PanelWidth;
        long panels = width == 0 ? outFeatures : (outFeatures + width - 1) / width;
        long length = width == 0 ? (long)outFeatures * inFeatures : panels * width * inFeatures;
        var w = new CpuLinearWeight(outFeatures, inFeatures, storage, ((CpuArena)arena).AllocateBuffer(storage, length), width);
        WeightPacker.Pack(data, dtype, w);
        return w;
    }

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        Check(destination, ElementType.F32, source.Length);
        source.CopyTo(new Span<float>(F(destination), source.Length));
    }

    public void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        Check(destination, ElementType.I32, source.Length);
        source.CopyTo(new Span<int>(I(destination), source.Length));
    }

    public void Download(Tensor source, Span<float> destination)
    {
        Check(source, ElementType.F32, destination.Length);
        new ReadOnlySpan<float>(F(source), destination.Length).CopyTo(destination);
    }

    public void Download(Tensor source, Span<int> destination)
    {
        Check(source, ElementType.I32, destination.Length);
        new ReadOnlySpan<int>(I(source), destination.Length).CopyTo(destination);
    }

    public void Embedding(Tensor ids, LinearWeight table, Tensor destination)
    {
        var w = (CpuLinearWeight)table;
        int n = checked((int)ids.Length);
        Check(destination, ElementType.F32, (long)n * w.InFeatures);
        int* id = I(ids);
        for (int t = 0; t < n; t++)
            if ((uint)id[t] >= (uint)w.OutFeatures) throw new UserException($"token id {id[t]} is outside the vocabulary (0..{w.OutFeatures - 1})");
        Kernels.Embedding(id, n, w, F(destination));
    }

    public void Embedding(Tensor ids, Tensor table, Tensor destination)
    {
        int n = checked((int)ids.Length);
        Check(destination, ElementType.F32, (long)n * table.Cols);
        int* id = I(ids);
        for (int t = 0; t < n; t++)
            if ((uint)id[t] >= (uint)table.Rows) throw new UserException($"token id {id[t]} is outside the vocabulary (0..{table.Rows - 1})");
        Kernels.GatherRows(F(table), table.Cols, id, n, F(destination));
    }

    public void EmbeddingBackward(Tensor ids, Tensor outputGrad, Tensor tableGrad)
    {
        int n = checked((int)ids.Length);
        Check(outputGrad, ElementType.F32, (long)n * tableGrad.Cols);
        int* id = I(ids);
        for (int t = 0; t < n; t++)
            if ((uint)id[t] >= (uint)tableGrad.Rows) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id[t]} of {tableGrad.Rows}");
        Kernels.ScatterAddRows(F(outputGrad), tableGrad.Cols, id, n, F(tableGrad));
    }

    public void GatherRows(Tensor source, Tensor indices, Tensor destination)
    {
        int k = checked((int)indices.Length);
        Check(destination, ElementType.F32, (long)k * source.Cols);
        int* idx = CheckRows(indices, source.Rows);
        Kernels.GatherRows(F(source), source.Cols, idx, k, F(destination));
    }

    public void ScatterAddRows(Tensor source, Tensor indices, Tensor destination)
    {
        int k = checked((int)indices.Length);
        Check(source, ElementType.F32, (long)k * destination.Cols);
        int* idx = CheckRows(indices, destination.Rows);
        Kernels.ScatterAddRows(F(source), destination.Cols, idx, k, F(destination));
    }

    public void RmsNorm(Tensor x, Tensor weight, float eps, Tensor destination)
    {
        Check(weight, ElementType.F32, x.Cols);
        SameShape(x, destination);
        Kernels.RmsNorm(F(x), x.Rows, x.Cols, F(weight), eps, F(destination));
    }

    public void RmsNormBackward(Tensor x, Tensor weight, float eps, Tensor outputGrad, Tensor inputGrad, bool accumulate, Tensor weightGrad)
    {
        Check(weight, ElementType.F32, x.Cols);
        SameShape(x, outputGrad);
        SameShape(x, inputGrad);
        if (weightGrad.IsValid) Check(weightGrad, ElementType.F32, x.Cols);
        if (accumulate && SameMemory(outputGrad, inputGrad)) throw new ArgumentException("rmsnorm backward: an accumulated input gradient cannot alias the output gradient");
        Kernels.RmsNormBackward(F(x), x.Rows, x.Cols, F(weight), eps, F(outputGrad), F(inputGrad), accumulate, weightGrad.IsValid ? F(weightGrad) : null);
    }

    public void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate) =>
        Linear(x, weight, bias, destination, accumulate, default, default, 0f);

    public void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate, Tensor lowRankInput, Tensor lowRankWeight, float scale)
    {
        var w = (CpuLinearWeight)weight;
        if (x.Cols != w.InFeatures || destination.Rows != x.Rows || destination.Cols != w.OutFeatures || x.Type != ElementType.F32 || destination.Type != ElementType.F32)
            throw new ArgumentException($"linear: x {x}, weight [{w.OutFeatures}, {w.InFeatures}], destination {destination}");
        if (bias.IsValid) Check(bias, ElementType.F32, w.OutFeatures);
        var job = new GemmJob
        {
            A = F(x), ARow = w.InFeatures, ACol = 1, M = x.Rows, N = w.OutFeatures, K = w.InFeatures, Alpha = 1f,
            Source = GemmSource.WeightTransposed, Weight = w, Bias = bias.IsValid ? F(bias) : null, C = F(destination), Accumulate = accumulate,
        };
        if (lowRankInput.IsValid)
        {
            // B2 = lowRankWeightᵀ: lowRankWeight is [out, r], so B2[k, n] = lowRankWeight[n, k].
            if (lowRankInput.Rows != x.Rows || lowRankWeight.Rows != w.OutFeatures || lowRankWeight.Cols != lowRankInput.Cols)
                throw new ArgumentException($"linear: low-rank input {lowRankInput} and weight {lowRankWeight} for [{w.OutFeatures}, {w.InFeatures}]");
            job.A2 = F(lowRankInput); job.A2Row = lowRankInput.Cols; job.K2 = lowRankInput.Cols;
            job.B2 = F(lowRankWeight); job.B2Row = 1; job.B2Col = lowRankWeight.Cols; job.Alpha2 = scale;
        }
        Kernels.Gemm(job);
    }

    public void LinearBackward(Tensor outputGrad, LinearWeight weight, Tensor inputGrad, bool accumulate) =>
        LinearBackward(outputGrad, weight, inputGrad, accumulate, default, default);

    public void LinearBackward(Tensor outputGrad, LinearWeight weight, Tensor inputGrad, bool accumulate, Tensor lowRankGrad, Tensor lowRankWeight)
    {
        var w = (CpuLinearWeight)weight;
        if (outputGrad.Cols != w.OutFeatures || inputGrad.Rows != outputGrad.Rows || inputGrad.Cols != w.InFeatures)
            throw new ArgumentException($"linear backward: outputGrad {outputGrad}, weight [{w.OutFeatures}, {w.InFeatures}], inputGrad {inputGrad}");
        var job = new GemmJob
        {
            A = F(outputGrad), ARow = outputGrad.Cols, ACol = 1, M = outputGrad.Rows, N = w.InFeatures, K = w.OutFeatures, Alpha = 1f,
            Source = GemmSource.Weight, Weight = w, C = F(inputGrad), Accumulate = accumulate,
        };
        if (lowRankGrad.IsValid)
        {
            if (lowRankGrad.Rows != outputGrad.Rows || lowRankWeight.Cols != w.InFeatures || lowRankWeight.Rows != lowRankGrad.Cols)
                throw new ArgumentException($"linear backward: low-rank gradient {lowRankGrad} and weight {lowRankWeight} for [{w.OutFeatures}, {w.InFeatures}]");
            job.A2 = F(lowRankGrad); job.A2Row = lowRankGrad.Cols; job.K2 = lowRankGrad.Cols;
            job.B2 = F(lowRankWeight); job.B2Row = lowRankWeight.Cols; job.B2Col = 1; job.Alpha2 = 1f;
        }
        Kernels.Gemm(job);
    }

    public void MatMul(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor destination, float alpha = 1f, bool accumulate = false)
    {
        int m = transposeA ? a.Cols : a.Rows, k = transposeA ? a.Rows : a.Cols;
        int kb = transposeB ? b.Cols : b.Rows, n = transposeB ? b.Rows : b.Cols;
        if (k != kb || destination.Rows != m || destination.Cols != n)
            throw new ArgumentException($"matmul: op(a) [{m}, {k}] · op(b) [{kb}, {n}] → destination {destination}");
        if (SameMemory(a, destination) || SameMemory(b, destination)) throw new ArgumentException("matmul: the destination may not alias an operand");
        Kernels.Gemm(new GemmJob
        {
            A = F(a), ARow = transposeA ? 1 : a.Cols, ACol = transposeA ? a.Cols : 1, M = m, N = n, K = k, Alpha = alpha,
            Source = GemmSource.Matrix, B = F(b), BRow = transposeB ? 1 : b.Cols, BCol = transposeB ? b.Cols : 1,
            C = F(destination), Accumulate = accumulate,
        });
    }

    public void AddBias(Tensor bias, Tensor destination)
    {
        Check(bias, ElementType.F32, destination.Cols);
        Kernels.AddBias(F(bias), destination.Rows, destination.Cols, F(destination));
    }

    public void SumRows(Tensor x, Tensor destination, bool accumulate)
    {
        Check(destination, ElementType.F32, x.Cols);
        if (SameMemory(x, destination)) throw new ArgumentException("sum rows: the destination may not alias the input");
        Kernels.SumRows(F(x), x.Rows, x.Cols, F(destination), accumulate);
    }

    public void Rope(Tensor x, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor destination) =>
        RopeCore(x, positions, cos, sin, headDim, destination, inverse: false);

    public void RopeBackward(Tensor outputGrad, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor inputGrad) =>
        RopeCore(outputGrad, positions, cos, sin, headDim, inputGrad, inverse: true);

    private void RopeCore(Tensor x, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor destination, bool inverse)
    {
        SameShape(x, destination);
        Check(positions, ElementType.I32, x.Rows);
        if (x.Cols % headDim != 0 || headDim % 2 != 0 || cos.Cols != headDim / 2 || sin.Cols != headDim / 2)
            throw new ArgumentException($"rope: x {x}, headDim {headDim}, cos {cos}");
        int* pos = I(positions);
        for (int t = 0; t < x.Rows; t++)
            if ((uint)pos[t] >= (uint)cos.Rows) throw new UserException($"position {pos[t]} exceeds the RoPE table of {cos.Rows} positions (max_position_embeddings)");
        Kernels.Rope(F(x), x.Rows, x.Cols, pos, F(cos), F(sin), headDim, F(destination), inverse);
    }

    public void WriteKv(Tensor k, Tensor v, Tensor slots, Tensor kCache, Tensor vCache)
    {
        SameShape(k, v);
        Check(slots, ElementType.I32, k.Rows);
        if (kCache.Cols != k.Cols || vCache.Cols != k.Cols || kCache.Rows != vCache.Rows) throw new ArgumentException($"kv cache {kCache} for k {k}");
        int* slot = I(slots);
        for (int t = 0; t < k.Rows; t++)
            if ((uint)slot[t] >= (uint)kCache.Rows) throw new ArgumentOutOfRangeException(nameof(slots), $"cache slot {slot[t]} of {kCache.Rows}");
        Kernels.ScatterRows(F(k), k.Cols, slot, k.Rows, F(kCache));
        Kernels.ScatterRows(F(v), v.Cols, slot, v.Rows, F(vCache));
    }

    public void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination) =>
        Attention(q, kCache, vCache, kvStart, kvCount, heads, kvHeads, scale, destination, default);

    public void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination, Tensor logSumExp)
    {
        int headDim = CheckAttention(q, kCache, vCache, kvStart, kvCount, heads, kvHeads);
        SameShape(q, destination);
        if (logSumExp.IsValid) Check(logSumExp, ElementType.F32, (long)q.Rows * heads);
        int groups = Groups(I(kvStart), I(kvCount), q.Rows, disjoint: false);
        fixed (int* groupStart = _groupStarts)
            Kernels.Attention(F(q), q.Rows, F(kCache), F(vCache), I(kvStart), I(kvCount), groupStart, groups, heads, kvHeads, headDim, scale, F(destination),
                logSumExp.IsValid ? F(logSumExp) : null);
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor outputGrad, Tensor logSumExp, Tensor kvStart, Tensor kvCount,
        int heads, int kvHeads, float scale, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad)
    {
        int headDim = CheckAttention(q, k, v, kvStart, kvCount, heads, kvHeads);
        SameShape(q, output);
        SameShape(q, outputGrad);
        SameShape(q, queryGrad);
        SameShape(k, keyGrad);
        SameShape(v, valueGrad);
        Check(logSumExp, ElementType.F32, (long)q.Rows * heads);
        int* start = I(kvStart), count = I(kvCount);
        // Each group's key and value gradients are summed by one thread, so groups may not share key rows.
        int groups = Groups(start, count, q.Rows, disjoint: true);
        Zero(keyGrad);
        Zero(valueGrad);
        fixed (int* groupStart = _groupStarts)
            Kernels.AttentionBackward(F(q), F(k), F(v), F(output), F(outputGrad), F(logSumExp), start, count, groupStart, groups,
                heads, kvHeads, headDim, scale, F(queryGrad), F(keyGrad), F(valueGrad));
    }

    private int[] _groupStarts = [];
    private (long Start, long End)[] _groupRanges = [];

    /// <summary>
    /// Splits the tokens into groups — runs that share their first key row (a sequence) — into <c>_groupStarts</c>
    /// (group g is tokens <c>[_groupStarts[g], _groupStarts[g+1])</c>) and returns their number; with
    /// <paramref name="disjoint"/> the groups' key rows must not overlap.
    /// </summary>
    private int Groups(int* start, int* count, int tokens, bool disjoint)
    {
        if (_groupStarts.Length < tokens + 1)
        {
            _groupStarts = new int[tokens + 1];
            _groupRanges = new (long, long)[tokens];
        }
        int groups = 0;
        for (int t = 0; t < tokens; t++)
        {
            if (t == 0 || start[t] != start[t - 1])
            {
                _groupStarts[groups] = t;
                _groupRanges[groups++] = (start[t], start[t]);
            }
            ref var range = ref _groupRanges[groups - 1];
            range.End = Math.Max(range.End, (long)start[t] + count[t]);
        }
        _groupStarts[groups] = tokens;
        if (!disjoint) return groups;
        var sorted = _groupRanges.AsSpan(0, groups);
        sorted.Sort();
        long reached = long.MinValue;
        foreach (var (from, to) in sorted)
        {
            if (to == from) continue;
            if (from < reached) throw new ArgumentException($"attention backward: the key rows of two token groups overlap at row {from}");
            reached = to;
        }
        return groups;
    }

    private int CheckAttention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads)
    {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || q.Cols % heads != 0) throw new ArgumentException($"attention: {heads} heads over {kvHeads} kv heads, q {q}");
        int headDim = q.Cols / heads;
        if (kCache.Cols != kvHeads * headDim) throw new ArgumentException($"attention: cache {kCache} for {kvHeads} kv heads of {headDim}");
        SameShape(kCache, vCache);
        Check(kvStart, ElementType.I32, q.Rows);
        Check(kvCount, ElementType.I32, q.Rows);
        int* start = I(kvStart), count = I(kvCount);
        for (int t = 0; t < q.Rows; t++)
            if (start[t] < 0 || count[t] < 0 || (long)start[t] + count[t] > kCache.Rows)
                throw new ArgumentOutOfRangeException(nameof(kvStart), $"token {t}: cache rows {start[t]}+{count[t]} of {kCache.Rows}");
        return headDim;
    }

    public void SwiGlu(Tensor gate, Tensor up, Tensor destination)
    {
        SameShape(gate, up);
        SameShape(gate, destination);
        Kernels.SwiGlu(F(gate), F(up), gate.Length, F(destination));
    }

    public void SwiGluBackward(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad)
    {
        SameShape(gate, up);
        SameShape(gate, outputGrad);
        SameShape(gate, gateGrad);
        SameShape(gate, upGrad);
        Kernels.SwiGluBackward(F(gate), F(up), F(outputGrad), gate.Length, F(gateGrad), F(upGrad));
    }

    public void Dropout(Tensor x, float probability, ulong seed, Tensor destination)
    {
        SameShape(x, destination);
        if (!(probability >= 0 && probability < 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "expected [0, 1)");
        Kernels.Dropout(F(x), x.Length, probability, seed, F(destination));
    }

    public void CrossEntropy(Tensor logits, Tensor targets, float gradScale, Tensor logitsGrad, Tensor stats)
    {
        SameShape(logits, logitsGrad);
        Check(targets, ElementType.I32, logits.Rows);
        Check(stats, ElementType.F32, logits.Rows * 3L);
        int* t = I(targets);
        for (int r = 0; r < logits.Rows; r++)
            if ((uint)t[r] >= (uint)logits.Cols) throw new ArgumentOutOfRangeException(nameof(targets), $"target {t[r]} of a vocabulary of {logits.Cols}");
        Kernels.CrossEntropy(F(logits), logits.Rows, logits.Cols, t, gradScale, F(logitsGrad), F(stats));
    }

    public void Softmax(Tensor x, Tensor destination)
    {
        SameShape(x, destination);
        Kernels.Softmax(F(x), x.Rows, x.Cols, F(destination));
    }

    public void Argmax(Tensor x, Tensor destination)
    {
        Check(destination, ElementType.I32, x.Rows);
        Kernels.Argmax(F(x), x.Rows, x.Cols, I(destination));
    }

    public void Add(Tensor source, float alpha, Tensor destination)
    {
        Check(destination, ElementType.F32, source.Length);
        Kernels.Axpy(alpha, F(source), source.Length, F(destination));
    }

    public void Copy(Tensor source, Tensor destination)
    {
        if (source.Type != destination.Type || source.Length != destination.Length) throw new ArgumentException($"copy: {source} → {destination}");
        long bytes = source.Length * source.Type.SizeOf();
        Buffer.MemoryCopy(Pointer(source), Pointer(destination), bytes, bytes);
    }

    public void Zero(Tensor destination) => NativeMemory.Clear(Pointer(destination), (nuint)(destination.Length * destination.Type.SizeOf()));

    public void Scale(Tensor x, float factor) => Kernels.Scale(F(x), x.Length, factor);

    public double SumOfSquares(Tensor x) => Kernels.SumOfSquares(F(x), x.Length);

    public void AdamW(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamWStep step)
    {
        SameShape(param, grad);
        SameShape(param, expAvg);
        SameShape(param, expAvgSq);
        if (step.Step < 1) throw new ArgumentOutOfRangeException(nameof(step), "AdamW steps count from 1");
        Kernels.AdamW(F(param), F(grad), F(expAvg), F(expAvgSq), param.Length, step);
    }

    public void Dispose() => _pool.Dispose();

    /// <summary>The row indices of <paramref name="indices"/>, each checked to lie in <c>[0, rows)</c>.</summary>
    private static int* CheckRows(Tensor indices, int rows)
    {
        int* idx = I(indices);
        for (long i = 0; i < indices.Length; i++)
            if ((uint)idx[i] >= (uint)rows) throw new ArgumentOutOfRangeException(nameof(indices), $"row {idx[i]} of {rows}");
        return idx;
    }

    private static void* Pointer(Tensor t) => (byte*)((CpuBuffer)t.Buffer).Pointer + t.Offset * t.Type.SizeOf();

    private static bool SameMemory(Tensor a, Tensor b) =>
        ReferenceEquals(a.Buffer, b.Buffer) && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length;

    private static float* F(Tensor t)
    {
        if (t.Type != ElementType.F32) throw new ArgumentException($"expected an F32 tensor, got {t}");
        return (float*)((CpuBuffer)t.Buffer).Pointer + t.Offset;
    }

    private static int* I(Tensor t)
    {
        if (t.Type != ElementType.I32) throw new ArgumentException($"expected an I32 tensor, got {t}");
        return (int*)((CpuBuffer)t.Buffer).Pointer + t.Offset;
    }

    private static void Check(Tensor t, ElementType type, long length)
    {
        if (!t.IsValid || t.Type != type || t.Length != length) throw new ArgumentException($"expected {type} with {length} elements, got {t}");
    }

    private static void SameShape(Tensor a, Tensor b)
    {
        if (a.Rows != b.Rows || a.Cols != b.Cols || a.Type != b.Type) throw new ArgumentException($"shape mismatch: {a} vs {b}");
    }
}
