using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>
/// Turns character spans of a rendered conversation into token labels. A token is supervised when its character
/// range overlaps a supervised span, so an answer never loses a character to a token that straddles the
/// prompt/answer boundary (such a token also makes the render-parity check fail, which reports it).
/// With <c>trainOnEot</c>, the end-of-turn token that follows an answer (after whitespace only) is supervised too.
/// </summary>
public static class LabelMasker
{
    /// <summary>Label of a token that carries no loss, as in transformers.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Writes labels for <paramref name="ids"/>: the id where supervised, <see cref="IgnoreIndex"/> elsewhere.
    /// </summary>
    /// <param name="ids">Token ids of the whole render. // [tokens]</param>
    /// <param name="offsets">Each token's character range in <paramref name="text"/>; special tokens included. // [tokens]</param>
    /// <param name="text">The rendered text the offsets point into.</param>
    /// <param name="answers">Character spans of the supervised answers, in order, non-overlapping.</param>
    /// <param name="endOfTurnIds">Ids that end an assistant turn (<c>&lt;|im_end|&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;|eot_id|&gt;</c>, …).</param>
    /// <param name="trainOnEot">Whether the end-of-turn token after each answer is supervised.</param>
    /// <param name="labels">Output labels. // [tokens]</param>
    /// <returns>The number of supervised tokens.</returns>
    public static int Mask(ReadOnlySpan<int> ids, ReadOnlySpan<CharSpan> offsets, string text, ReadOnlySpan<CharSpan> answers,
        IReadOnlySet<int> endOfTurnIds, bool trainOnEot, Span<int> labels)
    {
        if (offsets.Length != ids.Length || labels.Length != ids.Length) throw new ArgumentException("ids, offsets and labels must have the same length");
        labels.Fill(IgnoreIndex);
        int supervised = 0, t = 0;
        foreach (var answer in answers)
        {
            while (t < ids.Length && offsets[t].End <= answer.Start) t++;
            while (t < ids.Length && offsets[t].Start < answer.End)
            {
                if (offsets[t].Overlaps(answer) || (answer.Length == 0 && offsets[t].Start == answer.Start))
                {
                    labels[t] = ids[t];
                    supervised++;
                }
                t++;
            }
            if (!trainOnEot) continue;
            // The end-of-turn token: the first token after the answer, allowing whitespace-only tokens in between.
            int u = t;
            while (u < ids.Length && !endOfTurnIds.Contains(ids[u]) && IsWhitespace(text, offsets[u])) u++;
            if (u < ids.Length && endOfTurnIds.Contains(ids[u]))
            {
                for (int k = t; k <= u; k++)
                {
                    if (labels[k] == IgnoreIndex) supervised++;
                    labels[k] = ids[k];
                }
                t = u + 1;
            }
        }
        return supervised;
    }

    /// <summary>Index of the first supervised token, or -1.</summary>
    public static int FirstSupervised(ReadOnlySpan<int> labels)
    {
        for (int i = 0; i < labels.Length; i++) if (labels[i] != IgnoreIndex) return i;
        return -1;
    }

    private static bool IsWhitespace(string text, CharSpan span)
    {
        if (span.Length == 0) return false;
        for (int i = span.Start; i < span.End; i++) if (!char.IsWhiteSpace(text[i])) return false;
        return true;
    }
}
