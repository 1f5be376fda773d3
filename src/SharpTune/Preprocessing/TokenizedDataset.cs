namespace SharpTune.Preprocessing;

/// <summary>
/// Tokenized training samples stored flat: one id array for all samples, sample boundaries, and one bit per token
/// saying whether it is supervised (its label is its id) or masked (label -100). Labels follow transformers'
/// convention: aligned with input_ids; the model's output at position t is scored against label t+1.
/// </summary>
public sealed class TokenizedDataset
{
    private readonly long[] _starts;   // [samples + 1] token offsets
    private readonly int[] _ids;       // [tokens]
    private readonly byte[] _supervised; // [ceil(tokens / 8)] bit t set = token t supervised
    private readonly int[] _recordIndex; // [samples] index of the source record

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
    }

    /// <summary>Number of samples.</summary>
    public int Count => _starts.Length - 1;

    /// <summary>Total number of tokens.</summary>
    public long TokenCount => _ids.LongLength;

    /// <summary>Token ids of sample <paramref name="i"/>.</summary>
    public ReadOnlySpan<int> InputIds(int i) => _ids.AsSpan((int)_starts[i], (int)(_starts[i + 1] - _starts[i]));

    /// <summary>Length in tokens of sample <paramref name="i"/>.</summary>
    public int Length(int i) => (int)(_starts[i + 1] - _starts[i]);

    /// <summary>Index of the input record sample <paramref name="i"/> was built from.</summary>
    public int RecordIndex(int i) => _recordIndex[i];

    /// <summary>Writes the labels of sample <paramref name="i"/> (id or -100) into <paramref name="labels"/>.</summary>
    public void Labels(int i, Span<int> labels)
    {
        long start = _starts[i];
        var ids = InputIds(i);
        for (int t = 0; t < ids.Length; t++)
        {
            long g = start + t;
            labels[t] = (_supervised[g >> 3] & (1 << (int)(g & 7))) != 0 ? ids[t] : LabelMasker.IgnoreIndex;
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
        for (long g = _starts[i]; g < _starts[i + 1]; g++) if ((_supervised[g >> 3] & (1 << (int)(g & 7))) != 0) n++;
        return n;
    }

    internal ReadOnlySpan<long> Starts => _starts;
    internal ReadOnlySpan<int> AllIds => _ids;
    internal ReadOnlySpan<byte> SupervisedBits => _supervised;
    internal ReadOnlySpan<int> RecordIndices => _recordIndex;

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
