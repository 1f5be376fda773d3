using System.Runtime.CompilerServices;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// A read-only string → id hash table looked up by character span, used while resolving 100k+ merges at load
/// time. Self-contained and compiled optimized up front: the same lookups through Dictionary's span
/// AlternateLookup run in tier-0 code for most of a cold load.
/// </summary>
internal sealed class TokenIdIndex
{
    private readonly string[] _keys;
    private readonly int[] _ids;
    private readonly int[] _hashes;
    private readonly int _mask;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TokenIdIndex(Dictionary<string, int> vocab)
    {
        int size = 16;
        while (size < vocab.Count * 2) size <<= 1;
        _keys = new string[size];
        _ids = new int[size];
        _hashes = new int[size];
        _mask = size - 1;
        foreach (var (token, id) in vocab)
        {
            int h = Hash(token);
            int i = h & _mask;
            while (_keys[i] is not null) i = (i + 1) & _mask;
            _keys[i] = token;
            _ids[i] = id;
            _hashes[i] = h;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<char> s)
    {
        uint h = 2166136261;
        foreach (char c in s) h = (h ^ c) * 16777619;
        return (int)(h ^ (h >> 15));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ReadOnlySpan<char> token, out int id)
    {
        int h = Hash(token);
        int i = h & _mask;
        while (true)
        {
            var k = _keys[i];
            if (k is null) { id = -1; return false; }
            if (_hashes[i] == h && token.SequenceEqual(k)) { id = _ids[i]; return true; }
            i = (i + 1) & _mask;
        }
    }
}
