using SharpTune.Data.Sft;
using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>One sample as <c>inspect-masking</c> shows it.</summary>
/// <param name="Index">Record index.</param>
/// <param name="Source">Record location.</param>
/// <param name="Masked">Tokens with label -100.</param>
/// <param name="Supervised">Tokens with a label.</param>
/// <param name="SupervisedText">The decoded supervised runs, joined by " ⏐ ".</param>
/// <param name="Problem">Why the sample is flagged, or null when its supervision is exactly the answers plus end-of-turn tokens.</param>
public sealed record MaskingInspection(int Index, string Source, int Masked, int Supervised, string SupervisedText, string? Problem);

/// <summary>
/// Checks that what a sample supervises is exactly its answer(s) plus the end-of-turn token: each contiguous run of
/// supervised tokens, decoded, must be the answer text (whitespace around it aside; after the empty think block with
/// <c>think_block=answer</c>) followed by nothing but whitespace and, with <c>train_on_eot</c>, one special token.
/// </summary>
public static class MaskingInspector
{
    /// <summary>Inspects one processed sample of <paramref name="record"/>.</summary>
    public static MaskingInspection Inspect(SftRecord record, ReadOnlySpan<int> ids, ReadOnlySpan<int> labels, ITextTokenizer tokenizer, PreprocessOptions options)
    {
        var runs = new List<(int Start, int End)>();
        for (int t = 0; t < labels.Length; t++)
        {
            if (labels[t] == LabelMasker.IgnoreIndex) continue;
            int s = t;
            while (t < labels.Length && labels[t] != LabelMasker.IgnoreIndex) t++;
            runs.Add((s, t));
        }
        int supervised = runs.Sum(r => r.End - r.Start);
        var texts = new List<string>();
        foreach (var (s, e) in runs) texts.Add(tokenizer.Decode(ids[s..e], skipSpecialTokens: false));
        string? problem = options.TrainOnPrompt ? null : Check(record, runs, ids, texts, tokenizer, options);
        return new MaskingInspection(record.Index, record.Source, labels.Length - supervised, supervised, string.Join(" ⏐ ", texts), problem);
    }

    private static string? Check(SftRecord record, List<(int Start, int End)> runs, ReadOnlySpan<int> ids, List<string> texts, ITextTokenizer tokenizer, PreprocessOptions options)
    {
        var answers = Answers(record, options);
        if (runs.Count != answers.Count)
            return $"{runs.Count} supervised run(s) for {answers.Count} answer(s)";
        for (int i = 0; i < runs.Count; i++)
        {
            var (s, e) = runs[i];
            string text = texts[i];
            bool endsWithSpecial = tokenizer.SpecialIds.Contains(ids[e - 1]);
            bool wantEnd = options.Prompt.TrainOnEot && record.Kind == SftRecordKind.Conversation || record.Kind != SftRecordKind.Conversation && options.Prompt.CompletionEos && tokenizer.EosId is not null;
            string body = text;
            if (endsWithSpecial)
            {
                if (!wantEnd) return $"answer {i + 1} supervises the special token {tokenizer.Decode(ids[(e - 1)..e], skipSpecialTokens: false)} although train_on_eot is off";
                body = tokenizer.Decode(ids[s..(e - 1)], skipSpecialTokens: false);
            }
            else if (wantEnd)
                return $"answer {i + 1} is not followed by a supervised end-of-turn token (supervised: {Quote(text)})";
            body = body.Trim();
            if (options.Prompt.ThinkBlock == ThinkBlockPlacement.Answer && body.StartsWith("<think>", StringComparison.Ordinal))
            {
                int close = body.IndexOf("</think>", StringComparison.Ordinal);
                if (close >= 0) body = body[(close + "</think>".Length)..].Trim();
            }
            var expected = answers[i].Content.Trim();
            if (answers[i].ToolCalls is { Count: > 0 } calls)
            {
                // A tool-calling answer: its text, then each call as the template renders it (name and arguments).
                if (!body.StartsWith(expected, StringComparison.Ordinal))
                    return $"answer {i + 1}: supervised {Quote(body)} but the answer starts with {Quote(expected)}";
                int at = expected.Length;
                foreach (var call in calls)
                {
                    int found = body.IndexOf(call.Name, at, StringComparison.Ordinal);
                    if (found < 0) return $"answer {i + 1}: supervised {Quote(body)} lacks the call of {call.Name}";
                    at = found + call.Name.Length;
                }
                continue;
            }
            if (body != expected)
                return $"answer {i + 1}: supervised {Quote(body)} but the answer is {Quote(expected)}";
        }
        return null;
    }

    private static List<SftTurn> Answers(SftRecord record, PreprocessOptions options)
    {
        if (record.Kind != SftRecordKind.Conversation) return [new SftTurn("assistant", record.Completion)];
        var answers = record.Turns.Where(t => t.Role == "assistant").ToList();
        return options.MaskHistory ? [answers[^1]] : answers;
    }

    private static string Quote(string s)
    {
        var e = s.Replace("\n", "\\n");
        return "\"" + (e.Length > 60 ? e[..60] + "…" : e) + "\"";
    }
}
