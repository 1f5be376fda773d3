using System.Security.Cryptography;

namespace SharpTune.Data.Csv;

/// <summary>
/// Streams delimiter-separated records (CSV, TSV, pipe-separated) from bytes without allocating per record:
/// fields are spans into an internal buffer, valid until the next <see cref="Read"/>. Handles a UTF-8 BOM, LF and
/// CRLF line ends, empty lines (skipped), and, when <c>quotes</c> is on, RFC 4180 quoting (<c>"a, b"</c>,
/// <c>""</c> for a quote, line breaks inside quotes). Every byte read is fed to a SHA-256 so callers get the
/// file's hash for free.
/// </summary>
internal sealed class DelimitedReader : IDisposable
{
    private readonly Stream _stream;
    private readonly byte _delimiter;
    private readonly bool _quotes;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _buf;
    private int _pos, _end;
    private bool _eof, _started;
    private long _nextLine = 1;
    private int[] _fieldStart = new int[32];
    private int[] _fieldLength = new int[32];
    private byte[] _scratch = new byte[256];
    private bool _fieldsInScratch;

    /// <summary>Reads from <paramref name="stream"/>; <paramref name="name"/> is used in error messages.</summary>
    public DelimitedReader(Stream stream, string name, byte delimiter, bool quotes, int bufferSize = 1 << 20)
    {
        _stream = stream;
        Name = name;
        _delimiter = delimiter;
        _quotes = quotes;
        _buf = new byte[Math.Max(bufferSize, 16)];
    }

    /// <summary>Opens a file; a missing file is a <see cref="UserException"/>.</summary>
    public static DelimitedReader Open(string path, byte delimiter, bool quotes)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found");
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return new DelimitedReader(fs, path, delimiter, quotes);
    }

    /// <summary>The file name used in messages.</summary>
    public string Name { get; }

    /// <summary>1-based line number where the current record starts.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Number of fields in the current record.</summary>
    public int FieldCount { get; private set; }

    /// <summary>The bytes of field <paramref name="i"/> of the current record (quotes removed, <c>""</c> unescaped).</summary>
    public ReadOnlySpan<byte> this[int i] =>
        (_fieldsInScratch ? _scratch : _buf).AsSpan(_fieldStart[i], _fieldLength[i]);

    /// <summary>"file:line" of the current record, for messages.</summary>
    public string Where => $"{Name}:{LineNumber}";

    /// <summary>Moves to the next non-empty record; false at the end of the input.</summary>
    public bool Read()
    {
        while (NextRecord(out var start, out var length, out var lines))
        {
            LineNumber = _nextLine;
            _nextLine += lines;
            var record = _buf.AsSpan(start, length);
            if (record.Length > 0 && record[^1] == (byte)'\r') record = record[..^1];
            if (record.Length == 0) continue;
            Split(record, start);
            return true;
        }
        return false;
    }

    /// <summary>Reads to the end (hashing the rest) and returns the SHA-256 of the whole input as lowercase hex.</summary>
    public string FinishSha256()
    {
        while (!_eof) { _pos = _end; Fill(); }
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        _hash.Dispose();
    }

    // Finds the next record in the buffer, refilling as needed. lines = line breaks consumed (for numbering).
    private bool NextRecord(out int start, out int length, out int lines)
    {
        if (!_started) StartWithBom();
        while (true)
        {
            var span = _buf.AsSpan(_pos, _end - _pos);
            int end = FindRecordEnd(span, out lines, out var inQuotes);
            if (end >= 0)
            {
                start = _pos;
                length = end;
                _pos += end + 1;
                return true;
            }
            if (_eof)
            {
                if (_pos == _end) { start = length = lines = 0; return false; }
                if (inQuotes) throw new UserException($"{Name}:{_nextLine}: a quoted field is not closed before the end of the file");
                start = _pos;
                length = _end - _pos;
                _pos = _end;
                return true;
            }
            Fill();
        }
    }

    private int FindRecordEnd(ReadOnlySpan<byte> span, out int lines, out bool inQuotes)
    {
        inQuotes = false;
        lines = 1;
        if (!_quotes) return span.IndexOf((byte)'\n');
        int first = span.IndexOfAny((byte)'\n', (byte)'"');
        if (first < 0) return -1;
        if (span[first] == (byte)'\n') return first;
        int embedded = 0;
        inQuotes = true;
        for (int i = first + 1; i < span.Length; i++)
        {
            byte b = span[i];
            if (b == (byte)'"') inQuotes = !inQuotes;
            else if (b == (byte)'\n')
            {
                if (!inQuotes) { lines = 1 + embedded; return i; }
                embedded++;
            }
        }
        lines = embedded;
        return -1;
    }

    private void StartWithBom()
    {
        _started = true;
        while (_end - _pos < 3 && !_eof) Fill();
        if (_buf.AsSpan(_pos, _end - _pos).StartsWith("\uFEFF"u8)) _pos += 3;
    }

    // Keeps the unread tail, grows the buffer when one record fills it, and reads more.
    private void Fill()
    {
        int tail = _end - _pos;
        if (tail > 0 && _pos > 0) Buffer.BlockCopy(_buf, _pos, _buf, 0, tail);
        _pos = 0;
        _end = tail;
        if (_end == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
        int n = _stream.Read(_buf, _end, _buf.Length - _end);
        if (n == 0) { _eof = true; return; }
        _hash.AppendData(_buf, _end, n);
        _end += n;
    }

    private void Split(ReadOnlySpan<byte> record, int offset)
    {
        if (_quotes && record.IndexOf((byte)'"') >= 0)
        {
            SplitQuoted(record);
            return;
        }
        _fieldsInScratch = false;
        int count = 0, pos = 0;
        while (true)
        {
            int d = record[pos..].IndexOf(_delimiter);
            int len = d < 0 ? record.Length - pos : d;
            AddField(count++, offset + pos, len);
            if (d < 0) break;
            pos += d + 1;
        }
        FieldCount = count;
    }

    // Quoted records are rare (titles with commas): unescape into the scratch buffer.
    private void SplitQuoted(ReadOnlySpan<byte> record)
    {
        _fieldsInScratch = true;
        if (_scratch.Length < record.Length) _scratch = new byte[Math.Max(record.Length, _scratch.Length * 2)];
        int count = 0, w = 0, i = 0;
        while (true)
        {
            int fieldStart = w;
            if (i < record.Length && record[i] == (byte)'"')
            {
                i++;
                while (i < record.Length)
                {
                    if (record[i] == (byte)'"')
                    {
                        if (i + 1 < record.Length && record[i + 1] == (byte)'"') { _scratch[w++] = (byte)'"'; i += 2; continue; }
                        i++;
                        break;
                    }
                    _scratch[w++] = record[i++];
                }
            }
            // Unquoted field, or stray text after a closing quote (kept verbatim, as most CSV readers do).
            while (i < record.Length && record[i] != _delimiter) _scratch[w++] = record[i++];
            AddField(count++, fieldStart, w - fieldStart);
            if (i >= record.Length) break;
            i++; // the delimiter
        }
        FieldCount = count;
    }

    private void AddField(int index, int start, int length)
    {
        if (index == _fieldStart.Length)
        {
            Array.Resize(ref _fieldStart, index * 2);
            Array.Resize(ref _fieldLength, index * 2);
        }
        _fieldStart[index] = start;
        _fieldLength[index] = length;
    }
}
