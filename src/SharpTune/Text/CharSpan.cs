namespace SharpTune.Text;

/// <summary>A half-open range <c>[Start, End)</c> of UTF-16 positions in a rendered text.</summary>
/// <param name="Start">First position.</param>
/// <param name="End">One past the last position.</param>
public readonly record struct CharSpan(int Start, int End)
{
    /// <summary>Number of positions.</summary>
    public int Length => End - Start;

    /// <summary>Whether the half-open ranges share a position.</summary>
    public bool Overlaps(CharSpan other) => Start < other.End && other.Start < End;
}
