using System.Runtime.CompilerServices;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Text being normalized, with the alignment Hugging Face keeps in its NormalizedString: every UTF-16 unit of
/// the normalized text remembers the range [Start, End) of the original input (UTF-16 units) it came from.
/// Reused across calls (one per thread), so encoding allocates nothing per character.
/// </summary>
internal sealed class NormalizedBuffer
{
    public char[] Chars = new char[256];
    public int[] Start = new int[256];
    public int[] End = new int[256];
    public int Length;

    public ReadOnlySpan<char> Span => Chars.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void EnsureCapacity(int capacity)
    {
        if (capacity <= Chars.Length) return;
        int n = Math.Max(capacity, Chars.Length * 2);
        Array.Resize(ref Chars, n);
        Array.Resize(ref Start, n);
        Array.Resize(ref End, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(char c, int start, int end)
    {
        if (Length == Chars.Length) EnsureCapacity(Length + 1);
        Chars[Length] = c;
        Start[Length] = start;
        End[Length] = end;
        Length++;
    }

    /// <summary>Appends a code point (one or two UTF-16 units) sharing one alignment.</summary>
    public void AppendCodePoint(int cp, int start, int end)
    {
        if (cp < 0x10000) Append((char)cp, start, end);
        else
        {
            cp -= 0x10000;
            Append((char)(0xD800 + (cp >> 10)), start, end);
            Append((char)(0xDC00 + (cp & 0x3FF)), start, end);
        }
    }

    /// <summary>Appends original text unchanged: unit i of it came from <paramref name="offset"/> + i (pairs share their range).</summary>
    public void AppendOriginal(ReadOnlySpan<char> text, int offset)
    {
        EnsureCapacity(Length + text.Length);
        text.CopyTo(Chars.AsSpan(Length));
        for (int i = 0; i < text.Length; i++)
        {
            int k = Length + i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                Start[k] = Start[k + 1] = offset + i;
                End[k] = End[k + 1] = offset + i + 2;
                i++;
            }
            else
            {
                Start[k] = offset + i;
                End[k] = offset + i + 1;
            }
        }
        Length += text.Length;
    }

    /// <summary>Appends units [from, to) of another buffer with their alignment.</summary>
    public void AppendFrom(NormalizedBuffer other, int from, int to)
    {
        int n = to - from;
        EnsureCapacity(Length + n);
        Array.Copy(other.Chars, from, Chars, Length, n);
        Array.Copy(other.Start, from, Start, Length, n);
        Array.Copy(other.End, from, End, Length, n);
        Length += n;
    }

    /// <summary>The code point at <paramref name="i"/> and its length in UTF-16 units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CodePointAt(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        length = 1;
        return c;
    }
}
