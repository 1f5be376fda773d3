using System.Runtime.InteropServices;

namespace SharpTune.Engine.Cpu;

/// <summary>Host memory of the CPU backend: one 64-byte aligned native block, zero-filled, freed with its arena.</summary>
internal sealed unsafe class CpuBuffer : DeviceBuffer
{
    public CpuBuffer(ElementType type, long length) : base(type, length)
    {
        ByteLength = Math.Max(64, length * type.SizeOf());
        Pointer = NativeMemory.AlignedAlloc((nuint)ByteLength, 64);
        NativeMemory.Clear(Pointer, (nuint)ByteLength);
    }

    public void* Pointer { get; private set; }

    public long ByteLength { get; }

    public void Free()
    {
        if (Pointer is null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}

/// <summary>The CPU backend's arena: a list of native blocks freed together.</summary>
internal sealed class CpuArena(string name) : Arena(name)
{
    private readonly List<CpuBuffer> _buffers = [];

    public override Tensor Allocate(ElementType type, int rows, int cols) => new(AllocateBuffer(type, (long)rows * cols), 0, rows, cols);

    internal CpuBuffer AllocateBuffer(ElementType type, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var b = new CpuBuffer(type, length);
        _buffers.Add(b);
        Bytes += b.ByteLength;
        return b;
    }

    private bool _disposed;

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var b in _buffers) b.Free();
        _buffers.Clear();
    }
}

/// <summary>
/// A weight in the layout its kernel set's GEMM reads: <see cref="PanelWidth"/> = 0 is the plain HF row-major
/// <c>[out, in]</c>; otherwise panels of PanelWidth output features, each <c>[in, PanelWidth]</c> (k-major, the
/// last panel zero-padded), so the microkernel reads B contiguously.
/// </summary>
internal sealed unsafe class CpuLinearWeight(int outFeatures, int inFeatures, ElementType storage, CpuBuffer buffer, int panelWidth)
    : LinearWeight(outFeatures, inFeatures, storage)
{
    public CpuBuffer Buffer { get; } = buffer;

    public int PanelWidth { get; } = panelWidth;

    public void* Data => Buffer.Pointer;

    /// <summary>Number of panels (0 when unpacked).</summary>
    public int Panels => PanelWidth == 0 ? 0 : (OutFeatures + PanelWidth - 1) / PanelWidth;

    /// <summary>Element index of (row, k) of the HF matrix.</summary>
    public long IndexOf(int row, int k) => PanelWidth == 0
        ? (long)row * InFeatures + k
        : ((long)(row / PanelWidth) * InFeatures + k) * PanelWidth + row % PanelWidth;
}
