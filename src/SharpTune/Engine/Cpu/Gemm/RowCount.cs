namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>
/// Compile-time row count of a microkernel call: the JIT specializes a generic microkernel per struct type, so
/// the unused accumulators of a short tile disappear instead of being computed on zero rows.
/// </summary>
internal interface IRowCount
{
    static abstract int Count { get; }
}

internal struct Rows1 : IRowCount { public static int Count => 1; }
internal struct Rows2 : IRowCount { public static int Count => 2; }
internal struct Rows3 : IRowCount { public static int Count => 3; }
internal struct Rows4 : IRowCount { public static int Count => 4; }
internal struct Rows5 : IRowCount { public static int Count => 5; }
internal struct Rows6 : IRowCount { public static int Count => 6; }
