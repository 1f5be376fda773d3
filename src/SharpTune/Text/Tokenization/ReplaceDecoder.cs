namespace SharpTune.Text.Tokenization;

/// <summary>Replaces a pattern in each token (HF's Replace decoder).</summary>
internal sealed class ReplaceDecoder(ReplaceNormalizer replace) : IDecoder
{
    public string Describe() => replace.Describe();

    public List<string> DecodeChain(List<string> tokens) => tokens.Select(replace.ReplaceIn).ToList();
}
