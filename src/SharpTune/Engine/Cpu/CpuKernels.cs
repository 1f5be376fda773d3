namespace SharpTune.Engine.Cpu;

/// <summary>
/// One implementation of the CPU kernels on raw contiguous memory. <see cref="ScalarKernels"/> is the plain
/// reference; <see cref="SimdKernels"/> the fast one for an instruction set. The backend resolves tensor handles to
/// pointers and checks shapes before calling these.
/// </summary>
internal abstract unsafe class CpuKernels
{
    /// <summary>Short name, e.g. <c>avx2</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Output features per packed weight panel; 0 keeps weights in HF row-major layout.</summary>
    public abstract int PanelWidth { get; }

    /// <summary><c>c [m, N] (+)= a [m, K] · wᵀ</c>, then <c>+ bias [N]</c> when bias is not null.</summary>
    public abstract void Gemm(float* a, int m, CpuLinearWeight w, float* bias, float* c, bool accumulate);

    /// <summary>Row-wise RMSNorm of <c>x [rows, n]</c> with weight <c>[n]</c>.</summary>
    public abstract void RmsNorm(float* x, int rows, int n, float* weight, float eps, float* dst);

    /// <summary>Rotate-half RoPE of <c>x [tokens, width]</c>, heads of <paramref name="headDim"/>.</summary>
    public abstract void Rope(float* x, int tokens, int width, int* positions, float* cos, float* sin, int headDim, float* dst);

    /// <summary>Grouped-query attention over cache ranges (see <see cref="IComputeBackend.Attention"/>).</summary>
    public abstract void Attention(float* q, int tokens, float* kCache, float* vCache, int* kvStart, int* kvCount, int heads, int kvHeads, int headDim, float scale, float* dst);

    /// <summary><c>silu(gate) * up</c> elementwise over <paramref name="n"/> elements.</summary>
    public abstract void SwiGlu(float* gate, float* up, long n, float* dst);

    /// <summary>Row-wise softmax of <c>x [rows, n]</c>.</summary>
    public abstract void Softmax(float* x, int rows, int n, float* dst);

    /// <summary>Row-wise argmax of <c>x [rows, n]</c> (first index on ties).</summary>
    public abstract void Argmax(float* x, int rows, int n, int* dst);
}
