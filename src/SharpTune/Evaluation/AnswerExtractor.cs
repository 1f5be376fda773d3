using System.Globalization;
using System.Text.RegularExpressions;

namespace SharpTune.Evaluation;

/// <summary>
/// Maps a model's raw output onto one label of a <see cref="LabelSet"/>, or reports why it cannot. In this order
/// (docs/evaluation.md):
/// <list type="number">
/// <item>Complete <c>&lt;think&gt;…&lt;/think&gt;</c> blocks are removed (and, when a <c>&lt;/think&gt;</c> comes before any
/// <c>&lt;think&gt;</c>, everything up to it: the prompt opened that block). A <c>&lt;think&gt;</c> never closed: unparseable.</item>
/// <item>Leading whitespace, markdown emphasis and quoting (<c>* _ ` " ' &gt;</c>) and one label-like prefix
/// (<c>Answer:</c>, <c>Final answer:</c>, <c>Prediction:</c>, <c>The answer is</c>, <c>My answer is</c>, case-insensitive)
/// are stripped, repeatedly, until none is left.</item>
/// <item>If the text starts with a label as a whole word (case-insensitive; punctuation after it allowed), that label.</item>
/// <item>Else, if exactly one label occurs anywhere as a whole word, that label; several different labels:
/// ambiguous; none: no label.</item>
/// </list>
/// A whole word is not preceded or followed by a letter, combining mark or digit of any script, so "Yesterday",
/// "Noé" and "non" contain no label.
/// </summary>
public sealed class AnswerExtractor
{
    private const string ThinkOpen = "<think>", ThinkClose = "</think>";
    private static readonly char[] Decoration = ['*', '_', '`', '"', '\'', '>'];
    private static readonly Regex Prefix = new(
        @"\A(?:answer\s*:|final\s+answer\s*:|prediction\s*:|(?:the|my)\s+answer\s+is(?![\p{L}\p{M}\p{N}])\s*:?)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private readonly LabelSet _labels;

    /// <summary>An extractor for a label set.</summary>
    public AnswerExtractor(LabelSet labels) => _labels = labels;

    /// <summary>The label set.</summary>
    public LabelSet Labels => _labels;

    /// <summary>Extracts the answer from a model output.</summary>
    public AnswerExtraction Extract(string output)
    {
        // 1. think blocks
        var text = RemoveThinkBlocks(output);
        if (text is null) return new AnswerExtraction(null, UnparseableReason.ThinkUnclosed);

        // 2. leading decoration and label-like prefixes
        text = StripLead(text);

        // 3. a label leading the answer (the longest, should one label start another, e.g. "No" and "No way")
        int lead = -1;
        for (int i = 0; i < _labels.Count; i++)
            if (IsWholeWordAt(text, 0, _labels[i]) && (lead < 0 || _labels[i].Length > _labels[lead].Length)) lead = i;
        if (lead >= 0) return new AnswerExtraction(_labels[lead], UnparseableReason.None);

        // 4. exactly one label anywhere
        int found = -1;
        for (int i = 0; i < _labels.Count; i++)
        {
            if (!OccursAsWholeWord(text, _labels[i])) continue;
            if (found >= 0) return new AnswerExtraction(null, UnparseableReason.Ambiguous);
            found = i;
        }
        return found >= 0 ? new AnswerExtraction(_labels[found], UnparseableReason.None) : new AnswerExtraction(null, UnparseableReason.NoLabel);
    }

    // The text without think blocks, or null when a <think> is never closed.
    private static string? RemoveThinkBlocks(string text)
    {
        int firstClose = text.IndexOf(ThinkClose, StringComparison.Ordinal);
        int firstOpen = text.IndexOf(ThinkOpen, StringComparison.Ordinal);
        if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen))
            text = text[(firstClose + ThinkClose.Length)..];
        var sb = new System.Text.StringBuilder(text.Length);
        int at = 0;
        while (true)
        {
            int open = text.IndexOf(ThinkOpen, at, StringComparison.Ordinal);
            if (open < 0) break;
            int close = text.IndexOf(ThinkClose, open + ThinkOpen.Length, StringComparison.Ordinal);
            if (close < 0) return null;
            sb.Append(text, at, open - at);
            at = close + ThinkClose.Length;
        }
        sb.Append(text, at, text.Length - at);
        return sb.ToString();
    }

    private static string StripLead(string text)
    {
        while (true)
        {
            var t = text.TrimStart().TrimStart(Decoration);
            var m = Prefix.Match(t);
            if (m.Success) t = t[m.Length..];
            if (t.Length == text.Length) return t;
            text = t;
        }
    }

    private static bool OccursAsWholeWord(string text, string label)
    {
        for (int at = text.IndexOf(label, StringComparison.OrdinalIgnoreCase); at >= 0;
             at = text.IndexOf(label, at + 1, StringComparison.OrdinalIgnoreCase))
            if (IsWholeWordAt(text, at, label)) return true;
        return false;
    }

    private static bool IsWholeWordAt(string text, int at, string label) =>
        at + label.Length <= text.Length
        && string.Compare(text, at, label, 0, label.Length, StringComparison.OrdinalIgnoreCase) == 0
        && !IsWordChar(text, at - 1, before: true)
        && !IsWordChar(text, at + label.Length, before: false);

    // Letters, combining marks and digits of any script (surrogate pairs read as one code point).
    private static bool IsWordChar(string text, int i, bool before)
    {
        if (i < 0 || i >= text.Length) return false;
        if (before && char.IsLowSurrogate(text[i]) && i > 0 && char.IsHighSurrogate(text[i - 1])) i--;
        var category = CharUnicodeInfo.GetUnicodeCategory(text, i);
        return category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }
}
