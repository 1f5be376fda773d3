namespace SharpTune.Engine;

/// <summary>Which CPU kernel implementation runs (<c>SHARPTUNE_KERNELS</c>).</summary>
public enum KernelIsa
{
    /// <summary>Plain scalar reference kernels.</summary>
    Scalar,

    /// <summary>Portable 128-bit vectors (SSE / NEON).</summary>
    Vector128,

    /// <summary>AVX2 with FMA (256-bit).</summary>
    Avx2,

    /// <summary>AVX-512F (512-bit).</summary>
    Avx512,
}
