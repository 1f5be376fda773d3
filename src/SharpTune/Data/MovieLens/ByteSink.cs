namespace SharpTune.Data.MovieLens;

/// <summary>A buffered byte writer over a stream: records are appended as spans and flushed in large blocks.</summary>
internal sealed class ByteSink(Stream stream, int capacity = 1 << 20)
{
    private readonly byte[] _buf = new byte[capacity];
    private int _len;

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _buf.Length - _len)
        {
            Flush();
            if (bytes.Length > _buf.Length) { stream.Write(bytes); return; }
        }
        bytes.CopyTo(_buf.AsSpan(_len));
        _len += bytes.Length;
    }

    /// <summary>Appends a non-negative or negative integer in decimal.</summary>
    public void WriteInteger(long value)
    {
        Span<byte> tmp = stackalloc byte[24];
        System.Buffers.Text.Utf8Formatter.TryFormat(value, tmp, out int n);
        Write(tmp[..n]);
    }

    /// <summary>Writes the buffered bytes to the stream.</summary>
    public void Flush()
    {
        stream.Write(_buf, 0, _len);
        _len = 0;
    }
}
