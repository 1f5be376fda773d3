using System.Runtime.InteropServices;
using SharpTune.Engine;
using SharpTune.Engine.Cpu;
using SharpTune.Numerics;

namespace SharpTune.Tests.Engine;

/// <summary>
/// Every fast kernel set available on this CPU against the scalar reference, in-process, on random shapes
/// including odd sizes and the GEMM's block edges.
/// </summary>
public sealed class KernelParityTests
{
    public static TheoryData<BackendVariant> Fast() => TestBackends.Fast();

    private static float[] Random(Random rng, long n, float scale = 1f)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    private static Tensor Put(IComputeBackend b, Arena arena, float[] data, int rows, int cols)
    {
        var t = arena.Allocate(ElementType.F32, rows, cols);
        b.Upload(data, t);
        return t;
    }

    private static Tensor PutInts(IComputeBackend b, Arena arena, int[] data)
    {
        var t = arena.Allocate(ElementType.I32, 1, data.Length);
        b.Upload(data, t);
        return t;
    }

    private static float[] Get(IComputeBackend b, Tensor t)
    {
        var a = new float[t.Length];
        b.Download(t, a);
        return a;
    }

    private static void Close(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Runs <paramref name="body"/> on the reference backend and on <paramref name="variant"/>; returns both outputs.</summary>
    private static (float[] Ref, float[] Fast) Both(BackendVariant variant, Func<IComputeBackend, Arena, float[]> body)
    {
        using var scalar = ComputeBackends.Reference.Create();
        using var fast = variant.Create();
        using var a1 = scalar.CreateArena("test");
        using var a2 = fast.CreateArena("test");
        return (body(scalar, a1), body(fast, a2));
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Gemm_matches_reference_on_odd_shapes_and_block_edges(BackendVariant set)
    {
        int[][] shapes = [[1, 1, 1], [5, 7, 3], [6, 16, 32], [13, 300, 37], [7, 513, 65], [150, 600, 70], [2, 33, 161]];
        foreach (var dtype in new[] { TensorDType.F32, TensorDType.BF16 })
            foreach (var shape in shapes)
                foreach (var (bias, acc) in new[] { (false, false), (true, false), (true, true) })
                {
                    int m = shape[0], k = shape[1], n = shape[2];
                    var rng = new Random(m * 1000 + k + n);
                    var x = Random(rng, (long)m * k);
                    var wf = Random(rng, (long)n * k);
                    var bvals = Random(rng, n);
                    var c0 = Random(rng, (long)m * n);
                    byte[] raw = dtype == TensorDType.F32
                        ? MemoryMarshal.AsBytes(wf.AsSpan()).ToArray()
                        : MemoryMarshal.AsBytes(wf.Select(BFloat16.FromSingle).ToArray().AsSpan()).ToArray();
                    var storage = dtype == TensorDType.F32 ? ElementType.F32 : ElementType.BF16;
                    var (r, f) = Both(set, (b, arena) =>
                    {
                        var w = b.LoadLinear(raw, dtype, n, k, storage, arena);
                        var c = Put(b, arena, c0, m, n);
                        b.Linear(Put(b, arena, x, m, k), w, bias ? Put(b, arena, bvals, 1, n) : default, c, acc);
                        return Get(b, c);
                    });
                    Close(r, f, 2e-6f * k, $"{set} gemm {m}x{k}x{n} {dtype} bias={bias} acc={acc}");
                }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Backward_gemms_match_reference_across_block_edges(BackendVariant set)
    {
        // Shapes that cross the K block (256), the M block (144), panel edges and the row/column thread split.
        int[][] shapes = [[150, 600, 70], [7, 513, 65], [300, 40, 16], [1, 33, 161]];
        foreach (var dtype in new[] { TensorDType.F32, TensorDType.BF16 })
            foreach (var shape in shapes)
            {
                int m = shape[0], outF = shape[1], inF = shape[2];
                var rng = new Random(m + outF * 3 + inF * 7);
                var dy = Random(rng, (long)m * outF);
                var wf = Random(rng, (long)outF * inF);
                var x = Random(rng, (long)m * inF);
                byte[] raw = dtype == TensorDType.F32
                    ? MemoryMarshal.AsBytes(wf.AsSpan()).ToArray()
                    : MemoryMarshal.AsBytes(wf.Select(BFloat16.FromSingle).ToArray().AsSpan()).ToArray();
                var (r, f) = Both(set, (b, arena) =>
                {
                    var w = b.LoadLinear(raw, dtype, outF, inF, dtype == TensorDType.F32 ? ElementType.F32 : ElementType.BF16, arena);
                    var dx = Put(b, arena, x, m, inF);
                    b.LinearBackward(Put(b, arena, dy, m, outF), w, dx, accumulate: true);
                    // dW = dYᵀ · X, both operands strided the other way round.
                    var dw = arena.Allocate(ElementType.F32, outF, inF);
                    b.MatMul(Put(b, arena, dy, m, outF), true, Put(b, arena, x, m, inF), false, dw, alpha: 0.5f);
                    return Get(b, dx).Concat(Get(b, dw)).ToArray();
                });
                Close(r, f, 2e-6f * Math.Max(m, outF), $"{set} backward gemms {m}x{outF}x{inF} {dtype}");
            }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Linear_with_a_low_rank_update_matches_reference_and_the_unfused_products(BackendVariant set)
    {
        foreach (var (m, inF, outF, rank) in new[] { (150, 600, 70, 16), (7, 33, 161, 5), (1, 40, 64, 1) })
        {
            var rng = new Random(m + inF + outF + rank);
            var x = Random(rng, (long)m * inF);
            var wf = Random(rng, (long)outF * inF);
            var u = Random(rng, (long)m * rank);
            var loraB = Random(rng, (long)outF * rank);
            var loraA = Random(rng, (long)rank * inF);
            var dy = Random(rng, (long)m * outF);
            var du = Random(rng, (long)m * rank);
            var y0 = Random(rng, (long)m * outF);
            var bias = Random(rng, outF);
            byte[] raw = MemoryMarshal.AsBytes(wf.AsSpan()).ToArray();
            float[] Run(IComputeBackend b, Arena arena, bool fused)
            {
                var w = b.LoadLinear(raw, TensorDType.F32, outF, inF, ElementType.F32, arena);
                var y = Put(b, arena, y0, m, outF);
                Tensor ut = Put(b, arena, u, m, rank), bt = Put(b, arena, loraB, outF, rank), bias_ = Put(b, arena, bias, 1, outF);
                var dx = Put(b, arena, x, m, inF);
                Tensor dyt = Put(b, arena, dy, m, outF), dut = Put(b, arena, du, m, rank), at = Put(b, arena, loraA, rank, inF);
                if (fused)
                {
                    b.Linear(Put(b, arena, x, m, inF), w, bias_, y, true, ut, bt, 0.75f);
                    b.LinearBackward(dyt, w, dx, true, dut, at);
                }
                else
                {
                    b.Linear(Put(b, arena, x, m, inF), w, bias_, y, true);
                    b.MatMul(ut, false, bt, true, y, 0.75f, accumulate: true);
                    b.LinearBackward(dyt, w, dx, true);
                    b.MatMul(dut, false, at, false, dx, 1f, accumulate: true);
                }
                return Get(b, y).Concat(Get(b, dx)).ToArray();
            }
            var (r, f) = Both(set, (b, arena) => Run(b, arena, true));
            Close(r, f, 2e-6f * inF, $"{set} fused low-rank linear {m}x{inF}x{outF} r{rank}");
            var (_, unfused) = Both(set, (b, arena) => Run(b, arena, false));
            Close(unfused, f, 2e-6f * inF, $"{set} fused vs unfused {m}x{inF}x{outF} r{rank}");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Tiled_attention_and_its_backward_match_reference_on_long_sequences(BackendVariant set)
    {
        // Sequences longer than a query tile (48) and of odd lengths, as training lays them out; GQA 4:2, head_dim 64 and 20.
        foreach (var (lengths, heads, kvHeads, headDim) in new[] { (new[] { 60, 13, 100 }, 4, 2, 64), (new[] { 49, 31 }, 3, 1, 20) })
        {
            var (start, count) = AttentionRanges.Causal(lengths);
            int tokens = start.Length, qw = heads * headDim, kw = kvHeads * headDim;
            var rng = new Random(tokens + headDim);
            var q = Random(rng, (long)tokens * qw);
            var k = Random(rng, (long)tokens * kw);
            var v = Random(rng, (long)tokens * kw);
            var g = Random(rng, (long)tokens * qw);
            float scale = 1f / MathF.Sqrt(headDim);
            var (r, f) = Both(set, (b, arena) =>
            {
                Tensor qT = Put(b, arena, q, tokens, qw), kT = Put(b, arena, k, tokens, kw), vT = Put(b, arena, v, tokens, kw);
                Tensor s = PutInts(b, arena, start).Reshape(tokens, 1), c = PutInts(b, arena, count).Reshape(tokens, 1);
                var o = arena.Allocate(ElementType.F32, tokens, qw);
                var lse = arena.Allocate(ElementType.F32, tokens, heads);
                b.Attention(qT, kT, vT, s, c, heads, kvHeads, scale, o, lse);
                Tensor dq = arena.Allocate(ElementType.F32, tokens, qw), dk = arena.Allocate(ElementType.F32, tokens, kw), dv = arena.Allocate(ElementType.F32, tokens, kw);
                b.AttentionBackward(qT, kT, vT, o, Put(b, arena, g, tokens, qw), lse, s, c, heads, kvHeads, scale, dq, dk, dv);
                return Get(b, o).Concat(Get(b, lse)).Concat(Get(b, dq)).Concat(Get(b, dk)).Concat(Get(b, dv)).ToArray();
            });
            Close(r, f, 2e-5f, $"{set} tiled attention [{string.Join(",", lengths)}] {heads}/{kvHeads}x{headDim}");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Embedding_reads_rows_from_packed_weights(BackendVariant set)
    {
        var rng = new Random(3);
        int vocab = 53, dim = 37;
        var table = Random(rng, vocab * dim);
        int[] ids = [0, 52, 7, 7, 31];
        var (r, f) = Both(set, (b, arena) =>
        {
            var w = b.LoadLinear(MemoryMarshal.AsBytes(table.AsSpan()), TensorDType.F32, vocab, dim, ElementType.F32, arena);
            var dst = arena.Allocate(ElementType.F32, ids.Length, dim);
            b.Embedding(PutInts(b, arena, ids), w, dst);
            return Get(b, dst);
        });
        Assert.Equal(table.AsSpan(52 * dim, dim).ToArray(), r.AsSpan(dim, dim).ToArray());
        Close(r, f, 0, $"{set} embedding");
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void RmsNorm_rope_swiglu_softmax_argmax_match_reference(BackendVariant set)
    {
        var rng = new Random(11);
        foreach (int n in new[] { 1, 3, 8, 17, 64, 131 })
        {
            int rows = 5;
            var x = Random(rng, rows * n, 3f);
            var y = Random(rng, rows * n, 3f);
            var w = Random(rng, n);
            var (r, f) = Both(set, (b, arena) =>
            {
                var t = Put(b, arena, x, rows, n);
                var d = arena.Allocate(ElementType.F32, rows, n);
                b.RmsNorm(t, Put(b, arena, w, 1, n), 1e-6f, d);
                return Get(b, d);
            });
            Close(r, f, 1e-5f, $"{set} rmsnorm n={n}");
            (r, f) = Both(set, (b, arena) =>
            {
                var d = arena.Allocate(ElementType.F32, rows, n);
                b.SwiGlu(Put(b, arena, x, rows, n), Put(b, arena, y, rows, n), d);
                return Get(b, d);
            });
            Close(r, f, 1e-5f, $"{set} swiglu n={n}");
            (r, f) = Both(set, (b, arena) =>
            {
                var t = Put(b, arena, x, rows, n);
                b.Softmax(t, t);
                return Get(b, t);
            });
            Close(r, f, 1e-5f, $"{set} softmax n={n}");
            (r, f) = Both(set, (b, arena) =>
            {
                var d = arena.Allocate(ElementType.I32, 1, rows);
                b.Argmax(Put(b, arena, x, rows, n), d);
                var ints = new int[rows];
                b.Download(d, ints);
                return ints.Select(i => (float)i).ToArray();
            });
            Close(r, f, 0, $"{set} argmax n={n}");
        }
        foreach (int headDim in new[] { 2, 6, 16, 24, 64 })
        {
            int tokens = 7, heads = 3, maxPos = 50;
            var x = Random(rng, tokens * heads * headDim);
            var cos = Random(rng, maxPos * headDim / 2);
            var sin = Random(rng, maxPos * headDim / 2);
            int[] pos = [0, 1, 2, 49, 13, 13, 7];
            var (r, f) = Both(set, (b, arena) =>
            {
                var t = Put(b, arena, x, tokens, heads * headDim);
                b.Rope(t, PutInts(b, arena, pos), Put(b, arena, cos, maxPos, headDim / 2), Put(b, arena, sin, maxPos, headDim / 2), headDim, t);
                return Get(b, t);
            });
            Close(r, f, 1e-6f, $"{set} rope headDim={headDim}");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Attention_matches_reference_with_gqa_ranges_and_empty_rows(BackendVariant set)
    {
        var rng = new Random(5);
        foreach (var (heads, kvHeads, headDim) in new[] { (4, 2, 16), (3, 3, 7), (8, 1, 64), (6, 2, 13) })
        {
            int cacheRows = 40, tokens = 9;
            var q = Random(rng, tokens * heads * headDim);
            var kc = Random(rng, cacheRows * kvHeads * headDim);
            var vc = Random(rng, cacheRows * kvHeads * headDim);
            int[] start = [0, 0, 0, 20, 20, 5, 0, 33, 10];
            int[] count = [1, 2, 3, 1, 17, 0, 40, 7, 30];
            var (r, f) = Both(set, (b, arena) =>
            {
                var d = arena.Allocate(ElementType.F32, tokens, heads * headDim);
                b.Attention(Put(b, arena, q, tokens, heads * headDim), Put(b, arena, kc, cacheRows, kvHeads * headDim), Put(b, arena, vc, cacheRows, kvHeads * headDim),
                    PutInts(b, arena, start), PutInts(b, arena, count), heads, kvHeads, 1f / MathF.Sqrt(headDim), d);
                return Get(b, d);
            });
            Assert.All(r.AsSpan(5 * heads * headDim, heads * headDim).ToArray(), v => Assert.Equal(0f, v));
            Close(r, f, 1e-5f, $"{set} attention {heads}/{kvHeads}x{headDim}");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Embedding_rows_of_every_storage_and_width_match_reference_exactly(BackendVariant set)
    {
        // 128 rows fill whole panels of every width (8, 16, 64), so the last row sits in the last lane of the last panel:
        // a BF16 read past it would leave the buffer. Dims cover the vector tails.
        const int vocab = 128;
        foreach (int dim in new[] { 1, 7, 8, 9, 16, 37, 64 })
            foreach (var dtype in new[] { TensorDType.F32, TensorDType.BF16 })
            {
                var rng = new Random(dim);
                var table = Random(rng, vocab * dim);
                byte[] raw = dtype == TensorDType.F32
                    ? MemoryMarshal.AsBytes(table.AsSpan()).ToArray()
                    : MemoryMarshal.AsBytes(table.Select(BFloat16.FromSingle).ToArray().AsSpan()).ToArray();
                int[] ids = [127, 0, 63, 64, 7, 7, 126, 127, 15, 16];
                var (r, f) = Both(set, (b, arena) =>
                {
                    var w = b.LoadLinear(raw, dtype, vocab, dim, dtype == TensorDType.F32 ? ElementType.F32 : ElementType.BF16, arena);
                    var dst = arena.Allocate(ElementType.F32, ids.Length, dim);
                    b.Embedding(PutInts(b, arena, ids), w, dst);
                    return Get(b, dst);
                });
                float Expected(int row, int j) => dtype == TensorDType.F32 ? table[row * dim + j] : BFloat16.ToSingle(BFloat16.FromSingle(table[row * dim + j]));
                for (int t = 0; t < ids.Length; t++)
                    for (int j = 0; j < dim; j++) Assert.Equal(Expected(ids[t], j), r[t * dim + j]);
                Close(r, f, 0, $"{set} embedding {dtype} dim={dim}");
            }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Row_gathers_scatters_and_kv_writes_match_reference_exactly(BackendVariant set)
    {
        foreach (int cols in new[] { 1, 5, 8, 13, 64, 1000 })
        {
            var rng = new Random(cols);
            int rows = 11;
            var table = Random(rng, rows * cols);
            int[] ids = [3, 0, 3, 10, 7, 3];
            var source = Random(rng, ids.Length * cols);
            var (r, f) = Both(set, (b, arena) =>
            {
                Tensor t = Put(b, arena, table, rows, cols), idT = PutInts(b, arena, ids), src = Put(b, arena, source, ids.Length, cols);
                var embedded = arena.Allocate(ElementType.F32, ids.Length, cols);
                b.Embedding(idT, t, embedded);
                var gathered = arena.Allocate(ElementType.F32, ids.Length, cols);
                b.GatherRows(t, idT, gathered);
                // Repeated indices add up in order; the embedding's gradient is the same scatter.
                var scattered = Put(b, arena, table, rows, cols);
                b.ScatterAddRows(src, idT, scattered);
                var grad = Put(b, arena, table, rows, cols);
                b.EmbeddingBackward(idT, src, grad);
                Tensor kCache = Put(b, arena, table, rows, cols), vCache = Put(b, arena, table, rows, cols);
                int[] slots = [9, 2, 4, 0, 10, 1];
                b.WriteKv(src, Put(b, arena, source.Select(v => -v).ToArray(), ids.Length, cols), PutInts(b, arena, slots), kCache, vCache);
                return Get(b, embedded).Concat(Get(b, gathered)).Concat(Get(b, scattered)).Concat(Get(b, grad)).Concat(Get(b, kCache)).Concat(Get(b, vCache)).ToArray();
            });
            // The reference against the definition: gathered row i is table row ids[i]; row 3 received three source rows.
            int n = ids.Length;
            for (int j = 0; j < cols; j++)
            {
                Assert.Equal(table[10 * cols + j], r[3 * cols + j]);
                Assert.Equal(table[3 * cols + j], r[n * cols + 2 * cols + j]);
                Assert.Equal(table[3 * cols + j] + source[j] + source[2 * cols + j] + source[5 * cols + j], r[2 * n * cols + 3 * cols + j]);
                Assert.Equal(source[4 * cols + j], r[2 * n * cols + 2 * rows * cols + 10 * cols + j]);
            }
            Close(r, f, 0, $"{set} row kernels cols={cols}");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Bias_add_and_row_sums_match_reference_exactly(BackendVariant set)
    {
        // Shapes large enough to be split between threads (rows for the bias, columns for the sums) and odd ones.
        foreach (var (rows, n) in new[] { (1, 1), (3, 7), (5, 64), (33, 100), (300, 1000), (2, 70000) })
        {
            var rng = new Random(rows + n);
            var x = Random(rng, (long)rows * n, 3f);
            var bias = Random(rng, n);
            var start = Random(rng, n);
            var (r, f) = Both(set, (b, arena) =>
            {
                var y = Put(b, arena, x, rows, n);
                b.AddBias(Put(b, arena, bias, 1, n), y);
                var sums = Put(b, arena, start, 1, n);
                b.SumRows(Put(b, arena, x, rows, n), sums, accumulate: false);
                var accumulated = Put(b, arena, start, 1, n);
                b.SumRows(Put(b, arena, x, rows, n), accumulated, accumulate: true);
                return Get(b, y).Concat(Get(b, sums)).Concat(Get(b, accumulated)).ToArray();
            });
            for (int j = 0; j < Math.Min(n, 50); j++)
            {
                Assert.Equal(x[(rows - 1) * n + j] + bias[j], r[(rows - 1) * n + j]);
                float sum = 0, acc = start[j];
                for (int i = 0; i < rows; i++) { sum += x[(long)i * n + j]; acc += x[(long)i * n + j]; }
                Assert.Equal(sum, r[rows * n + j]);
                Assert.Equal(acc, r[rows * n + n + j]);
            }
            Close(r, f, 0, $"{set} bias and row sums [{rows}, {n}]");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void Dropout_masks_match_reference_exactly_and_follow_the_documented_hash(BackendVariant set)
    {
        foreach (var (rows, n) in new[] { (1, 13), (3, 8), (7, 10001) })
            foreach (float p in new[] { 0f, 0.1f, 0.5f, 0.9f })
            {
                var rng = new Random(rows * n);
                var x = Random(rng, (long)rows * n);
                const ulong seed = 0x1234_5678_9ABC_DEF0UL;
                var (r, f) = Both(set, (b, arena) =>
                {
                    var dst = arena.Allocate(ElementType.F32, rows, n);
                    b.Dropout(Put(b, arena, x, rows, n), p, seed, dst);
                    var inPlace = Put(b, arena, x, rows, n);
                    b.Dropout(inPlace, p, seed, inPlace);
                    return Get(b, dst).Concat(Get(b, inPlace)).ToArray();
                });
                ulong key = SplitMix64.Mix(seed), threshold = (ulong)(p * 18446744073709551616.0);
                float keep = 1f / (1f - p);
                for (int i = 0; i < x.Length; i++)
                {
                    float expected = SplitMix64.Mix(key + (ulong)i) < threshold ? 0f : x[i] * keep;
                    Assert.Equal(expected, r[i]);
                    Assert.Equal(expected, r[x.Length + i]);
                }
                Close(r, f, 0, $"{set} dropout p={p} [{rows}, {n}]");
            }
    }

    [Fact]
    public void Factory_rejects_an_unknown_kernel_name()
    {
        // The environment's value is passed in rather than set on the process, which other tests read concurrently.
        var e = Assert.Throws<UserException>(() => ComputeBackends.Choose(null, "sse9"));
        Assert.Contains("SHARPTUNE_KERNELS=sse9", e.Message);
        Assert.Equal(KernelIsa.Scalar, ComputeBackends.Choose(null, "scalar"));
        e = Assert.Throws<UserException>(() => ComputeBackends.Create(new BackendOptions { Kernels = "sse9" }));
        Assert.Contains("kernel set sse9: expected one of avx512, avx2, vector128, scalar", e.Message);
    }

    [Fact]
    public void Factory_takes_the_options_over_the_environment_and_full_variant_names()
    {
        Assert.Equal(KernelIsa.Scalar, ComputeBackends.Choose("scalar", "sse9"));
        Assert.Equal(KernelIsa.Scalar, ComputeBackends.Choose("CPU-Scalar", null));
        var fastest = ComputeBackends.Available()[^1];
        Assert.Equal(fastest.Name, "cpu-" + ComputeBackends.Choose(null, null).ToString().ToLowerInvariant());
        using var backend = ComputeBackends.Create(new BackendOptions { Kernels = fastest.Name, Threads = 1 });
        Assert.Equal(fastest.Name, backend.Name);
    }

    [Fact]
    public void Available_lists_the_reference_first_and_each_variant_builds_the_backend_it_names()
    {
        var all = ComputeBackends.Available();
        Assert.Equal(ComputeBackends.Reference.Name, all[0].Name);
        Assert.Equal("cpu-scalar", ComputeBackends.Reference.Name);
        Assert.Equal(all.Count, all.Select(v => v.Name).Distinct().Count());
        foreach (var variant in all)
        {
            using var backend = variant.Create();
            Assert.Equal(variant.Name, backend.Name);
        }
    }
}
