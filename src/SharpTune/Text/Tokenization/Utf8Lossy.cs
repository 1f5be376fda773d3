namespace SharpTune.Text.Tokenization;

/// <summary>
/// UTF-8 decoding with Rust's from_utf8_lossy rule: each maximal invalid subsequence becomes one U+FFFD
/// (.NET's replacement decoder follows the same Unicode recommendation).
/// </summary>
internal static class Utf8Lossy
{
    private static readonly System.Text.UTF8Encoding Lossy = new(false, false);

    public static string Decode(ReadOnlySpan<byte> bytes) => Lossy.GetString(bytes);

    public static bool IsValid(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}
