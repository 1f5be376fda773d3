using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SharpTune.Preprocessing;

/// <summary>
/// Writes a <see cref="PreprocessCache"/> data.bin one sample at a time, with the same bytes
/// <see cref="PreprocessCache.Encode"/> writes for the whole dataset, so preprocessing never holds the dataset in
/// memory. The layout puts the sample count and the sample starts before the token ids, and the count is known only at
/// the end (samples are dropped), so the ids go to a side file (<c>data.bin.ids</c>) beside the output; the starts
/// (8 bytes a sample), record indices (4 bytes a sample) and the supervised bitmap (1 bit a token) stay in memory.
/// <see cref="Finish"/> assembles data.bin and removes the side file. The caller owns the folder (a temporary entry).
/// </summary>
public sealed class TokenizedDatasetWriter : IDisposable
{
    private readonly string _path;
    private readonly string _idsPath;
    private FileStream? _ids;
    private readonly List<long> _starts = [0];   // [samples + 1] token offsets
    private readonly List<int> _records = [];    // [samples] source record index
    private readonly List<byte> _bits = [];      // [ceil(tokens / 8)] bit t set = token t supervised
    private long _tokens;

    /// <summary>Starts writing <paramref name="dataPath"/> (its folder must exist).</summary>
    public TokenizedDatasetWriter(string dataPath)
    {
        _path = dataPath;
        _idsPath = dataPath + ".ids";
        _ids = new FileStream(_idsPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
    }

    /// <summary>Number of samples added.</summary>
    public int Count => _records.Count;

    /// <summary>Total number of tokens added.</summary>
    public long TokenCount => _tokens;

    /// <summary>Appends one sample: ids and aligned labels (-100 = masked), as <see cref="TokenizedDataset.Builder.Add"/>.</summary>
    public void Add(ReadOnlySpan<int> ids, ReadOnlySpan<int> labels, int recordIndex)
    {
        var stream = _ids ?? throw new InvalidOperationException("the data file is finished");
        if (ids.Length != labels.Length) throw new ArgumentException("ids and labels differ in length");
        for (int t = 0; t < ids.Length; t++)
            if (labels[t] != LabelMasker.IgnoreIndex && labels[t] != ids[t]) throw new ArgumentException($"label {labels[t]} at {t} is neither -100 nor the token id {ids[t]}");
        if (_tokens + ids.Length > int.MaxValue) throw new InvalidDataException($"more than {int.MaxValue} tokens; at most {int.MaxValue} are supported");
        stream.Write(MemoryMarshal.AsBytes(ids));
        for (int t = 0; t < labels.Length; t++)
        {
            long g = _tokens + t;
            if ((g & 7) == 0) _bits.Add(0);
            if (labels[t] != LabelMasker.IgnoreIndex) _bits[^1] |= (byte)(1 << (int)(g & 7));
        }
        _tokens += ids.Length;
        _starts.Add(_tokens);
        _records.Add(recordIndex);
    }

    /// <summary>Writes data.bin (header, starts, ids, record indices, bitmap), removes the side file, and returns the SHA-256 of data.bin.</summary>
    public string Finish()
    {
        var ids = _ids ?? throw new InvalidOperationException("the data file is finished");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var output = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            void Write(ReadOnlySpan<byte> b)
            {
                output.Write(b);
                hash.AppendData(b);
            }
            Span<byte> header = stackalloc byte[24];
            PreprocessCache.Magic.CopyTo(header);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], PreprocessCache.FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], Count);
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], _tokens);
            Write(header);
            Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_starts)));
            ids.Flush();
            ids.Position = 0;
            var buffer = new byte[1 << 20];
            int n;
            while ((n = ids.Read(buffer)) > 0) Write(buffer.AsSpan(0, n));
            Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_records)));
            Write(CollectionsMarshal.AsSpan(_bits));
        }
        ids.Dispose();
        _ids = null;
        File.Delete(_idsPath);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Closes the side file (an unfinished writer leaves its files for the owner of the folder to remove).</summary>
    public void Dispose()
    {
        _ids?.Dispose();
        _ids = null;
    }
}
