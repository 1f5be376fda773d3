using System.Runtime.CompilerServices;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Collects the tokens of one encode call: ids and original offsets (UTF-16 units). The model emits offsets
/// relative to the current word; <see cref="BeginWord"/> sets the buffer and position used to map them back to
/// the original text through the normalization alignment.
/// </summary>
internal sealed class TokenSink
{
    public int[] Ids = new int[256];
    public int[] Starts = new int[256];
    public int[] Ends = new int[256];
    public bool[] Special = new bool[256];
    public int Count;

    /// <summary>The text being encoded (lone surrogates already replaced).</summary>
    public string Text = "";

    private NormalizedBuffer? _buffer;
    private int _wordStart;

    public void Clear() => Count = 0;

    public void BeginWord(NormalizedBuffer buffer, int wordStart)
    {
        _buffer = buffer;
        _wordStart = wordStart;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Emit(int id, int start, int end)
    {
        var b = _buffer!;
        Add(id, b.Start[_wordStart + start], b.End[_wordStart + end - 1], false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int id, int start, int end, bool special)
    {
        if (Count == Ids.Length) Grow(Count + 1);
        Ids[Count] = id;
        Starts[Count] = start;
        Ends[Count] = end;
        Special[Count] = special;
        Count++;
    }

    /// <summary>Inserts a token at <paramref name="index"/> (post-processor templates).</summary>
    public void Insert(int index, int id, int start, int end, bool special)
    {
        if (Count == Ids.Length) Grow(Count + 1);
        int n = Count - index;
        Array.Copy(Ids, index, Ids, index + 1, n);
        Array.Copy(Starts, index, Starts, index + 1, n);
        Array.Copy(Ends, index, Ends, index + 1, n);
        Array.Copy(Special, index, Special, index + 1, n);
        Ids[index] = id;
        Starts[index] = start;
        Ends[index] = end;
        Special[index] = special;
        Count++;
    }

    private void Grow(int min)
    {
        int n = Math.Max(min, Ids.Length * 2);
        Array.Resize(ref Ids, n);
        Array.Resize(ref Starts, n);
        Array.Resize(ref Ends, n);
        Array.Resize(ref Special, n);
    }
}
