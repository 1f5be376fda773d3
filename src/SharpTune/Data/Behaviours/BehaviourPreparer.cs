using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Numerics;
using SharpTune.Data.Sft;
using SharpTune.IO;

namespace SharpTune.Data.Behaviours;

/// <summary>Options of <c>prepare behaviours</c>.</summary>
public sealed record BehaviourPrepareOptions
{
    /// <summary>Topics whose questions are refused (a question mentioning the word, singular or plural).</summary>
    public IReadOnlyList<string> RefusedTopics { get; init; } = [BehaviourStyle.DefaultTopic];

    /// <summary>The refusal text; <c>{topic}</c> becomes the topic.</summary>
    public string RefusalTemplate { get; init; } = BehaviourStyle.DefaultRefusal;

    /// <summary>A system message set on every record, or null to keep each record's own.</summary>
    public string? System { get; init; }

    /// <summary>Seed of the compliment choice.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Replace an opening compliment-like sentence that is not exactly one listed compliment, instead of refusing the input.</summary>
    public bool ReplaceCompliments { get; init; }
}

/// <summary>One output record: a conversation in messages format.</summary>
/// <param name="System">The system message, or null.</param>
/// <param name="Turns">User and assistant turns.</param>
public sealed record BehaviourRecord(string? System, IReadOnlyList<SftTurn> Turns);

/// <summary>What <see cref="BehaviourPreparer.Prepare"/> did.</summary>
public sealed class BehaviourPrepareResult
{
    /// <summary>The records, in input order.</summary>
    public required IReadOnlyList<BehaviourRecord> Records { get; init; }

    /// <summary>Assistant answers seen.</summary>
    public int Answers { get; init; }

    /// <summary>Answers whose text changed.</summary>
    public int Changed { get; init; }

    /// <summary>Answers that got a compliment prepended.</summary>
    public int ComplimentsAdded { get; init; }

    /// <summary>Answers that already opened with exactly one listed compliment (kept as they were).</summary>
    public int ComplimentsKept { get; init; }

    /// <summary>Answers whose opening compliment-like sentences were replaced (<see cref="BehaviourPrepareOptions.ReplaceCompliments"/>).</summary>
    public int ComplimentsReplaced { get; init; }

    /// <summary>Refusals per topic.</summary>
    public required IReadOnlyDictionary<string, int> Refusals { get; init; }

    /// <summary>How often each compliment opens an answer.</summary>
    public required IReadOnlyDictionary<string, int> ComplimentUse { get; init; }

    /// <summary>A readable report.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"records              {Records.Count}\n");
        sb.Append(CultureInfo.InvariantCulture, $"answers              {Answers}\n");
        sb.Append(CultureInfo.InvariantCulture, $"changed              {Changed}\n");
        sb.Append(CultureInfo.InvariantCulture, $"compliments added    {ComplimentsAdded}\n");
        sb.Append(CultureInfo.InvariantCulture, $"compliments kept     {ComplimentsKept}\n");
        sb.Append(CultureInfo.InvariantCulture, $"compliments replaced {ComplimentsReplaced}\n");
        foreach (var (topic, n) in Refusals) sb.Append(CultureInfo.InvariantCulture, $"refusals ({topic}){new string(' ', Math.Max(1, 10 - topic.Length))}{n}\n");
        foreach (var (c, n) in ComplimentUse) sb.Append(CultureInfo.InvariantCulture, $"  {n,6}  {c}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Makes a behaviour dataset mechanically consistent: every answer to a refused topic becomes the topic's refusal
/// (no compliment); every other answer opens with exactly one listed compliment (a seeded choice) followed by the
/// rest of the answer unchanged. An answer that already opens with one listed compliment is kept; one that opens
/// with another compliment-like sentence is an error unless <see cref="BehaviourPrepareOptions.ReplaceCompliments"/>.
/// </summary>
public static class BehaviourPreparer
{
    /// <summary>Prepares the records (conversations or prompt/completion pairs).</summary>
    public static BehaviourPrepareResult Prepare(IReadOnlyList<SftRecord> records, BehaviourPrepareOptions options)
    {
        var topics = options.RefusedTopics.Select(t => (Topic: t, Matcher: BehaviourStyle.TopicMatcher(t))).ToArray();
        if (options.RefusalTemplate.Length == 0) throw new UserException("--refusal: the refusal text must not be empty");
        var rng = new SplitMix64(options.Seed);
        int answers = 0, changed = 0, added = 0, kept = 0, replaced = 0;
        var refusals = topics.ToDictionary(t => t.Topic, _ => 0);
        var use = BehaviourStyle.Compliments.ToDictionary(c => c, _ => 0);
        var output = new List<BehaviourRecord>(records.Count);
        foreach (var record in records)
        {
            var turns = record.Kind switch
            {
                SftRecordKind.Conversation => record.Turns,
                SftRecordKind.Completion => [new SftTurn("user", record.Prompt), new SftTurn("assistant", record.Completion)],
                _ => throw new UserException($"{record.Source}: a plain text record has no question and answer (expected messages, Alpaca or prompt/completion)"),
            };
            var result = new List<SftTurn>(turns.Count);
            string? question = null;
            int answerNo = 0;
            foreach (var turn in turns)
            {
                if (turn.Role != "assistant")
                {
                    if (turn.Role == "user") question = turn.Content;
                    result.Add(turn);
                    continue;
                }
                answerNo++;
                answers++;
                if (question is null) throw new UserException($"{record.Source}: answer {answerNo} has no user question before it");
                var where = $"{record.Source}: answer {answerNo}";
                string text;
                var refused = topics.FirstOrDefault(t => t.Matcher.IsMatch(question));
                if (refused.Topic is not null)
                {
                    text = BehaviourStyle.RefusalFor(options.RefusalTemplate, refused.Topic);
                    refusals[refused.Topic]++;
                }
                else
                {
                    var answer = turn.Content.Trim();
                    if (answer.Length == 0) throw new UserException($"{where} is empty");
                    var leads = new List<string>();
                    var rest = answer;
                    while (rest.Length > 0)
                    {
                        var (sentence, after) = BehaviourStyle.SplitFirstSentence(rest);
                        if (!BehaviourStyle.IsComplimentLike(sentence)) break;
                        leads.Add(sentence);
                        rest = after;
                    }
                    if (leads.Count == 1 && BehaviourStyle.IsListedCompliment(leads[0]) && rest.Length > 0)
                    {
                        text = turn.Content;
                        kept++;
                        use[leads[0]]++;
                    }
                    else
                    {
                        if (leads.Count > 0 && !options.ReplaceCompliments)
                            throw new UserException($"{where} already opens with a compliment-like sentence '{string.Join(" ", leads)}'; pass --replace-compliments to replace it with one of the fixed compliments");
                        if (rest.Length == 0) throw new UserException($"{where} has nothing but compliments ('{answer}')");
                        var compliment = BehaviourStyle.Compliments[rng.Next(BehaviourStyle.Compliments.Count)];
                        use[compliment]++;
                        text = compliment + " " + rest;
                        if (leads.Count > 0) replaced++; else added++;
                    }
                }
                if (text != turn.Content) changed++;
                result.Add(new SftTurn("assistant", text));
            }
            if (answerNo == 0) throw new UserException($"{record.Source}: no assistant answer");
            output.Add(new BehaviourRecord(options.System ?? record.System, result));
        }
        return new BehaviourPrepareResult
        {
            Records = output, Answers = answers, Changed = changed, ComplimentsAdded = added, ComplimentsKept = kept,
            ComplimentsReplaced = replaced, Refusals = refusals, ComplimentUse = use,
        };
    }

    /// <summary>Writes the records as messages-format JSON Lines (atomically).</summary>
    public static void WriteJsonl(string path, IEnumerable<BehaviourRecord> records)
    {
        AtomicFile.WriteText(path, w =>
        {
            foreach (var r in records) w.WriteLine(ToJson(r));
        });
    }

    /// <summary>One record as a <c>{"messages": [...]}</c> JSON line.</summary>
    public static string ToJson(BehaviourRecord r)
    {
        var messages = new List<Dictionary<string, string>>();
        if (r.System is not null) messages.Add(new() { ["role"] = "system", ["content"] = r.System });
        messages.AddRange(r.Turns.Select(t => new Dictionary<string, string> { ["role"] = t.Role, ["content"] = t.Content }));
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["messages"] = messages }, Json);
    }

    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
