using System.Text.RegularExpressions;

namespace SharpTune.Evaluation.Sanity;

/// <summary>The kinds of check a rules file may apply to a group's replies.</summary>
public enum SanityCheckKind
{
    /// <summary><c>starts_with_any</c>: the reply (leading whitespace ignored) begins with one of the phrases.</summary>
    StartsWithAny,

    /// <summary><c>contains_any</c>: the reply contains at least one of the phrases.</summary>
    ContainsAny,

    /// <summary><c>not_contains_any</c>: the reply contains none of the phrases.</summary>
    NotContainsAny,

    /// <summary><c>regex</c>: the reply matches the .NET regular expression.</summary>
    Regex,

    /// <summary><c>not_regex</c>: the reply does not match the .NET regular expression.</summary>
    NotRegex,

    /// <summary><c>max_words</c>: the reply has at most this many whitespace-separated words.</summary>
    MaxWords,
}

/// <summary>
/// One check of a prompt group, as parsed from the rules file. Phrase matching is ordinal (case-sensitive), as the
/// behaviour being checked is a fixed sentence; a regex may carry its own <c>(?i)</c>.
/// </summary>
public sealed class SanityCheck
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(2);

    private SanityCheck(SanityCheckKind kind, string label, int line, IReadOnlyList<string> phrases, Regex? regex, int maxWords)
    {
        Kind = kind;
        Label = label;
        Line = line;
        Phrases = phrases;
        Pattern = regex;
        MaxWords = maxWords;
    }

    /// <summary>The kind.</summary>
    public SanityCheckKind Kind { get; }

    /// <summary>How the check is named in reports: its key and argument, e.g. <c>starts_with_any compliment</c>, <c>max_words 60</c>.</summary>
    public string Label { get; }

    /// <summary>The line of the rules file that defines it (1-based).</summary>
    public int Line { get; }

    /// <summary>The phrases of the phrase checks (empty for the others).</summary>
    public IReadOnlyList<string> Phrases { get; }

    /// <summary>The expression of <c>regex</c>/<c>not_regex</c>.</summary>
    public Regex? Pattern { get; }

    /// <summary>The limit of <c>max_words</c>.</summary>
    public int MaxWords { get; }

    /// <summary>The rules-file key of each kind.</summary>
    public static string KeyOf(SanityCheckKind kind) => kind switch
    {
        SanityCheckKind.StartsWithAny => "starts_with_any",
        SanityCheckKind.ContainsAny => "contains_any",
        SanityCheckKind.NotContainsAny => "not_contains_any",
        SanityCheckKind.Regex => "regex",
        SanityCheckKind.NotRegex => "not_regex",
        _ => "max_words",
    };

    /// <summary>The kind named by a rules-file key, or null.</summary>
    public static SanityCheckKind? Parse(string key) => key switch
    {
        "starts_with_any" => SanityCheckKind.StartsWithAny,
        "contains_any" => SanityCheckKind.ContainsAny,
        "not_contains_any" => SanityCheckKind.NotContainsAny,
        "regex" => SanityCheckKind.Regex,
        "not_regex" => SanityCheckKind.NotRegex,
        "max_words" => SanityCheckKind.MaxWords,
        _ => null,
    };

    /// <summary>A phrase check; <paramref name="argument"/> names the phrase list (or shows the inline list) in the label.</summary>
    public static SanityCheck ForPhrases(SanityCheckKind kind, string argument, IReadOnlyList<string> phrases, int line)
    {
        if (kind is not (SanityCheckKind.StartsWithAny or SanityCheckKind.ContainsAny or SanityCheckKind.NotContainsAny))
            throw new ArgumentException($"{kind} is not a phrase check", nameof(kind));
        if (phrases.Count == 0) throw new ArgumentException("a phrase check needs phrases", nameof(phrases));
        return new SanityCheck(kind, $"{KeyOf(kind)} {argument}", line, phrases, null, 0);
    }

    /// <summary>A <c>regex</c>/<c>not_regex</c> check; an invalid pattern is an <see cref="ArgumentException"/> the loader turns into a user error.</summary>
    public static SanityCheck ForRegex(SanityCheckKind kind, string pattern, int line)
    {
        if (kind is not (SanityCheckKind.Regex or SanityCheckKind.NotRegex)) throw new ArgumentException($"{kind} is not a regex check", nameof(kind));
        var regex = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        return new SanityCheck(kind, $"{KeyOf(kind)} {pattern}", line, [], regex, 0);
    }

    /// <summary>A <c>max_words</c> check.</summary>
    public static SanityCheck ForMaxWords(int maxWords, int line)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxWords);
        return new SanityCheck(SanityCheckKind.MaxWords, $"max_words {maxWords}", line, [], null, maxWords);
    }

    /// <summary>Whether <paramref name="reply"/> passes.</summary>
    public bool Passes(string reply) => Kind switch
    {
        SanityCheckKind.StartsWithAny => Phrases.Any(p => reply.AsSpan().TrimStart().StartsWith(p, StringComparison.Ordinal)),
        SanityCheckKind.ContainsAny => Phrases.Any(p => reply.Contains(p, StringComparison.Ordinal)),
        SanityCheckKind.NotContainsAny => !Phrases.Any(p => reply.Contains(p, StringComparison.Ordinal)),
        SanityCheckKind.Regex => Matches(reply),
        SanityCheckKind.NotRegex => !Matches(reply),
        _ => CountWords(reply) <= MaxWords,
    };

    private bool Matches(string reply)
    {
        try { return Pattern!.IsMatch(reply); }
        catch (RegexMatchTimeoutException) { throw new UserException($"line {Line}: regex '{Pattern}' took over {RegexTimeout.TotalSeconds:0} s on a reply; simplify it"); }
    }

    /// <summary>Words as whitespace-separated runs.</summary>
    public static int CountWords(string text)
    {
        int words = 0;
        bool inWord = false;
        foreach (var c in text)
        {
            bool space = char.IsWhiteSpace(c);
            if (!space && !inWord) words++;
            inWord = !space;
        }
        return words;
    }
}
