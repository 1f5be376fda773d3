using System.Globalization;
using SharpTune.Data.Sft;

namespace SharpTune.Preprocessing;

/// <summary>
/// Structure-aware shortening of a record for <c>truncation: history</c>: drops the earliest conversation turn
/// pair first, then the oldest item of a numbered list in the last user message (a MovieLens history), renumbering
/// the list and updating a "last N" count in the line that introduces it. The answer is never touched.
/// </summary>
public static class HistoryTrimmer
{
    /// <summary>What one trimming step removed, for the truncation report.</summary>
    /// <param name="Record">The shortened record.</param>
    /// <param name="Removed">A short description, e.g. <c>turn pair 1</c> or <c>list item: Toy Story (1995) …</c>.</param>
    public sealed record Step(SftRecord Record, string Removed);

    /// <summary>Removes the oldest history unit, or returns null when nothing more can be removed.</summary>
    public static Step? DropOldest(SftRecord record)
    {
        if (record.Kind != SftRecordKind.Conversation) return null;
        var turns = record.Turns;
        // The earliest exchange: up to the next user turn, so tool calls and their results go with their question.
        int next = 2;
        while (next < turns.Count && turns[next].Role != "user") next++;
        if (next < turns.Count - 1)
            return new Step(record with { Turns = turns.Skip(next).ToList() }, next == 2 ? "earliest turn pair" : $"earliest exchange ({next} turns)");
        var last = turns.Count - 2; // the user turn before the final answer
        if (last < 0 || turns[last].Role != "user") return null;
        if (!TryDropOldestListItem(turns[last].Content, out var shorter, out var removedLine)) return null;
        var newTurns = turns.ToList();
        newTurns[last] = turns[last] with { Content = shorter };
        return new Step(record with { Turns = newTurns }, "history item: " + removedLine);
    }

    /// <summary>
    /// Drops item 1 of the first numbered list (<c>1. …</c>, <c>2. …</c>, …, at least two items) in
    /// <paramref name="content"/>, renumbers the rest from 1, and rewrites a count equal to the old length in the
    /// line just above the list (e.g. <c>User's last 15 watched movies:</c> → <c>last 14</c>).
    /// </summary>
    public static bool TryDropOldestListItem(string content, out string result, out string removedLine)
    {
        result = content;
        removedLine = "";
        var lines = content.Split('\n');
        int start = -1, count = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (ItemNumber(lines[i]) == 1)
            {
                int n = 1;
                while (i + n < lines.Length && ItemNumber(lines[i + n]) == n + 1) n++;
                if (n >= 2) { start = i; count = n; break; }
            }
        }
        if (start < 0) return false;
        removedLine = lines[start][(lines[start].IndexOf(". ", StringComparison.Ordinal) + 2)..];
        var kept = new List<string>(lines.Length - 1);
        for (int i = 0; i < lines.Length; i++)
        {
            if (i == start) continue;
            var line = lines[i];
            if (i > start && i < start + count)
                line = (i - start).ToString(CultureInfo.InvariantCulture) + line[line.IndexOf('.')..];
            else if (i == start - 1)
                line = ReplaceCount(line, count, count - 1);
            kept.Add(line);
        }
        result = string.Join('\n', kept);
        return true;
    }

    // 1-based number of a "N. text" line, or 0.
    private static int ItemNumber(string line)
    {
        int i = 0, n = 0;
        while (i < line.Length && char.IsAsciiDigit(line[i]) && i < 6) n = n * 10 + (line[i++] - '0');
        return i > 0 && i + 1 < line.Length && line[i] == '.' && line[i + 1] == ' ' ? n : 0;
    }

    private static string ReplaceCount(string line, int oldCount, int newCount)
    {
        var old = oldCount.ToString(CultureInfo.InvariantCulture);
        for (int at = line.IndexOf(old, StringComparison.Ordinal); at >= 0; at = line.IndexOf(old, at + 1, StringComparison.Ordinal))
        {
            bool boundaryBefore = at == 0 || !char.IsAsciiDigit(line[at - 1]);
            bool boundaryAfter = at + old.Length == line.Length || !char.IsAsciiDigit(line[at + old.Length]);
            if (boundaryBefore && boundaryAfter)
                return line[..at] + newCount.ToString(CultureInfo.InvariantCulture) + line[(at + old.Length)..];
        }
        return line;
    }
}
