using System.Globalization;
using System.Runtime.CompilerServices;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// The character classes the pre-tokenizer regexes use, per code point: <c>\p{L}</c>, <c>\p{N}</c>, <c>\s</c>
/// (Unicode White_Space, as Oniguruma and Rust define it), and CR/LF. A table covers the BMP.
/// </summary>
internal static class CharClass
{
    public const byte Letter = 1;
    public const byte Number = 2;
    public const byte Space = 4;
    public const byte LineBreak = 8;
    public const byte Punctuation = 16;
    public const byte Mark = 32;
    public const byte Connector = 64;

    private static readonly byte[] Bmp = Build();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Of(int cp) => cp < 0x10000 ? Bmp[cp] : Compute(cp);

    public static bool IsLetter(int cp) => (Of(cp) & Letter) != 0;
    public static bool IsNumber(int cp) => (Of(cp) & Number) != 0;
    public static bool IsSpace(int cp) => (Of(cp) & Space) != 0;

    private static byte[] Build()
    {
        var t = new byte[0x10000];
        for (int c = 0; c < 0x10000; c++) t[c] = Compute(c);
        return t;
    }

    private static byte Compute(int cp)
    {
        if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
        byte k = CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            UnicodeCategory.ConnectorPunctuation => Punctuation | Connector,
            UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
                or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
                or UnicodeCategory.OtherPunctuation => Punctuation,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => Mark,
            _ => 0,
        };
        if (cp < 0x10000 && char.IsWhiteSpace((char)cp)) k |= Space;
        if (cp == '\r' || cp == '\n') k |= LineBreak;
        return k;
    }
}
