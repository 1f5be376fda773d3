namespace SharpTune.Text.Tokenization;

/// <summary>
/// Applies BPE merges to one word exactly as Hugging Face's Word::merge_all does: a priority queue of candidate
/// pairs ordered by (rank, position), symbols in a doubly linked list, stale queue entries skipped when the pair
/// at their position no longer produces the same token. O(n log n) in the word length, so a long SentencePiece
/// input without pre-tokenizer splits does not go quadratic. One instance per thread; buffers are reused.
/// </summary>
internal sealed class BpeWordMerger
{
    public int[] Id = new int[64];
    public int[] Start = new int[64];
    public int[] End = new int[64];
    private int[] _prev = new int[64];
    private int[] _next = new int[64];
    public int Count;

    private long[] _heapKey = new long[64];
    private int[] _heapId = new int[64];
    private int _heapCount;

    public void Clear() => Count = 0;

    public void Add(int id, int start, int end)
    {
        if (Count == Id.Length)
        {
            int n = Count * 2;
            Array.Resize(ref Id, n);
            Array.Resize(ref Start, n);
            Array.Resize(ref End, n);
            Array.Resize(ref _prev, n);
            Array.Resize(ref _next, n);
        }
        Id[Count] = id;
        Start[Count] = start;
        End[Count] = end;
        Count++;
    }

    /// <summary>Merges in place; afterwards symbols with Id &gt;= 0 are the tokens, in order.</summary>
    public void MergeAll(MergeTable merges)
    {
        int n = Count;
        if (n < 2) return;
        _heapCount = 0;
        for (int i = 0; i < n; i++)
        {
            _prev[i] = i - 1;
            _next[i] = i + 1 < n ? i + 1 : -1;
        }
        for (int i = 0; i + 1 < n; i++)
            if (merges.TryGet(Id[i], Id[i + 1], out long v)) Push((v & ~0xFFFFFFFFL) | (uint)i, (int)v);

        while (_heapCount > 0)
        {
            Pop(out long key, out int newId);
            int pos = (int)(uint)key;
            if (Id[pos] < 0) continue;
            int next = _next[pos];
            if (next < 0) continue;
            if (!merges.TryGet(Id[pos], Id[next], out long cur) || (int)cur != newId) continue;

            Id[pos] = newId;
            End[pos] = End[next];
            Id[next] = -1;
            int nn = _next[next];
            _next[pos] = nn;
            if (nn >= 0) _prev[nn] = pos;

            int prev = _prev[pos];
            if (prev >= 0 && merges.TryGet(Id[prev], newId, out long pv)) Push((pv & ~0xFFFFFFFFL) | (uint)prev, (int)pv);
            if (nn >= 0 && merges.TryGet(newId, Id[nn], out long nv)) Push((nv & ~0xFFFFFFFFL) | (uint)pos, (int)nv);
        }
    }

    // Min-heap on key = rank << 32 | position: lowest rank first, then leftmost (HF's Merge ordering).
    private void Push(long key, int id)
    {
        if (_heapCount == _heapKey.Length)
        {
            Array.Resize(ref _heapKey, _heapCount * 2);
            Array.Resize(ref _heapId, _heapCount * 2);
        }
        int i = _heapCount++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (_heapKey[parent] <= key) break;
            _heapKey[i] = _heapKey[parent];
            _heapId[i] = _heapId[parent];
            i = parent;
        }
        _heapKey[i] = key;
        _heapId[i] = id;
    }

    private void Pop(out long key, out int id)
    {
        key = _heapKey[0];
        id = _heapId[0];
        int n = --_heapCount;
        if (n == 0) return;
        long lastKey = _heapKey[n];
        int lastId = _heapId[n];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && _heapKey[child + 1] < _heapKey[child]) child++;
            if (_heapKey[child] >= lastKey) break;
            _heapKey[i] = _heapKey[child];
            _heapId[i] = _heapId[child];
            i = child;
        }
        _heapKey[i] = lastKey;
        _heapId[i] = lastId;
    }
}
