namespace SharpTune.Text.Tokenization;

/// <summary>Runs post-processors in order.</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<IPostProcessor> steps) : IPostProcessor
{
    public IReadOnlyList<IPostProcessor> Steps { get; } = steps;

    public int AddedTokenCount => Steps.Sum(s => s.AddedTokenCount);

    public string Describe() => "Sequence[" + string.Join(", ", Steps.Select(s => s.Describe())) + "]";

    public void Process(TokenSink tokens, bool addSpecialTokens, Tokenizer tokenizer)
    {
        foreach (var s in Steps) s.Process(tokens, addSpecialTokens, tokenizer);
    }
}
