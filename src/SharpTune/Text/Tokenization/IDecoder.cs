namespace SharpTune.Text.Tokenization;

/// <summary>A decoder step: turns token strings into (fewer, or rewritten) strings, as HF's decode_chain.</summary>
internal interface IDecoder
{
    List<string> DecodeChain(List<string> tokens);

    string Describe();
}
