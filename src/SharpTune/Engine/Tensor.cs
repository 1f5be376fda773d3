namespace SharpTune.Engine;

/// <summary>
/// A view of backend-owned memory as a row-major matrix <c>[Rows, Cols]</c> starting at an element offset in a
/// <see cref="DeviceBuffer"/>. Cheap to copy; slicing and reshaping never touch the data.
/// </summary>
public readonly struct Tensor
{
    /// <summary>Creates a view; checks that it lies inside the buffer.</summary>
    public Tensor(DeviceBuffer buffer, long offset, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (rows < 0 || cols < 0 || offset < 0 || offset + (long)rows * cols > buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"view [{rows}, {cols}] at {offset} exceeds a buffer of {buffer.Length} elements");
        Buffer = buffer;
        Offset = offset;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>The owning buffer.</summary>
    public DeviceBuffer Buffer { get; }

    /// <summary>Element offset of row 0 in the buffer.</summary>
    public long Offset { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Elements per row.</summary>
    public int Cols { get; }

    /// <summary>Element type.</summary>
    public ElementType Type => Buffer.Type;

    /// <summary>Number of elements.</summary>
    public long Length => (long)Rows * Cols;

    /// <summary>Whether this view refers to a buffer (the default value does not).</summary>
    public bool IsValid => Buffer is not null;

    /// <summary>Rows <paramref name="start"/> .. start + count.</summary>
    public Tensor SliceRows(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start), $"rows {start}+{count} of {Rows}");
        return new Tensor(Buffer, Offset + (long)start * Cols, count, Cols);
    }

    /// <summary>The same elements seen as <c>[rows, cols]</c> (rows × cols must equal <see cref="Length"/>).</summary>
    public Tensor Reshape(int rows, int cols)
    {
        if ((long)rows * cols != Length) throw new ArgumentException($"cannot reshape [{Rows}, {Cols}] to [{rows}, {cols}]");
        return new Tensor(Buffer, Offset, rows, cols);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type}[{Rows}, {Cols}]@{Offset}";
}
