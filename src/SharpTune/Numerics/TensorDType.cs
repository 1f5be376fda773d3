namespace SharpTune.Numerics;

/// <summary>Element types of checkpoint tensors (safetensors dtype strings F32, BF16, F16).</summary>
public enum TensorDType
{
    /// <summary>IEEE float32 (<c>F32</c>).</summary>
    F32,

    /// <summary>bfloat16 (<c>BF16</c>): the top 16 bits of a float32.</summary>
    BF16,

    /// <summary>IEEE float16 (<c>F16</c>).</summary>
    F16,
}

/// <summary>Sizes and safetensors names of <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this TensorDType t) => t == TensorDType.F32 ? 4 : 2;

    /// <summary>The safetensors header name (<c>F32</c>, <c>BF16</c>, <c>F16</c>).</summary>
    public static string SafetensorsName(this TensorDType t) => t switch
    {
        TensorDType.F32 => "F32",
        TensorDType.BF16 => "BF16",
        TensorDType.F16 => "F16",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Parses a safetensors dtype name; null when unsupported.</summary>
    public static TensorDType? FromSafetensorsName(string name) => name switch
    {
        "F32" => TensorDType.F32,
        "BF16" => TensorDType.BF16,
        "F16" => TensorDType.F16,
        _ => null,
    };
}
