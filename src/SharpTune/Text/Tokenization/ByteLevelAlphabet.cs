namespace SharpTune.Text.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table used by byte-level BPE: every byte 0..255 maps to one printable character
/// (printable Latin-1 bytes map to themselves, the rest to U+0100 and up), so a vocabulary of strings can name
/// arbitrary byte sequences.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The character standing for <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a byte-level character stands for, or -1 when <paramref name="c"/> is not in the alphabet.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>Maps UTF-8 bytes to their byte-level characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = ByteToCharTable[src[i]];
        });
    }

    /// <summary>
    /// Appends the bytes that <paramref name="token"/>'s characters stand for; when any character is outside the
    /// alphabet the token's own UTF-8 is appended instead (what Hugging Face's ByteLevel decoder does).
    /// </summary>
    public static void DecodeTo(string token, List<byte> output)
    {
        foreach (var c in token)
        {
            if (CharToByte(c) < 0)
            {
                output.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
                return;
            }
        }
        foreach (var c in token) output.Add((byte)CharToByte(c));
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var direct = new bool[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) table[b] = direct[b] ? (char)b : (char)(256 + n++);
        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[324];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[ByteToCharTable[b]] = (short)b;
        return table;
    }
}
