using System.Runtime.InteropServices;
using SharpTune.Models;
using SharpTune.Numerics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// The CPU implementation of the kernel boundary: buffers are native host memory, tensors resolve to pointers,
/// and the math runs in a <see cref="CpuKernels"/> set (scalar reference or a SIMD instruction set).
/// </summary>
internal sealed unsafe class CpuBackend : IComputeBackend
{
    private readonly WorkerPool _pool;

    public CpuBackend(KernelIsa isa, int threads)
    {
        _pool = new WorkerPool(threads);
        Isa = isa;
        Kernels = isa == KernelIsa.Scalar ? new ScalarKernels() : new SimdKernels(isa, _pool);
    }

    public KernelIsa Isa { get; }

    internal CpuKernels Kernels { get; }

    public string Name => "cpu-" + Kernels.Name;

    public Arena CreateArena(string name) => new CpuArena(name);

    public LinearWeight LoadLinear(ReadOnlySpan<byte> data, TensorDType dtype, int outFeatures, int inFeatures, ElementType storage, Arena arena)
    {
        if (storage is not (ElementType.F32 or ElementType.BF16)) throw new ArgumentOutOfRangeException(nameof(storage));
        long expected = (long)outFeatures * inFeatures * dtype.SizeOf();
        if (data.Length != expected) throw new ArgumentException($"weight [{outFeatures}, {inFeatures}] {dtype} needs {expected} bytes, got {data.Length}");
        int width = Kernels.PanelWidth;
        long panels = width == 0 ? outFeatures : (outFeatures + width - 1) / width;
        long length = width == 0 ? (long)outFeatures * inFeatures : panels * width * inFeatures;
        var buffer = ((CpuArena)arena).AllocateBuffer(storage, length);
        var w = new CpuLinearWeight(outFeatures, inFeatures, storage, buffer, width);
        long stride = width == 0 ? 1 : width;
        for (int r = 0; r < outFeatures; r++)
        {
            long dst = w.IndexOf(r, 0);
            var row = data.Slice(r * inFeatures * dtype.SizeOf(), inFeatures * dtype.SizeOf());
            if (storage == ElementType.F32)
            {
                float* p = (float*)w.Data + dst;
                for (int k = 0; k < inFeatures; k++) p[k * stride] = ReadAsSingle(row, dtype, k);
            }
            else
            {
                ushort* p = (ushort*)w.Data + dst;
                if (dtype == TensorDType.BF16)
                {
                    var bits = MemoryMarshal.Cast<byte, ushort>(row);
                    for (int k = 0; k < inFeatures; k++) p[k * stride] = bits[k];
                }
                else
                    for (int k = 0; k < inFeatures; k++) p[k * stride] = BFloat16.FromSingle(ReadAsSingle(row, dtype, k));
            }
        }
        return w;
    }

    private static float ReadAsSingle(ReadOnlySpan<byte> row, TensorDType dtype, int k) => dtype switch
    {
        TensorDType.F32 => MemoryMarshal.Cast<byte, float>(row)[k],
        TensorDType.BF16 => BFloat16.ToSingle(MemoryMarshal.Cast<byte, ushort>(row)[k]),
        _ => (float)MemoryMarshal.Cast<byte, Half>(row)[k],
    };

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
        int n = checked((int)ids.Length), dim = w.InFeatures;
        Check(destination, ElementType.F32, (long)n * dim);
        int* id = I(ids);
        float* dst = F(destination);
        long stride = w.PanelWidth == 0 ? 1 : w.PanelWidth;
        for (int t = 0; t < n; t++)
        {
            if ((uint)id[t] >= (uint)w.OutFeatures) throw new UserException($"token id {id[t]} is outside the vocabulary (0..{w.OutFeatures - 1})");
            long src = w.IndexOf(id[t], 0);
            float* o = dst + (long)t * dim;
            if (w.Storage == ElementType.BF16)
                for (int j = 0; j < dim; j++) o[j] = BFloat16.ToSingle(((ushort*)w.Data)[src + j * stride]);
            else
                for (int j = 0; j < dim; j++) o[j] = ((float*)w.Data)[src + j * stride];
        }
    }

    public void RmsNorm(Tensor x, Tensor weight, float eps, Tensor destination)
    {
        Check(weight, ElementType.F32, x.Cols);
        SameShape(x, destination);
        Kernels.RmsNorm(F(x), x.Rows, x.Cols, F(weight), eps, F(destination));
    }

    public void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate)
    {
        var w = (CpuLinearWeight)weight;
        if (x.Cols != w.InFeatures || destination.Rows != x.Rows || destination.Cols != w.OutFeatures || x.Type != ElementType.F32 || destination.Type != ElementType.F32)
            throw new ArgumentException($"linear: x {x}, weight [{w.OutFeatures}, {w.InFeatures}], destination {destination}");
        if (bias.IsValid) Check(bias, ElementType.F32, w.OutFeatures);
        Kernels.Gemm(F(x), x.Rows, w, bias.IsValid ? F(bias) : null, F(destination), accumulate);
    }

    public void Rope(Tensor x, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor destination)
    {
        SameShape(x, destination);
        Check(positions, ElementType.I32, x.Rows);
        if (x.Cols % headDim != 0 || headDim % 2 != 0 || cos.Cols != headDim / 2 || sin.Cols != headDim / 2)
            throw new ArgumentException($"rope: x {x}, headDim {headDim}, cos {cos}");
        int* pos = I(positions);
        for (int t = 0; t < x.Rows; t++)
            if ((uint)pos[t] >= (uint)cos.Rows) throw new UserException($"position {pos[t]} exceeds the RoPE table of {cos.Rows} positions (max_position_embeddings)");
        Kernels.Rope(F(x), x.Rows, x.Cols, pos, F(cos), F(sin), headDim, F(destination));
    }

    public void WriteKv(Tensor k, Tensor v, Tensor slots, Tensor kCache, Tensor vCache)
    {
        SameShape(k, v);
        Check(slots, ElementType.I32, k.Rows);
        if (kCache.Cols != k.Cols || vCache.Cols != k.Cols || kCache.Rows != vCache.Rows) throw new ArgumentException($"kv cache {kCache} for k {k}");
        int* slot = I(slots);
        int width = k.Cols;
        for (int t = 0; t < k.Rows; t++)
        {
            if ((uint)slot[t] >= (uint)kCache.Rows) throw new ArgumentOutOfRangeException(nameof(slots), $"cache slot {slot[t]} of {kCache.Rows}");
            Buffer.MemoryCopy(F(k) + (long)t * width, F(kCache) + (long)slot[t] * width, width * 4L, width * 4L);
            Buffer.MemoryCopy(F(v) + (long)t * width, F(vCache) + (long)slot[t] * width, width * 4L, width * 4L);
        }
    }

    public void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination)
    {
        SameShape(q, destination);
        if (heads % kvHeads != 0 || q.Cols % heads != 0) throw new ArgumentException($"attention: {heads} heads over {kvHeads} kv heads, q {q}");
        int headDim = q.Cols / heads;
        if (kCache.Cols != kvHeads * headDim) throw new ArgumentException($"attention: cache {kCache} for {kvHeads} kv heads of {headDim}");
        Check(kvStart, ElementType.I32, q.Rows);
        Check(kvCount, ElementType.I32, q.Rows);
        int* start = I(kvStart), count = I(kvCount);
        for (int t = 0; t < q.Rows; t++)
            if (start[t] < 0 || count[t] < 0 || (long)start[t] + count[t] > kCache.Rows)
                throw new ArgumentOutOfRangeException(nameof(kvStart), $"token {t}: cache rows {start[t]}+{count[t]} of {kCache.Rows}");
        Kernels.Attention(F(q), q.Rows, F(kCache), F(vCache), start, count, heads, kvHeads, headDim, scale, F(destination));
    }

    public void SwiGlu(Tensor gate, Tensor up, Tensor destination)
    {
        SameShape(gate, up);
        SameShape(gate, destination);
        Kernels.SwiGlu(F(gate), F(up), gate.Length, F(destination));
    }

    public void Softmax(Tensor x, Tensor destination)
    {
        SameShape(x, destination);
        Kernels.Softmax(F(x), x.Rows, x.Cols, F(destination));
    }

    public void GatherRows(Tensor source, Tensor indices, Tensor destination)
    {
        int k = checked((int)indices.Length);
        Check(destination, ElementType.F32, (long)k * source.Cols);
        int* idx = I(indices);
        for (int i = 0; i < k; i++)
        {
            if ((uint)idx[i] >= (uint)source.Rows) throw new ArgumentOutOfRangeException(nameof(indices), $"row {idx[i]} of {source.Rows}");
            Buffer.MemoryCopy(F(source) + (long)idx[i] * source.Cols, F(destination) + (long)i * source.Cols, source.Cols * 4L, source.Cols * 4L);
        }
    }

    public void Argmax(Tensor x, Tensor destination)
    {
        Check(destination, ElementType.I32, x.Rows);
        Kernels.Argmax(F(x), x.Rows, x.Cols, I(destination));
    }

    public void Dispose() => _pool.Dispose();

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
