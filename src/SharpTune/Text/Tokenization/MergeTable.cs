using System.Runtime.CompilerServices;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// The BPE merge rules as an open-addressing hash table: (left id, right id) → (rank, merged id). Read-only
/// after construction, so lookups are lock-free from any thread.
/// </summary>
internal sealed class MergeTable
{
    private readonly long[] _keys;
    private readonly long[] _values;
    private readonly int _mask;
    private const long Empty = -1;

    public MergeTable(int capacity)
    {
        int size = 16;
        while (size < capacity * 2) size <<= 1;
        _keys = new long[size];
        _values = new long[size];
        _mask = size - 1;
        Array.Fill(_keys, Empty);
    }

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> 40) & _mask;

    /// <summary>Adds or replaces a rule (a later duplicate wins, as in HF's HashMap collect).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the load loop, which is compiled optimized up front
    public void Set(int left, int right, int rank, int merged)
    {
        long key = Key(left, right);
        int i = Slot(key);
        while (_keys[i] != Empty && _keys[i] != key) i = (i + 1) & _mask;
        if (_keys[i] == Empty) Count++;
        _keys[i] = key;
        _values[i] = ((long)rank << 32) | (uint)merged;
    }

    /// <summary>Looks up a pair; the result packs rank (high 32 bits) and merged id (low 32 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out long rankAndId)
    {
        long key = Key(left, right);
        int i = Slot(key);
        while (true)
        {
            long k = _keys[i];
            if (k == key) { rankAndId = _values[i]; return true; }
            if (k == Empty) { rankAndId = 0; return false; }
            i = (i + 1) & _mask;
        }
    }
}
