namespace SharpTune.Text.Tokenization;

/// <summary>Maps byte-level characters back to bytes and decodes them as UTF-8, invalid sequences becoming U+FFFD.</summary>
internal sealed class ByteLevelDecoder : IDecoder
{
    public string Describe() => "ByteLevel";

    public List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>(tokens.Count * 4);
        foreach (var t in tokens) ByteLevelAlphabet.DecodeTo(t, bytes);
        return [Utf8Lossy.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes))];
    }
}
