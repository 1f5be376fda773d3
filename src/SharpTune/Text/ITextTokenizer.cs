namespace SharpTune.Text;

/// <summary>
/// The tokenizer as every stage past text sees it: preprocessing (ids with character offsets, special-token ids),
/// generation (encode prompts, decode output), evaluation and reports. One interface, implemented by
/// <see cref="TextTokenizer"/> over a Hugging Face tokenizer.json and by test fakes, so no stage depends on the
/// tokenizer's implementation.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Token ids of <paramref name="text"/>; <paramref name="addSpecialTokens"/> adds the post-processor's tokens (e.g. BOS).</summary>
    int[] Encode(string text, bool addSpecialTokens);

    /// <summary>
    /// Encodes <paramref name="text"/> without adding special tokens (a rendered template already holds any BOS),
    /// returning ids and each token's UTF-16 range in <paramref name="text"/>.
    /// </summary>
    (int[] Ids, CharSpan[] Offsets) EncodeWithOffsets(string text);

    /// <summary>The text of <paramref name="ids"/>; <paramref name="skipSpecialTokens"/> leaves special tokens out (generated text).</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens);

    /// <summary>The id of a token string (vocabulary or added token), or null.</summary>
    int? TokenToId(string token);

    /// <summary>The token string of an id, or null.</summary>
    string? IdToToken(int id);

    /// <summary>Ids of special tokens; the one that directly follows an answer is its end-of-turn token.</summary>
    IReadOnlySet<int> SpecialIds { get; }

    /// <summary>The BOS id (tokenizer_config.json's <c>bos_token</c>), or null; left truncation keeps a leading BOS.</summary>
    int? BosId { get; }

    /// <summary>The EOS id (tokenizer_config.json's <c>eos_token</c>), or null (appended after completion-format answers when configured).</summary>
    int? EosId { get; }
}
