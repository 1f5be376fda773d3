using System.Collections.Concurrent;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Memoizes BPE results per pre-tokenized word: word text → packed (id, start, end) triples relative to the word.
/// Looked up by span (no allocation on a hit); bounded, and once full it stops adding (as HF's cache does).
/// Thread-safe.
/// </summary>
internal sealed class WordCache
{
    public const int MaxWordLength = 256;
    private readonly ConcurrentDictionary<string, int[]> _map = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;
    private int _count; // ConcurrentDictionary.Count takes every lock; keep our own

    public WordCache(int capacity)
    {
        _capacity = capacity;
        _lookup = _map.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public bool TryGet(ReadOnlySpan<char> word, out int[] tokens) => _lookup.TryGetValue(word, out tokens!);

    public void Add(ReadOnlySpan<char> word, int[] tokens)
    {
        if (word.Length >= MaxWordLength || Volatile.Read(ref _count) >= _capacity) return;
        if (_map.TryAdd(word.ToString(), tokens)) Interlocked.Increment(ref _count);
    }

    public void Clear()
    {
        _map.Clear();
        Volatile.Write(ref _count, 0);
    }
}
