namespace SharpTune.Data.MovieLens;

/// <summary>
/// A buffered byte writer: records are appended as spans; full buffers go to the stream directly, or through a
/// <see cref="BackgroundBlockWriter"/> when one is given.
/// </summary>
internal sealed class ByteSink
{
    private readonly Stream _stream;
    private readonly BackgroundBlockWriter? _writer;
    private byte[] _buf;
    private int _len;

    /// <summary>Writes to <paramref name="stream"/>, through <paramref name="writer"/> when given.</summary>
    public ByteSink(Stream stream, BackgroundBlockWriter? writer = null, int capacity = 1 << 20)
    {
        _stream = stream;
        _writer = writer;
        _buf = writer?.Rent() ?? new byte[capacity];
    }

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _buf.Length - _len)
        {
            Flush();
            if (bytes.Length > _buf.Length)
            {
                if (_writer is not null) _writer.Submit(_stream, bytes.ToArray(), bytes.Length);
                else _stream.Write(bytes);
                return;
            }
        }
        bytes.CopyTo(_buf.AsSpan(_len));
        _len += bytes.Length;
    }

    /// <summary>Appends an integer in decimal.</summary>
    public void WriteInteger(long value)
    {
        Span<byte> tmp = stackalloc byte[24];
        System.Buffers.Text.Utf8Formatter.TryFormat(value, tmp, out int n);
        Write(tmp[..n]);
    }

    /// <summary>Passes the buffered bytes on (to the stream, or queued to the background writer).</summary>
    public void Flush()
    {
        if (_len == 0) return;
        if (_writer is null) _stream.Write(_buf, 0, _len);
        else
        {
            _writer.Submit(_stream, _buf, _len);
            _buf = _writer.Rent();
        }
        _len = 0;
    }
}
