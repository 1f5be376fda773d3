namespace SharpTune.Inference.DataGeneration;

/// <summary>Why a generated completion is set aside.</summary>
public enum RejectReason
{
    /// <summary>Nothing but whitespace.</summary>
    Empty,

    /// <summary>The instruction repeated, or a passage copied from the prompt.</summary>
    Echo,

    /// <summary>A word n-gram repeated in a loop.</summary>
    Repetition,
}

/// <summary>The filters of <c>generate-data</c>: empty completions, echoes of the prompt and repetition loops.</summary>
public static class CompletionFilter
{
    /// <summary>Words per n-gram of the loop test.</summary>
    public const int LoopNgram = 3;

    /// <summary>Occurrences of one n-gram that make a loop.</summary>
    public const int LoopRepeats = 3;

    /// <summary>Shortest completion counted as copied from the prompt when found in it verbatim.</summary>
    public const int MinCopiedChars = 12;

    /// <summary>The reason to reject <paramref name="completion"/>, or null to keep it.</summary>
    public static RejectReason? Check(string completion, string instruction, string prompt)
    {
        var c = completion.Trim();
        if (c.Length == 0) return RejectReason.Empty;
        var norm = Normalize(c);
        var ins = Normalize(instruction);
        if (norm == ins || norm.StartsWith(ins, StringComparison.Ordinal) && ins.Length > 0
            || c.StartsWith(CompletionPrompt.TaskLabel.Trim(), StringComparison.Ordinal)
            || c.Length >= MinCopiedChars && prompt.Contains(c, StringComparison.Ordinal))
            return RejectReason.Echo;
        if (HasLoop(c)) return RejectReason.Repetition;
        return null;
    }

    /// <summary>True when some <see cref="LoopNgram"/>-word sequence occurs <see cref="LoopRepeats"/> times or more.</summary>
    public static bool HasLoop(string text)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.ToLowerInvariant()).ToArray();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + LoopNgram <= words.Length; i++)
        {
            var key = string.Join(' ', words, i, LoopNgram);
            counts[key] = counts.GetValueOrDefault(key) + 1;
            if (counts[key] >= LoopRepeats) return true;
        }
        return false;
    }

    private static string Normalize(string s) =>
        string.Join(' ', s.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.', '!', '?', ' ');
}
