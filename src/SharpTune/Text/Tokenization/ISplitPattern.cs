namespace SharpTune.Text.Tokenization;

/// <summary>
/// A pattern a splitting pre-tokenizer or normalizer searches for. Like Hugging Face's Pattern::find_matches it
/// reports pieces covering the whole input in order, each flagged as a match or not; an empty input gives one
/// empty non-match.
/// </summary>
internal interface ISplitPattern
{
    void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output);
}
