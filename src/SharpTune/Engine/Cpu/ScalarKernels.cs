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

    public override void Gemm(float* a, int m, CpuLinearWeight w, float* bias, float* c, bool accumulate)
    {
        int n = w.OutFeatures, k = w.InFeatures;
        bool bf16 = w.Storage == ElementType.BF16;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    long idx = w.IndexOf(j, p);
                    float wv = bf16 ? BFloat16.ToSingle(((ushort*)w.Data)[idx]) : ((float*)w.Data)[idx];
                    sum += a[(long)i * k + p] * wv;
                }
                if (bias != null) sum += bias[j];
                float* cell = c + (long)i * n + j;
                *cell = accumulate ? *cell + sum : sum;
            }
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

    public override void Rope(float* x, int tokens, int width, int* positions, float* cos, float* sin, int headDim, float* dst)
    {
        int half = headDim / 2;
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
                    o[i] = x1 * c[i] - x2 * s[i];
                    o[i + half] = x2 * c[i] + x1 * s[i];
                }
            }
        }
    }

    public override void Attention(float* q, int tokens, float* kCache, float* vCache, int* kvStart, int* kvCount, int heads, int kvHeads, int headDim, float scale, float* dst)
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
                for (int j = 0; j < count; j++)
                {
                    float p = scores[j] / sum;
                    float* vj = vCache + (start + j) * kvWidth + kvOff;
                    for (int d = 0; d < headDim; d++) o[d] += p * vj[d];
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
}
