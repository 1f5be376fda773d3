using SharpTune.Engine.Cpu.Gemm;
using SharpTune.Numerics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// The reference kernels: plain loops in the order the math is written, weights unpacked. Slow; they define what
/// the fast kernels must compute and run when <c>SHARPTUNE_KERNELS=scalar</c>.
/// </summary>
internal sealed unsafe class ScalarKernels : CpuKernels
{
    public override string Name => "scalar";

    public override int PanelWidth => 0;

    public override void Embedding(int* ids, int n, CpuLinearWeight table, float* dst)
    {
        int dim = table.InFeatures;
        bool bf16 = table.Storage == ElementType.BF16;
        for (int t = 0; t < n; t++)
            for (int j = 0; j < dim; j++) dst[(long)t * dim + j] = Element(table, bf16, ids[t], j);
    }

    public override void GatherRows(float* source, int cols, int* indices, int n, float* dst)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < cols; j++) dst[(long)i * cols + j] = source[(long)indices[i] * cols + j];
    }

    public override void ScatterAddRows(float* source, int cols, int* indices, int n, float* dst)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < cols; j++) dst[(long)indices[i] * cols + j] += source[(long)i * cols + j];
    }

    public override void RmsNorm(float* x, int rows, int n, float* weight, float eps, float* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * n;
            float* o = dst + (long)r * n;
            float ss = 0;
            for (int i = 0; i < n; i++) ss += row[i] * row[i];
            float inv = 1f / MathF.Sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) o[i] = weight[i] * (row[i] * inv);
        }
    }

    public override void RmsNormBackward(float* x, int rows, int n, float* weight, float eps, float* dy, float* dx, bool accumulate, float* dWeight)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * n, gr = dy + (long)r * n, o = dx + (long)r * n;
            float ss = 0, gx = 0;
            for (int i = 0; i < n; i++) ss += xr[i] * xr[i];
            float inv = 1f / MathF.Sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) gx += gr[i] * weight[i] * xr[i];
            float c = gx * inv * inv * inv / n;
            if (dWeight != null)
                for (int i = 0; i < n; i++) dWeight[i] += gr[i] * xr[i] * inv;
            for (int i = 0; i < n; i++)
            {
                float d = inv * gr[i] * weight[i] - c * xr[i];
                o[i] = accumulate ? o[i] + d : d;
            }
        }
    }

    public override void Gemm(in GemmJob job)
    {
        int m = job.M, n = job.N, k = job.K;
        var w = job.Weight;
        bool bf16 = w?.Storage == ElementType.BF16;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float b = job.Source switch
                    {
                        // B = Wᵀ: B[p, j] = W[j, p]; B = W: B[p, j] = W[p, j].
                        GemmSource.WeightTransposed => Element(w!, bf16, j, p),
                        GemmSource.Weight => Element(w!, bf16, p, j),
                        _ => job.B[p * job.BRow + j * job.BCol],
                    };
                    sum += job.A[i * job.ARow + p * job.ACol] * b;
                }
                sum *= job.Alpha;
                float low = 0;
                for (int p = 0; p < job.K2; p++) low += job.A2[i * job.A2Row + p] * job.B2[p * job.B2Row + j * job.B2Col];
                sum += job.Alpha2 * low;
                if (job.Bias != null) sum += job.Bias[j];
                float* cell = job.C + (long)i * n + j;
                *cell = job.Accumulate ? *cell + sum : sum;
            }
    }

    private static float Element(CpuLinearWeight w, bool bf16, int row, int col)
    {
        long idx = w.IndexOf(row, col);
        return bf16 ? BFloat16.ToSingle(((ushort*)w.Data)[idx]) : ((float*)w.Data)[idx];
    }

    public override void AddBias(float* bias, int rows, int n, float* dst)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++) dst[(long)i * n + j] += bias[j];
    }

    public override void SumRows(float* x, int rows, int n, float* dst, bool accumulate)
    {
        if (!accumulate)
            for (int j = 0; j < n; j++) dst[j] = 0f;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++) dst[j] += x[(long)i * n + j];
    }

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
                float* xi = x + (long)t * width + h0;
                float* o = dst + (long)t * width + h0;
                for (int i = 0; i < half; i++)
                {
                    float x1 = xi[i], x2 = xi[i + half];
                    float si = sign * s[i];
                    o[i] = x1 * c[i] - x2 * si;
                    o[i + half] = x2 * c[i] + x1 * si;
                }
            }
        }
    }

    public override void ScatterRows(float* source, int cols, int* indices, int n, float* dst)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < cols; j++) dst[(long)indices[i] * cols + j] = source[(long)i * cols + j];
    }

    public override void Attention(float* q, int tokens, float* kCache, float* vCache, int* kvStart, int* kvCount, int* groupStart, int groups,
        int heads, int kvHeads, int headDim, float scale, float* dst, float* lse)
    {
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        int maxCount = 0;
        for (int t = 0; t < tokens; t++) maxCount = Math.Max(maxCount, kvCount[t]);
        var scores = new float[Math.Max(1, maxCount)];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                float* qh = q + (long)t * qWidth + h * headDim;
                float* o = dst + (long)t * qWidth + h * headDim;
                int kvOff = h / group * headDim, count = kvCount[t];
                long start = kvStart[t];
                for (int d = 0; d < headDim; d++) o[d] = 0;
                if (lse != null) lse[(long)t * heads + h] = 0;
                if (count == 0) continue;
                float max = float.NegativeInfinity;
                for (int j = 0; j < count; j++)
                {
                    float* kj = kCache + (start + j) * kvWidth + kvOff;
                    float dot = 0;
                    for (int d = 0; d < headDim; d++) dot += qh[d] * kj[d];
                    scores[j] = dot * scale;
                    max = MathF.Max(max, scores[j]);
                }
                float sum = 0;
                for (int j = 0; j < count; j++) { scores[j] = MathF.Exp(scores[j] - max); sum += scores[j]; }
                if (lse != null) lse[(long)t * heads + h] = max + MathF.Log(sum);
                for (int j = 0; j < count; j++)
                {
                    float p = scores[j] / sum;
                    float* vj = vCache + (start + j) * kvWidth + kvOff;
                    for (int d = 0; d < headDim; d++) o[d] += p * vj[d];
                }
            }
    }

    public override void AttentionBackward(float* q, float* k, float* v, float* o, float* dO, float* lse, int* kvStart, int* kvCount,
        int* groupStart, int groups, int heads, int kvHeads, int headDim, float scale, float* dQ, float* dK, float* dV)
    {
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        int tokens = groupStart[groups];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                float* qh = q + (long)t * qWidth + h * headDim, oh = o + (long)t * qWidth + h * headDim;
                float* gh = dO + (long)t * qWidth + h * headDim, dq = dQ + (long)t * qWidth + h * headDim;
                for (int d = 0; d < headDim; d++) dq[d] = 0;
                int count = kvCount[t], kvOff = h / group * headDim;
                if (count == 0) continue;
                long start = kvStart[t];
                float delta = 0;
                for (int d = 0; d < headDim; d++) delta += gh[d] * oh[d];
                float m = lse[(long)t * heads + h];
                for (int j = 0; j < count; j++)
                {
                    float* kj = k + (start + j) * kvWidth + kvOff, vj = v + (start + j) * kvWidth + kvOff;
                    float* dkj = dK + (start + j) * kvWidth + kvOff, dvj = dV + (start + j) * kvWidth + kvOff;
                    float s = 0, dp = 0;
                    for (int d = 0; d < headDim; d++) { s += qh[d] * kj[d]; dp += gh[d] * vj[d]; }
                    float p = MathF.Exp(s * scale - m);
                    float ds = p * (dp - delta) * scale;
                    for (int d = 0; d < headDim; d++)
                    {
                        dq[d] += ds * kj[d];
                        dkj[d] += ds * qh[d];
                        dvj[d] += p * gh[d];
                    }
                }
            }
    }

    public override void SwiGlu(float* gate, float* up, long n, float* dst)
    {
        for (long i = 0; i < n; i++)
        {
            float g = gate[i];
            dst[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }

    public override void SwiGluBackward(float* gate, float* up, float* dy, long n, float* dGate, float* dUp)
    {
        for (long i = 0; i < n; i++)
        {
            float g = gate[i], u = up[i], d = dy[i];
            float s = 1f / (1f + MathF.Exp(-g));
            dUp[i] = d * g * s;
            dGate[i] = d * u * s * (1f + g * (1f - s));
        }
    }

    public override void Dropout(float* x, long n, float probability, ulong seed, float* dst)
    {
        var (keep, threshold) = DropoutConstants(probability);
        ulong key = SplitMix64.Mix(seed);
        for (long i = 0; i < n; i++) dst[i] = SplitMix64.Mix(key + (ulong)i) < threshold ? 0f : x[i] * keep;
    }

    public override void CrossEntropy(float* logits, int rows, int vocab, int* targets, float gradScale, float* dLogits, float* stats)
    {
        for (int r = 0; r < rows; r++)
        {
            float* x = logits + (long)r * vocab, g = dLogits + (long)r * vocab;
            int best = 0;
            for (int i = 1; i < vocab; i++) if (x[i] > x[best]) best = i;
            float max = x[best];
            double sum = 0, weighted = 0;
            for (int i = 0; i < vocab; i++)
            {
                double e = Math.Exp(x[i] - max);
                sum += e;
                weighted += e * x[i];
            }
            float lse = max + (float)Math.Log(sum);
            int target = targets[r];
            stats[r * 3] = lse - x[target];
            stats[r * 3 + 1] = best == target ? 1f : 0f;
            stats[r * 3 + 2] = lse - (float)(weighted / sum);
            for (int i = 0; i < vocab; i++) g[i] = MathF.Exp(x[i] - lse) * gradScale;
            g[target] -= gradScale;
        }
    }

    public override void Softmax(float* x, int rows, int n, float* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * n;
            float* o = dst + (long)r * n;
            float max = float.NegativeInfinity;
            for (int i = 0; i < n; i++) max = MathF.Max(max, row[i]);
            float sum = 0;
            for (int i = 0; i < n; i++) { o[i] = MathF.Exp(row[i] - max); sum += o[i]; }
            for (int i = 0; i < n; i++) o[i] /= sum;
        }
    }

    public override void Argmax(float* x, int rows, int n, int* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * n;
            int best = 0;
            for (int i = 1; i < n; i++) if (row[i] > row[best]) best = i;
            dst[r] = best;
        }
    }

    public override void Axpy(float alpha, float* x, long n, float* y)
    {
        for (long i = 0; i < n; i++) y[i] += alpha * x[i];
    }

    public override void Scale(float* x, long n, float factor)
    {
        for (long i = 0; i < n; i++) x[i] *= factor;
    }

    public override double SumOfSquares(float* x, long n)
    {
        double sum = 0;
        for (long i = 0; i < n; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    public override void AdamW(float* p, float* g, float* m, float* v, long n, in AdamWStep step)
    {
        float decay = step.DecayFactor, b1 = (float)step.Beta1, b2 = (float)step.Beta2;
        float c1 = (float)(1 - step.Beta1), c2 = (float)(1 - step.Beta2), eps = (float)step.Epsilon;
        float negStep = -step.StepSize, bc2 = step.BiasCorrection2Sqrt;
        // PyTorch 1.13's single-tensor AdamW on CPU, operation for operation (its add/addcmul are fused multiply-adds).
        for (long i = 0; i < n; i++)
        {
            p[i] *= decay;
            m[i] = MathF.FusedMultiplyAdd(g[i], c1, m[i] * b1);
            v[i] = MathF.FusedMultiplyAdd(c2 * g[i], g[i], v[i] * b2);
            p[i] += negStep * m[i] / (MathF.Sqrt(v[i]) / bc2 + eps);
        }
    }
}
