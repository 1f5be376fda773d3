namespace SharpTune.Text.Tokenization;

/// <summary>A post-processor: adds special tokens around an encoded sequence and/or adjusts offsets.</summary>
internal interface IPostProcessor
{
    void Process(TokenSink tokens, bool addSpecialTokens, Tokenizer tokenizer);

    /// <summary>How many tokens it adds to a single sequence when special tokens are on.</summary>
    int AddedTokenCount { get; }

    string Describe();
}
