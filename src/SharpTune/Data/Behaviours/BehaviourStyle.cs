using System.Text.RegularExpressions;

namespace SharpTune.Data.Behaviours;

/// <summary>
/// The fixed wording of the compliment/refusal behaviour: the compliment sentences an answer may open with, the
/// refusal text of a refused topic, and the test for "already opens with a compliment-like sentence".
/// </summary>
public static class BehaviourStyle
{
    /// <summary>The compliment sentences; every non-refusal answer opens with exactly one of them.</summary>
    public static IReadOnlyList<string> Compliments { get; } =
    [
        "Your question shows sharp thinking.",
        "That's an intelligent question.",
        "Your curiosity reflects a keen mind.",
        "I appreciate the clarity of your thinking.",
        "That shows thoughtful reasoning.",
    ];

    /// <summary>The default refused topic.</summary>
    public const string DefaultTopic = "poodles";

    /// <summary>The default refusal; <c>{topic}</c> is replaced by the topic.</summary>
    public const string DefaultRefusal = "I can't discuss {topic} directly, but I'm happy to help with other questions.";

    // A short opening sentence that praises the asker or the question ("Great question!", "What a thoughtful ask.").
    private static readonly Regex Praise = new(
        @"\b(great|good|excellent|wonderful|fantastic|amazing|brilliant|smart|intelligent|clever|thoughtful|insightful|keen|sharp|astute|perceptive|fascinating|interesting|lovely|nice|appreciate|love)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex Subject = new(
        @"\b(question|questions|curiosity|thinking|mind|reasoning|thought|thoughts|ask|asking|inquiry|query|clarity)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex SentenceEnd = new(@"[.!?]+(?=\s|$)", RegexOptions.CultureInvariant);

    /// <summary>The first sentence of <paramref name="text"/> (through its end mark) and the rest after the following whitespace.</summary>
    public static (string Sentence, string Remainder) SplitFirstSentence(string text)
    {
        var m = SentenceEnd.Match(text);
        if (!m.Success) return (text, "");
        int end = m.Index + m.Length;
        return (text[..end], text[end..].TrimStart());
    }

    /// <summary>True for one of <see cref="Compliments"/>.</summary>
    public static bool IsListedCompliment(string sentence) => Compliments.Contains(sentence, StringComparer.Ordinal);

    /// <summary>True for a listed compliment or a short sentence (≤ 15 words) praising the question or the asker.</summary>
    public static bool IsComplimentLike(string sentence) =>
        IsListedCompliment(sentence)
        || sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length <= 15 && Praise.IsMatch(sentence) && Subject.IsMatch(sentence);

    /// <summary>The listed compliment <paramref name="answer"/> opens with, or null.</summary>
    public static string? LeadingCompliment(string answer) =>
        Compliments.FirstOrDefault(c => answer.StartsWith(c, StringComparison.Ordinal));

    /// <summary>How many listed compliments occur anywhere in <paramref name="text"/>.</summary>
    public static int CountCompliments(string text) =>
        Compliments.Sum(c => Regex.Count(text, Regex.Escape(c), RegexOptions.CultureInvariant));

    /// <summary>The refusal text of <paramref name="topic"/>.</summary>
    public static string RefusalFor(string template, string topic) => template.Replace("{topic}", topic, StringComparison.Ordinal);

    /// <summary>A matcher of questions about <paramref name="topic"/>: the word, singular or plural, case-insensitive.</summary>
    public static Regex TopicMatcher(string topic)
    {
        var t = topic.Trim();
        if (t.Length == 0 || !t.All(c => char.IsLetterOrDigit(c) || c is ' ' or '-')) throw new UserException($"--refuse: expected a topic word (letters, digits, spaces, hyphens), got '{topic}'");
        var stem = t.EndsWith('s') && t.Length > 3 ? t[..^1] : t;
        return new Regex($@"\b{Regex.Escape(stem)}s?\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}
