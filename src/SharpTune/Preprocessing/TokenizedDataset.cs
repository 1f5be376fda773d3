using System.IO.MemoryMappedFiles;

namespace SharpTune.Preprocessing;

/// <summary>
/// Tokenized training samples stored flat: one id array for all samples, sample boundaries, and one bit per token
/// saying whether it is supervised (its label is its id) or masked (label -100). Labels follow transformers'
/// convention: aligned with input_ids; the model's output at position t is scored against label t+1.
/// The arrays live either in memory (a dataset just built) or in a memory-mapped cache file
/// (<see cref="OpenMapped"/>): then a sample's tokens are read from the page cache when a batch needs them, and the
/// process holds no copy of the dataset.
/// </summary>
public sealed unsafe class TokenizedDataset : IDisposable
{
    private readonly long[]? _starts;   // [samples + 1] token offsets (in memory)
    private readonly int[]? _ids;       // [tokens]
    private readonly byte[]? _supervised; // [ceil(tokens / 8)] bit t set = token t supervised
    private readonly int[]? _recordIndex; // [samples] index of the source record
    // Memory-mapped layout (PreprocessCache's data.bin): base pointer and the byte offsets of the four arrays.
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long _startsAt, _idsAt, _recordsAt, _bitsAt;
    private readonly int _count;
    private readonly long _tokens;

    /// <summary>Wraps flat arrays (ownership passes to the dataset).</summary>
    public TokenizedDataset(long[] starts, int[] ids, byte[] supervised, int[] recordIndex)
    {
        if (starts.Length == 0 || starts[0] != 0 || starts[^1] != ids.LongLength) throw new ArgumentException("sample starts must run from 0 to the token count");
        if (supervised.LongLength != (ids.LongLength + 7) / 8) throw new ArgumentException("supervised bitmap has the wrong size");
        if (recordIndex.Length != starts.Length - 1) throw new ArgumentException("one record index per sample");
        _starts = starts;
        _ids = ids;
        _supervised = supervised;
        _recordIndex = recordIndex;
        _count = starts.Length - 1;
        _tokens = ids.LongLength;
    }

    private TokenizedDataset(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* basePointer, int samples, long tokens, long startsAt)
    {
        _file = file;
        _view = view;
        _base = basePointer;
        _count = samples;
        _tokens = tokens;
        _startsAt = startsAt;
        _idsAt = startsAt + 8L * (samples + 1);
        _recordsAt = _idsAt + 4 * tokens;
        _bitsAt = _recordsAt + 4L * samples;
    }

    /// <summary>
    /// Maps <paramref name="path"/> read-only: <paramref name="samples"/> samples and <paramref name="tokens"/> tokens laid
    /// out from byte <paramref name="startsAt"/> as int64 starts[samples + 1], int32 ids[tokens], int32
    /// recordIndex[samples], byte supervised[ceil(tokens / 8)]. The caller has checked the file's size and checksum;
    /// the sample boundaries are checked here.
    /// </summary>
    public static TokenizedDataset OpenMapped(string path, int samples, long tokens, long startsAt)
    {
        if (tokens > int.MaxValue) throw new InvalidDataException($"{path}: {tokens} tokens; at most {int.MaxValue} are supported");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            var d = new TokenizedDataset(file, view, p + view.PointerOffset, samples, tokens, startsAt);
            var starts = d.Starts;
            if (starts[0] != 0 || starts[^1] != tokens) throw new InvalidDataException($"{path}: sample starts do not run from 0 to the token count");
            for (int i = 0; i < samples; i++)
                if (starts[i + 1] < starts[i]) throw new InvalidDataException($"{path}: sample {i} has a negative length");
            return d;
        }
        catch
        {
            if (view is not null)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            }
            file.Dispose();
            throw;
        }
    }

    /// <summary>Whether the samples are read from a memory-mapped file.</summary>
    public bool IsMapped => _file is not null;

    /// <summary>Releases the mapping (a no-op for an in-memory dataset).</summary>
    public void Dispose()
    {
        if (_view is null) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file!.Dispose();
    }

    /// <summary>Number of samples.</summary>
    public int Count => _count;

    /// <summary>Total number of tokens.</summary>
    public long TokenCount => _tokens;

    /// <summary>Token ids of sample <paramref name="i"/>.</summary>
    public ReadOnlySpan<int> InputIds(int i)
    {
        var starts = Starts;
        return AllIds.Slice((int)starts[i], (int)(starts[i + 1] - starts[i]));
    }

    /// <summary>Length in tokens of sample <paramref name="i"/>.</summary>
    public int Length(int i)
    {
        var starts = Starts;
        return (int)(starts[i + 1] - starts[i]);
    }

    /// <summary>Index of the input record sample <paramref name="i"/> was built from.</summary>
    public int RecordIndex(int i) => RecordIndices[i];

    /// <summary>Writes the labels of sample <paramref name="i"/> (id or -100) into <paramref name="labels"/>.</summary>
    public void Labels(int i, Span<int> labels)
    {
        long start = Starts[i];
        var ids = InputIds(i);
        var bits = SupervisedBits;
        for (int t = 0; t < ids.Length; t++)
        {
            long g = start + t;
            labels[t] = (bits[(int)(g >> 3)] & (1 << (int)(g & 7))) != 0 ? ids[t] : LabelMasker.IgnoreIndex;
        }
    }

    /// <summary>The labels of sample <paramref name="i"/> as a new array.</summary>
    public int[] Labels(int i)
    {
        var labels = new int[Length(i)];
        Labels(i, labels);
        return labels;
    }

    /// <summary>Number of supervised tokens in sample <paramref name="i"/>.</summary>
    public int SupervisedCount(int i)
    {
        int n = 0;
        var starts = Starts;
        var bits = SupervisedBits;
        for (long g = starts[i]; g < starts[i + 1]; g++) if ((bits[(int)(g >> 3)] & (1 << (int)(g & 7))) != 0) n++;
        return n;
    }

    internal ReadOnlySpan<long> Starts => _file is null ? _starts : new ReadOnlySpan<long>(_base + _startsAt, _count + 1);
    internal ReadOnlySpan<int> AllIds => _file is null ? _ids : new ReadOnlySpan<int>(_base + _idsAt, (int)_tokens);
    internal ReadOnlySpan<byte> SupervisedBits => _file is null ? _supervised : new ReadOnlySpan<byte>(_base + _bitsAt, (int)((_tokens + 7) / 8));
    internal ReadOnlySpan<int> RecordIndices => _file is null ? _recordIndex : new ReadOnlySpan<int>(_base + _recordsAt, _count);

    /// <summary>Accumulates samples into a dataset.</summary>
    public sealed class Builder
    {
        private readonly List<long> _starts = [0];
        private readonly List<int> _ids = [];
        private readonly List<bool> _sup = [];
        private readonly List<int> _records = [];

        /// <summary>Number of samples added.</summary>
        public int Count => _records.Count;

        /// <summary>Adds one sample: ids and aligned labels (-100 = masked).</summary>
        public void Add(ReadOnlySpan<int> ids, ReadOnlySpan<int> labels, int recordIndex)
        {
            if (ids.Length != labels.Length) throw new ArgumentException("ids and labels differ in length");
            for (int t = 0; t < ids.Length; t++)
            {
                if (labels[t] != LabelMasker.IgnoreIndex && labels[t] != ids[t]) throw new ArgumentException($"label {labels[t]} at {t} is neither -100 nor the token id {ids[t]}");
                _ids.Add(ids[t]);
                _sup.Add(labels[t] != LabelMasker.IgnoreIndex);
            }
            _starts.Add(_ids.Count);
            _records.Add(recordIndex);
        }

        /// <summary>Builds the dataset.</summary>
        public TokenizedDataset Build()
        {
            var bits = new byte[(_ids.Count + 7) / 8];
            for (int t = 0; t < _sup.Count; t++) if (_sup[t]) bits[t >> 3] |= (byte)(1 << (t & 7));
            return new TokenizedDataset([.. _starts], [.. _ids], bits, [.. _records]);
        }
    }
}
