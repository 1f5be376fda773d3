namespace SharpTune.Engine;

/// <summary>
/// A block of memory owned by a backend (host memory for the CPU backend, device memory for a GPU one). Model code
/// never sees its contents, only <see cref="Tensor"/> views of it that it passes back to the backend's kernels.
/// </summary>
public abstract class DeviceBuffer
{
    /// <summary>Creates the handle.</summary>
    protected DeviceBuffer(ElementType type, long length)
    {
        Type = type;
        Length = length;
    }

    /// <summary>Element type of the whole buffer.</summary>
    public ElementType Type { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }
}
