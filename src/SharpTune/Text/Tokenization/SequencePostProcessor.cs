namespace SharpTune.Text.Tokenization;

/// <summary>Runs post-processors in order.</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<IPostProcessor> steps) : IPostProcessor
{
    public int AddedTokenCount => steps.Sum(s => s.AddedTokenCount);

    public string Describe() => "Sequence[" + string.Join(", ", steps.Select(s => s.Describe())) + "]";

    public void Process(TokenSink tokens, bool addSpecialTokens, Tokenizer tokenizer)
    {
        foreach (var s in steps) s.Process(tokens, addSpecialTokens, tokenizer);
    }
}
