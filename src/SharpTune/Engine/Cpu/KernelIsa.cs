namespace SharpTune.Engine.Cpu;

/// <summary>Which CPU kernel set runs (chosen by <see cref="ComputeBackends"/>, e.g. from <c>SHARPTUNE_KERNELS</c>).</summary>
internal enum KernelIsa
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
