namespace SharpTune.Models;

/// <summary>How linear and embedding weights are kept in memory.</summary>
public enum WeightStorage
{
    /// <summary>As in the checkpoint: BF16 stays BF16, F32 and F16 become F32.</summary>
    Auto,

    /// <summary>Always float32.</summary>
    F32,

    /// <summary>Always bfloat16 (half the memory and bandwidth; widened to fp32 inside the GEMM).</summary>
    BF16,
}
