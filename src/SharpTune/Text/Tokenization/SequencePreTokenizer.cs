namespace SharpTune.Text.Tokenization;

/// <summary>Runs pre-tokenizers in order.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> steps) : IPreTokenizer
{
    public IReadOnlyList<IPreTokenizer> Steps { get; } = steps;

    public string Describe() => "Sequence[" + string.Join(", ", Steps.Select(s => s.Describe())) + "]";

    public void PreTokenize(PreTokenizeState state)
    {
        foreach (var step in Steps) step.PreTokenize(state);
    }
}
