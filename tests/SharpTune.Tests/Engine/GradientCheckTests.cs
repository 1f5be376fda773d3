using System.Runtime.InteropServices;
using SharpTune.Engine;
using SharpTune.Numerics;

namespace SharpTune.Tests.Engine;

/// <summary>
/// Every backward kernel on every kernel set this CPU runs (scalar reference included) against central finite
/// differences of a double-precision forward written here, on random shapes with odd sizes: for an upstream
/// gradient G and L = Σ G · f(x), the kernel's dL/dx must match (L(x+h) − L(x−h)) / 2h to 1e-4 of its norm.
/// </summary>
public sealed class GradientCheckTests
{
    public static TheoryData<BackendVariant> Sets() => TestBackends.All();

    private const double H = 1e-4;
    private const double Tolerance = 1e-4;

    private sealed class Device(BackendVariant set) : IDisposable
    {
        public IComputeBackend B { get; } = set.Create();
        private readonly List<Arena> _arenas = [];

        public Tensor Put(double[] values, int rows, int cols)
        {
            var arena = B.CreateArena("test");
            _arenas.Add(arena);
            var t = arena.Allocate(ElementType.F32, rows, cols);
            B.Upload(values.Select(v => (float)v).ToArray(), t);
            return t;
        }

        public Tensor Ints(int[] values)
        {
            var arena = B.CreateArena("test");
            _arenas.Add(arena);
            var t = arena.Allocate(ElementType.I32, values.Length, 1);
            B.Upload(values, t);
            return t;
        }

        public Tensor Zeros(int rows, int cols) => Put(new double[(long)rows * cols], rows, cols);

        public double[] Get(Tensor t)
        {
            var a = new float[t.Length];
            B.Download(t, a);
            return a.Select(v => (double)v).ToArray();
        }

        public void Dispose()
        {
            foreach (var a in _arenas) a.Dispose();
            B.Dispose();
        }
    }

    private static double[] Rand(Random rng, long n, double scale = 1)
    {
        var a = new double[n];
        // Round to float so the host reference and the device see the same inputs.
        for (long i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return a;
    }

    /// <summary>Central differences of L(x) = Σ g · f(x) in double, for every element of x.</summary>
    private static double[] Numeric(double[] x, Func<double[], double[]> f, double[] g)
    {
        var grad = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + H;
            double up = Dot(f(x), g);
            x[i] = keep - H;
            double down = Dot(f(x), g);
            x[i] = keep;
            grad[i] = (up - down) / (2 * H);
        }
        return grad;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Near(double[] expected, double[] actual, string what, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            norm += expected[i] * expected[i];
        }
        double rel = Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-12);
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E2} > {tolerance:E0} (norm {Math.Sqrt(norm):E3})");
    }

    private static double[] MatMulRef(double[] a, int m, int k, double[] b, int n, bool ta, bool tb)
    {
        // op(a) [m, k]: a stored [m, k] or, transposed, [k, m]; op(b) [k, n]: b stored [k, n] or [n, k].
        var c = new double[(long)m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        return c;
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void MatMul_matches_double_products_in_every_transpose_layout(BackendVariant set)
    {
        using var d = new Device(set);
        int[][] shapes = [[1, 1, 1], [7, 5, 3], [13, 300, 37], [150, 40, 70], [20, 513, 16], [3, 17, 65], [100, 37, 16], [61, 300, 5], [30, 800, 13]];
        foreach (var s in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    int m = s[0], k = s[1], n = s[2];
                    var rng = new Random(m * 7 + k * 3 + n + (ta ? 1 : 0) + (tb ? 2 : 0));
                    var a = Rand(rng, (long)m * k);
                    var b = Rand(rng, (long)k * n);
                    var c0 = Rand(rng, (long)m * n);
                    var ta_ = d.Put(a, ta ? k : m, ta ? m : k);
                    var tb_ = d.Put(b, tb ? n : k, tb ? k : n);
                    var c = d.Put(c0, m, n);
                    d.B.MatMul(ta_, ta, tb_, tb, c, alpha: 0.5f, accumulate: true);
                    var expected = MatMulRef(a, m, k, b, n, ta, tb).Select((v, i) => c0[i] + 0.5 * v).ToArray();
                    Near(expected, d.Get(c), $"{set} matmul [{m},{k},{n}] ta={ta} tb={tb}", 1e-5);
                }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Linear_input_weight_and_bias_gradients(BackendVariant set)
    {
        using var d = new Device(set);
        foreach (var (m, inF, outF, dtype) in new[] { (5, 7, 3, TensorDType.F32), (9, 40, 37, TensorDType.F32), (12, 300, 70, TensorDType.BF16), (7, 33, 161, TensorDType.F32) })
        {
            var rng = new Random(m + inF + outF);
            var x = Rand(rng, (long)m * inF);
            var w = Rand(rng, (long)outF * inF, 0.3);
            if (dtype == TensorDType.BF16) w = w.Select(v => (double)SharpTune.Numerics.BFloat16.ToSingle(SharpTune.Numerics.BFloat16.FromSingle((float)v))).ToArray();
            var bias = Rand(rng, outF);
            var g = Rand(rng, (long)m * outF);
            double[] F(double[] xx, double[] ww, double[] bb) => MatMulRef(xx, m, inF, ww, outF, false, true).Select((v, i) => v + bb[i % outF]).ToArray();

            using var arena = d.B.CreateArena("w");
            var bytes = dtype == TensorDType.F32
                ? MemoryMarshal.AsBytes(w.Select(v => (float)v).ToArray().AsSpan()).ToArray()
                : MemoryMarshal.AsBytes(w.Select(v => SharpTune.Numerics.BFloat16.FromSingle((float)v)).ToArray().AsSpan()).ToArray();
            var weight = d.B.LoadLinear(bytes, dtype, outF, inF, dtype == TensorDType.F32 ? ElementType.F32 : ElementType.BF16, arena);
            var gT = d.Put(g, m, outF);
            var dx = d.Zeros(m, inF);
            d.B.LinearBackward(gT, weight, dx, accumulate: false);
            Near(Numeric(x, xx => F(xx, w, bias), g), d.Get(dx), $"{set} linear dx {dtype} [{m},{inF}->{outF}]");

            // Accumulating adds to what is there.
            d.B.LinearBackward(gT, weight, dx, accumulate: true);
            Near(Numeric(x, xx => F(xx, w, bias), g).Select(v => 2 * v).ToArray(), d.Get(dx), $"{set} linear dx accumulated");

            var dw = d.Zeros(outF, inF);
            d.B.MatMul(gT, true, d.Put(x, m, inF), false, dw);
            Near(Numeric(w, ww => F(x, ww, bias), g), d.Get(dw), $"{set} linear dW");

            var db = d.Zeros(1, outF);
            d.B.SumRows(gT, db, accumulate: false);
            Near(Numeric(bias, bb => F(x, w, bb), g), d.Get(db), $"{set} linear db");
        }
    }

    private static double[] RmsNormRef(double[] x, int rows, int n, double[] w, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += x[r * n + i] * x[r * n + i];
            double inv = 1 / Math.Sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) y[r * n + i] = w[i] * x[r * n + i] * inv;
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void RmsNorm_input_and_weight_gradients(BackendVariant set)
    {
        using var d = new Device(set);
        foreach (var (rows, n) in new[] { (2, 3), (3, 7), (5, 64), (4, 37) })
        {
            var rng = new Random(rows * 100 + n);
            var x = Rand(rng, (long)rows * n);
            var w = Rand(rng, n).Select(v => 1 + v / 2).ToArray();
            var g = Rand(rng, (long)rows * n);
            const double eps = 1e-5;
            var gT = d.Put(g, rows, n);
            var dx = d.Put(Enumerable.Repeat(0.25, rows * n).ToArray(), rows, n);
            var dw = d.Put(Enumerable.Repeat(0.5, n).ToArray(), 1, n);
            d.B.RmsNormBackward(d.Put(x, rows, n), d.Put(w, 1, n), (float)eps, gT, dx, accumulate: true, dw);
            Near(Numeric(x, xx => RmsNormRef(xx, rows, n, w, eps), g).Select(v => v + 0.25).ToArray(), d.Get(dx), $"{set} rmsnorm dx [{rows},{n}]");
            Near(Numeric(w, ww => RmsNormRef(x, rows, n, ww, eps), g).Select(v => v + 0.5).ToArray(), d.Get(dw), $"{set} rmsnorm dw [{rows},{n}]");

            // Without accumulation, written in place over the output gradient (as the q/k norms are run).
            d.B.RmsNormBackward(d.Put(x, rows, n), d.Put(w, 1, n), (float)eps, gT, gT, accumulate: false, default);
            Near(Numeric(x, xx => RmsNormRef(xx, rows, n, w, eps), g), d.Get(gT), $"{set} rmsnorm dx in place");
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Rope_gradient_is_the_inverse_rotation(BackendVariant set)
    {
        using var d = new Device(set);
        foreach (var (tokens, heads, headDim) in new[] { (3, 2, 4), (5, 3, 10), (4, 2, 64) })
        {
            var rng = new Random(tokens * 10 + headDim);
            int width = heads * headDim, half = headDim / 2, maxPos = 9;
            var cos = new double[maxPos * half];
            var sin = new double[maxPos * half];
            for (int p = 0; p < maxPos; p++)
                for (int i = 0; i < half; i++)
                {
                    double angle = p * Math.Pow(10000, -2.0 * i / headDim);
                    cos[p * half + i] = (float)Math.Cos(angle);
                    sin[p * half + i] = (float)Math.Sin(angle);
                }
            var positions = Enumerable.Range(0, tokens).Select(t => (t * 5 + 2) % maxPos).ToArray();
            var x = Rand(rng, (long)tokens * width);
            var g = Rand(rng, (long)tokens * width);
            double[] F(double[] xx)
            {
                var y = new double[xx.Length];
                for (int t = 0; t < tokens; t++)
                    for (int h = 0; h < heads; h++)
                        for (int i = 0; i < half; i++)
                        {
                            int a = t * width + h * headDim + i, b = a + half, c = positions[t] * half + i;
                            y[a] = xx[a] * cos[c] - xx[b] * sin[c];
                            y[b] = xx[b] * cos[c] + xx[a] * sin[c];
                        }
                return y;
            }
            var gT = d.Put(g, tokens, width);
            d.B.RopeBackward(gT, d.Ints(positions), d.Put(cos, maxPos, half), d.Put(sin, maxPos, half), headDim, gT);
            Near(Numeric(x, F, g), d.Get(gT), $"{set} rope [{tokens},{heads}x{headDim}]");
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void SwiGlu_gate_and_up_gradients(BackendVariant set)
    {
        using var d = new Device(set);
        foreach (var n in new[] { 1, 7, 33, 100 })
        {
            var rng = new Random(n);
            var gate = Rand(rng, n, 4);
            var up = Rand(rng, n, 2);
            var g = Rand(rng, n);
            double[] F(double[] gg, double[] uu) => gg.Select((v, i) => v / (1 + Math.Exp(-v)) * uu[i]).ToArray();
            var gT = d.Put(g, 1, n);
            var dGate = d.Zeros(1, n);
            // dUp written over the output gradient it reads.
            d.B.SwiGluBackward(d.Put(gate, 1, n), d.Put(up, 1, n), gT, dGate, gT);
            Near(Numeric(gate, gg => F(gg, up), g), d.Get(dGate), $"{set} swiglu dgate [{n}]");
            Near(Numeric(up, uu => F(gate, uu), g), d.Get(gT), $"{set} swiglu dup [{n}]");
        }
    }

    /// <summary>Attention over ranges in double: out [tokens, heads·dim] and lse [tokens, heads].</summary>
    private static (double[] Out, double[] Lse) AttentionRef(double[] q, double[] k, double[] v, int[] start, int[] count, int heads, int kvHeads, int dim, double scale)
    {
        int tokens = start.Length, qw = heads * dim, kw = kvHeads * dim, group = heads / kvHeads;
        var o = new double[(long)tokens * qw];
        var lse = new double[(long)tokens * heads];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                if (count[t] == 0) continue;
                var s = new double[count[t]];
                for (int j = 0; j < count[t]; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < dim; e++) dot += q[t * qw + h * dim + e] * k[(start[t] + j) * kw + h / group * dim + e];
                    s[j] = dot * scale;
                }
                double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
                lse[t * heads + h] = max + Math.Log(sum);
                for (int j = 0; j < count[t]; j++)
                    for (int e = 0; e < dim; e++)
                        o[t * qw + h * dim + e] += Math.Exp(s[j] - max) / sum * v[(start[t] + j) * kw + h / group * dim + e];
            }
        return (o, lse);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Attention_forward_lse_and_backward_over_sequences(BackendVariant set)
    {
        using var d = new Device(set);
        // Sequences laid out as training does: each token sees its own sequence's rows 0..position.
        // Short groups take the per-token kernel, groups of 8+ tokens the tiled one (see the parity test for long ones).
        foreach (var (lengths, heads, kvHeads, dim) in new[] { (new[] { 3, 1, 4 }, 2, 1, 4), (new[] { 5, 2 }, 4, 2, 8), (new[] { 6 }, 3, 3, 5), (new[] { 4, 3 }, 2, 2, 16), (new[] { 9, 8 }, 4, 2, 6), (new[] { 12 }, 2, 1, 33) })
        {
            var (start, count) = AttentionRanges.Causal(lengths);
            int tokens = start.Length, qw = heads * dim, kw = kvHeads * dim;
            double scale = 1 / Math.Sqrt(dim);
            var rng = new Random(tokens * 31 + heads + dim);
            var q = Rand(rng, (long)tokens * qw);
            var k = Rand(rng, (long)tokens * kw);
            var v = Rand(rng, (long)tokens * kw);
            var g = Rand(rng, (long)tokens * qw);
            var s = start;
            var c = count;
            var (oRef, lseRef) = AttentionRef(q, k, v, s, c, heads, kvHeads, dim, scale);

            Tensor qT = d.Put(q, tokens, qw), kT = d.Put(k, tokens, kw), vT = d.Put(v, tokens, kw), sT = d.Ints(s), cT = d.Ints(c);
            var o = d.Zeros(tokens, qw);
            var lse = d.Zeros(tokens, heads);
            d.B.Attention(qT, kT, vT, sT, cT, heads, kvHeads, (float)scale, o, lse);
            Near(oRef, d.Get(o), $"{set} attention output", 1e-5);
            Near(lseRef, d.Get(lse), $"{set} attention lse", 1e-5);

            Tensor dq = d.Zeros(tokens, qw), dk = d.Put(Rand(rng, (long)tokens * kw), tokens, kw), dv = d.Zeros(tokens, kw);
            d.B.AttentionBackward(qT, kT, vT, o, d.Put(g, tokens, qw), lse, sT, cT, heads, kvHeads, (float)scale, dq, dk, dv);
            string what = $"{set} attention [{string.Join(",", lengths)}] {heads}/{kvHeads}x{dim}";
            Near(Numeric(q, qq => AttentionRef(qq, k, v, s, c, heads, kvHeads, dim, scale).Out, g), d.Get(dq), what + " dq");
            Near(Numeric(k, kk => AttentionRef(q, kk, v, s, c, heads, kvHeads, dim, scale).Out, g), d.Get(dk), what + " dk (overwritten)");
            Near(Numeric(v, vv => AttentionRef(q, k, vv, s, c, heads, kvHeads, dim, scale).Out, g), d.Get(dv), what + " dv");
        }
    }

    [Fact]
    public void Attention_backward_refuses_groups_whose_key_rows_overlap()
    {
        using var d = new Device(ComputeBackends.Reference);
        // Token 1 starts a new group at row 1 but token 0's group covers rows 0..2.
        Tensor q = d.Zeros(2, 4), k = d.Zeros(3, 4), s = d.Ints([0, 1]), c = d.Ints([3, 2]);
        var e = Assert.Throws<ArgumentException>(() => d.B.AttentionBackward(q, k, k, q, q, d.Zeros(2, 1), s, c, 1, 1, 1f, d.Zeros(2, 4), d.Zeros(3, 4), d.Zeros(3, 4)));
        Assert.Contains("overlap", e.Message);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void CrossEntropy_loss_statistics_and_gradient(BackendVariant set)
    {
        using var d = new Device(set);
        foreach (var (rows, vocab) in new[] { (1, 1), (3, 7), (4, 50), (2, 1031) })
        {
            var rng = new Random(rows * 1000 + vocab);
            var x = Rand(rng, (long)rows * vocab, 3);
            var targets = Enumerable.Range(0, rows).Select(r => (r * 7 + 3) % vocab).ToArray();
            if (vocab > 1) x[0 * vocab + targets[0]] = x.Take(vocab).Max() + 1; // row 0 predicts its target
            const double scale = 0.37;
            double[] Losses(double[] xx) => Enumerable.Range(0, rows).Select(r =>
            {
                var row = xx.Skip(r * vocab).Take(vocab).ToArray();
                double max = row.Max(), lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                return (lse - row[targets[r]]) * scale;
            }).ToArray();
            var logits = d.Put(x, rows, vocab);
            var stats = d.Zeros(rows, 3);
            d.B.CrossEntropy(logits, d.Ints(targets), (float)scale, logits, stats);
            Near(Numeric(x, Losses, Enumerable.Repeat(1.0, rows).ToArray()), d.Get(logits), $"{set} cross-entropy gradient [{rows},{vocab}] (in place)");
            var st = d.Get(stats);
            for (int r = 0; r < rows; r++)
            {
                var row = x.Skip(r * vocab).Take(vocab).ToArray();
                double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max)), lse = max + Math.Log(sum);
                double entropy = -row.Sum(v => Math.Exp(v - lse) * (v - lse));
                Assert.Equal(lse - row[targets[r]], st[r * 3], 4);
                Assert.Equal(Array.IndexOf(row, max) == targets[r] ? 1.0 : 0.0, st[r * 3 + 1]);
                Assert.Equal(entropy, st[r * 3 + 2], 4);
            }
            if (vocab > 1) Assert.Equal(1.0, st[1]);
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Embedding_gradient_adds_rows_and_scatter_is_the_gather_gradient(BackendVariant set)
    {
        using var d = new Device(set);
        int vocab = 11, dim = 13;
        var rng = new Random(5);
        int[] ids = [3, 0, 3, 10, 7];
        var g = Rand(rng, (long)ids.Length * dim);
        var table = d.Zeros(vocab, dim);
        d.B.EmbeddingBackward(d.Ints(ids), d.Put(g, ids.Length, dim), table);
        var expected = new double[vocab * dim];
        for (int t = 0; t < ids.Length; t++)
            for (int j = 0; j < dim; j++) expected[ids[t] * dim + j] += g[t * dim + j];
        Near(expected, d.Get(table), $"{set} embedding backward", 1e-6);

        var dst = d.Zeros(vocab, dim);
        d.B.ScatterAddRows(d.Put(g, ids.Length, dim), d.Ints(ids), dst);
        Near(expected, d.Get(dst), $"{set} scatter-add rows", 1e-6);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void AdamW_follows_pytorchs_update_over_several_steps(BackendVariant set)
    {
        using var d = new Device(set);
        const int n = 37;
        var rng = new Random(9);
        var p0 = Rand(rng, n);
        var grads = Enumerable.Range(0, 4).Select(_ => Rand(rng, n)).ToArray();
        var p = d.Put(p0, 1, n);
        var m = d.Zeros(1, n);
        var v = d.Zeros(1, n);
        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        var pr = (double[])p0.Clone();
        var mr = new double[n];
        var vr = new double[n];
        for (int s = 1; s <= grads.Length; s++)
        {
            d.B.AdamW(p, d.Put(grads[s - 1], 1, n), m, v, new AdamWStep(lr, b1, b2, eps, wd, s));
            for (int i = 0; i < n; i++)
            {
                double gi = grads[s - 1][i];
                pr[i] *= 1 - lr * wd;
                mr[i] = b1 * mr[i] + (1 - b1) * gi;
                vr[i] = b2 * vr[i] + (1 - b2) * gi * gi;
                pr[i] -= lr / (1 - Math.Pow(b1, s)) * mr[i] / (Math.Sqrt(vr[i]) / Math.Sqrt(1 - Math.Pow(b2, s)) + eps);
            }
        }
        Near(pr, d.Get(p), $"{set} adamw parameters", 1e-6);
        Near(mr, d.Get(m), $"{set} adamw exp_avg", 1e-6);
        Near(vr, d.Get(v), $"{set} adamw exp_avg_sq", 1e-5);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void SumOfSquares_scale_add_and_dropout(BackendVariant set)
    {
        using var d = new Device(set);
        var rng = new Random(3);
        var x = Rand(rng, 7 * 10001);
        var t = d.Put(x, 7, 10001);
        Assert.Equal(x.Sum(v => v * v), d.B.SumOfSquares(t), 6);
        d.B.Scale(t, 2f);
        d.B.Add(d.Put(x, 7, 10001), -1f, t);
        Near(x, d.Get(t), $"{set} scale then add", 1e-7);

        var drop = d.Zeros(7, 10001);
        d.B.Dropout(t, 0.25f, 42, drop);
        var dropped = d.Get(drop);
        int zeros = dropped.Count(v => v == 0);
        Assert.InRange(zeros / (double)x.Length, 0.24, 0.26);
        for (int i = 0; i < x.Length; i++)
            if (dropped[i] != 0) Assert.True(Math.Abs(x[i] / 0.75 - dropped[i]) <= 1e-5, $"dropout element {i}");
        var again = d.Zeros(7, 10001);
        d.B.Dropout(t, 0.25f, 42, again);
        Assert.Equal(dropped, d.Get(again)); // the same seed regenerates the mask
    }
}
