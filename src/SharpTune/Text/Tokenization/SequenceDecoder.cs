namespace SharpTune.Text.Tokenization;

/// <summary>Runs decoders in order.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> steps) : IDecoder
{
    public string Describe() => "Sequence[" + string.Join(", ", steps.Select(s => s.Describe())) + "]";

    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (var s in steps) tokens = s.DecodeChain(tokens);
        return tokens;
    }
}
