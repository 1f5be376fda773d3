namespace SharpTune.Text.Tokenization;

/// <summary>
/// HF's TemplateProcessing for single sequences: special tokens before and after sequence A (offsets (0, 0)).
/// The pair template is loaded and validated (SharpTune encodes single sequences only).
/// </summary>
internal sealed class TemplatePostProcessor(IReadOnlyList<int> before, IReadOnlyList<int> after, string description) : IPostProcessor
{
    public IReadOnlyList<int> Before { get; } = before;

    public IReadOnlyList<int> After { get; } = after;

    public int AddedTokenCount => Before.Count + After.Count;

    public string Describe() => description;

    public void Process(TokenSink tokens, bool addSpecialTokens, Tokenizer tokenizer)
    {
        if (!addSpecialTokens) return;
        for (int i = 0; i < Before.Count; i++) tokens.Insert(i, Before[i], 0, 0, true);
        foreach (var id in After) tokens.Add(id, 0, 0, true);
    }
}
