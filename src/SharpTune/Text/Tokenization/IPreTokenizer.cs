namespace SharpTune.Text.Tokenization;

/// <summary>A pre-tokenizer step: refines the splits of a <see cref="PreTokenizeState"/> (added-token splits are left alone).</summary>
internal interface IPreTokenizer
{
    void PreTokenize(PreTokenizeState state);

    /// <summary>A one-line description for <c>tokenizer info</c>.</summary>
    string Describe();
}
