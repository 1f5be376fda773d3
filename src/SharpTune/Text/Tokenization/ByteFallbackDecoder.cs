using System.Globalization;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Joins runs of <c>&lt;0xHH&gt;</c> tokens into the bytes they stand for; a run that is not valid UTF-8 becomes
/// one U+FFFD per byte (HF's ByteFallback decoder).
/// </summary>
internal sealed class ByteFallbackDecoder : IDecoder
{
    public string Describe() => "ByteFallback";

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (var t in tokens)
        {
            if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
                && byte.TryParse(t.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            Flush(bytes, result);
            result.Add(t);
        }
        Flush(bytes, result);
        return result;
    }

    private static void Flush(List<byte> bytes, List<string> result)
    {
        if (bytes.Count == 0) return;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        if (Utf8Lossy.IsValid(span)) result.Add(System.Text.Encoding.UTF8.GetString(span));
        else for (int i = 0; i < bytes.Count; i++) result.Add("\uFFFD");
        bytes.Clear();
    }
}
