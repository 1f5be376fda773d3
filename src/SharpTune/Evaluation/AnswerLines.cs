using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SharpTune.Evaluation;

/// <summary>Counts of one <see cref="AnswerLines.Rewrite"/> run.</summary>
public sealed class AnswerLineCounts
{
    /// <summary>Lines read (records; empty lines excluded).</summary>
    public long Records { get; set; }

    /// <summary>Empty lines skipped.</summary>
    public long EmptyLines { get; set; }

    /// <summary>Answers per label.</summary>
    public Dictionary<string, long> ByLabel { get; } = [];

    /// <summary>Unparseable answers per reason.</summary>
    public Dictionary<UnparseableReason, long> Unparseable { get; } = [];
}

/// <summary>
/// <c>sharptune extract-answer</c>: JSONL lines with an <c>output</c> string come back with <c>"answer"</c> set to the
/// extracted label or null. The rest of each line is kept byte for byte: the field is appended before the closing
/// brace, or its value replaced where the line already has one.
/// </summary>
public static class AnswerLines
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Rewrites every line of <paramref name="input"/> into <paramref name="output"/>; <paramref name="name"/> names the input in errors.</summary>
    public static AnswerLineCounts Rewrite(TextReader input, TextWriter output, AnswerExtractor extractor, string name)
    {
        var counts = new AnswerLineCounts();
        int number = 0;
        for (string? line; (line = input.ReadLine()) is not null;)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) { counts.EmptyLines++; continue; }
            var (rewritten, x) = AddAnswer(line, extractor, $"{name}:{number}");
            output.Write(rewritten);
            output.Write('\n');
            counts.Records++;
            if (x.Answer is { } a) counts.ByLabel[a] = counts.ByLabel.GetValueOrDefault(a) + 1;
            else counts.Unparseable[x.Reason] = counts.Unparseable.GetValueOrDefault(x.Reason) + 1;
        }
        return counts;
    }

    /// <summary>One line with its answer set; <paramref name="where"/> ("file:line") prefixes errors.</summary>
    public static (string Line, AnswerExtraction Extraction) AddAnswer(string line, AnswerExtractor extractor, string where)
    {
        string output;
        using (var doc = PredictionReader.ParseObject(line, where))
        {
            if (!doc.RootElement.TryGetProperty("output", out var o) || o.ValueKind != JsonValueKind.String)
                throw new UserException($"{where}: no \"output\" string; expected lines like {{\"output\": \"generated text\"}}");
            output = o.GetString()!;
        }
        var x = extractor.Extract(output);
        var value = x.Answer is null ? "null" : JsonSerializer.Serialize(x.Answer, Json);

        // Locate an existing top-level "answer" value (character offsets: the reader runs over UTF-8, so map back).
        var bytes = Encoding.UTF8.GetBytes(line);
        var reader = new Utf8JsonReader(bytes);
        int start = -1, end = -1;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("answer"u8))
            {
                reader.Read();
                start = (int)reader.TokenStartIndex;
                reader.Skip();
                end = (int)reader.BytesConsumed;
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1) reader.Skip();
        }
        string result;
        if (start >= 0)
        {
            var v = Encoding.UTF8.GetBytes(value);
            result = Encoding.UTF8.GetString([.. bytes.AsSpan(0, start), .. v, .. bytes.AsSpan(end)]);
        }
        else
        {
            var trimmed = line.TrimEnd();
            int close = trimmed.Length - 1; // the closing brace of the object
            bool empty = trimmed[..close].TrimEnd().EndsWith('{');
            result = trimmed[..close].TrimEnd() + (empty ? "" : ", ") + "\"answer\": " + value + "}";
        }
        return (result, x);
    }
}
