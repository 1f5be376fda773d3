namespace SharpTune.Text.Tokenization;

/// <summary>Concatenates all tokens into one string.</summary>
internal sealed class FuseDecoder : IDecoder
{
    public string Describe() => "Fuse";

    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}
