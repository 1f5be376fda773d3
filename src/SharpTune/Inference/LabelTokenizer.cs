using SharpTune.Evaluation;
using SharpTune.Text;

namespace SharpTune.Inference;

/// <summary>
/// The token ids of each label as a continuation of a prompt: the tokens of <c>prompt + label</c> after the prompt's
/// own tokens (so a SentencePiece word-start marker is as at the answer position), refused when the label changes the
/// prompt's tokens. Tokenizing every prompt again per label costs as much as tokenizing the data twice more, so the
/// continuation is computed from the prompt's tail: a Hugging Face tokenizer splits its input at special tokens first
/// and tokenizes the pieces between them independently, so the tokens after the prompt's last special token depend only
/// on the text from that token on. <c>special + tail + label</c> is tokenized instead, after checking that
/// <c>special + tail</c> gives exactly the prompt's own last ids (else, or when special tokens are added around the
/// text, the whole prompt is tokenized again); results are kept per tail, which batch prompts share (they end with the
/// template's assistant header).
/// </summary>
public sealed class LabelTokenizer
{
    private readonly ITextTokenizer _tokenizer;
    private readonly LabelSet _labels;
    private readonly bool _addSpecialTokens;
    private readonly Dictionary<string, int[][]> _byTail = new(StringComparer.Ordinal);

    /// <summary>Label continuations of <paramref name="labels"/> with <paramref name="tokenizer"/>; <paramref name="addSpecialTokens"/> as the prompts were encoded.</summary>
    public LabelTokenizer(ITextTokenizer tokenizer, LabelSet labels, bool addSpecialTokens)
    {
        _tokenizer = tokenizer;
        _labels = labels;
        _addSpecialTokens = addSpecialTokens;
    }

    /// <summary>Prompts whose continuations came from a tail already seen, so far.</summary>
    public long TailHits { get; private set; }

    /// <summary>
    /// Each label's token ids after <paramref name="promptIds"/> (the tokens of <paramref name="prompt"/>), in label
    /// order; <paramref name="index"/> names the record in errors.
    /// </summary>
    public int[][] For(string prompt, int[] promptIds, int index)
    {
        if (!_addSpecialTokens && Tail(prompt, promptIds) is var (tail, tailIds))
        {
            if (_byTail.TryGetValue(tail, out var known)) { TailHits++; return known; }
            if (_tokenizer.Encode(tail, false).AsSpan().SequenceEqual(tailIds))
            {
                var labels = Continuations(tail, tailIds, index);
                _byTail[tail] = labels;
                return labels;
            }
        }
        return Continuations(prompt, promptIds, index);
    }

    // The prompt's text from its last special token on, and that token's ids onward; null when it has none or its
    // content cannot be found in the text.
    private (string Text, int[] Ids)? Tail(string prompt, int[] promptIds)
    {
        var special = _tokenizer.SpecialIds;
        int last = promptIds.Length - 1;
        while (last >= 0 && !special.Contains(promptIds[last])) last--;
        if (last < 0 || _tokenizer.IdToToken(promptIds[last]) is not { Length: > 0 } content) return null;
        int at = prompt.LastIndexOf(content, StringComparison.Ordinal);
        return at < 0 ? null : (prompt[at..], promptIds[last..]);
    }

    private int[][] Continuations(string prompt, int[] promptIds, int index)
    {
        var result = new int[_labels.Count][];
        for (int j = 0; j < _labels.Count; j++)
        {
            var all = _tokenizer.Encode(prompt + _labels[j], _addSpecialTokens);
            if (all.Length <= promptIds.Length || !all.AsSpan(0, promptIds.Length).SequenceEqual(promptIds))
                throw new UserException($"record {index}: label '{_labels[j]}' does not tokenize as a continuation of the prompt (it merges with the prompt's last tokens), so its log-probability is not defined");
            result[j] = all[promptIds.Length..];
        }
        return result;
    }
}
