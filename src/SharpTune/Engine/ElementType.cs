namespace SharpTune.Engine;

/// <summary>Element types of backend buffers.</summary>
public enum ElementType
{
    /// <summary>IEEE float32: every activation.</summary>
    F32,

    /// <summary>bfloat16 bits: weights kept at half the memory and widened inside the kernels.</summary>
    BF16,

    /// <summary>32-bit signed integers: token ids, positions, cache slots.</summary>
    I32,
}

/// <summary>Sizes of <see cref="ElementType"/>.</summary>
public static class ElementTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this ElementType t) => t == ElementType.BF16 ? 2 : 4;
}
