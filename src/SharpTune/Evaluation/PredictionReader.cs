using System.Text;
using System.Text.Json;

namespace SharpTune.Evaluation;

/// <summary>A <see cref="PredictionRecord"/> with the line it came from.</summary>
/// <param name="Line">1-based line number in the file.</param>
/// <param name="Record">The record.</param>
public readonly record struct PredictionLine(int Line, PredictionRecord Record);

/// <summary>
/// Reads a predictions JSONL file (<see cref="PredictionRecord"/>): one JSON object a line, empty lines skipped.
/// A malformed line or a field of the wrong type is a <see cref="UserException"/> naming the file and line.
/// </summary>
public static class PredictionReader
{
    /// <summary>Reads every record of <paramref name="path"/>.</summary>
    public static List<PredictionLine> ReadFile(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found");
        using var reader = new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        return Read(reader, path);
    }

    /// <summary>Reads every record from <paramref name="reader"/>; <paramref name="name"/> names it in errors.</summary>
    public static List<PredictionLine> Read(TextReader reader, string name)
    {
        var lines = new List<PredictionLine>();
        int number = 0;
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            lines.Add(new PredictionLine(number, Parse(line, $"{name}:{number}")));
        }
        return lines;
    }

    /// <summary>Parses one line; <paramref name="where"/> ("file:line") prefixes errors.</summary>
    public static PredictionRecord Parse(string line, string where)
    {
        using var doc = ParseObject(line, where);
        var root = doc.RootElement;
        var extra = new List<KeyValuePair<string, string>>();
        long? index = null;
        string? output = null, answer = null, label = null, finish = null, prompt = null;
        bool hasAnswer = false;
        bool? correct = null;
        int? promptTokens = null, generatedTokens = null;
        List<KeyValuePair<string, double>>? scores = null;
        double? p = null;
        foreach (var f in root.EnumerateObject())
        {
            var v = f.Value;
            switch (f.Name)
            {
                case "index": index = Integer(v, where, f.Name); break;
                case "output": output = NullableString(v, where, f.Name); break;
                case "answer": hasAnswer = true; answer = NullableString(v, where, f.Name); break;
                case "label": label = NullableString(v, where, f.Name); break;
                case "correct":
                    correct = v.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        JsonValueKind.Null => null,
                        _ => throw new UserException($"{where}: \"correct\" must be true, false or null, got {Show(v)}"),
                    };
                    break;
                case "finish_reason": finish = NullableString(v, where, f.Name); break;
                case "prompt_tokens": promptTokens = Int32(v, where, f.Name); break;
                case "generated_tokens": generatedTokens = Int32(v, where, f.Name); break;
                case "prompt": prompt = NullableString(v, where, f.Name); break;
                case "p":
                    p = Number(v, where, f.Name);
                    if (p is { } pv && !(pv >= 0 && pv <= 1)) throw new UserException($"{where}: \"p\" must be a probability in [0, 1], got {Show(v)}");
                    break;
                case "scores":
                    if (v.ValueKind == JsonValueKind.Null) break;
                    if (v.ValueKind != JsonValueKind.Object)
                        throw new UserException($"{where}: \"scores\" must be an object label → log-probability, got {Show(v)}");
                    scores = [];
                    foreach (var s in v.EnumerateObject())
                        scores.Add(KeyValuePair.Create(s.Name, Number(s.Value, where, $"scores.{s.Name}")
                            ?? throw new UserException($"{where}: \"scores.{s.Name}\" must be a number, got null")));
                    break;
                default: extra.Add(KeyValuePair.Create(f.Name, f.Value.GetRawText())); break;
            }
        }
        return new PredictionRecord
        {
            Index = index, Output = output, HasAnswer = hasAnswer, Answer = answer, Label = label, Correct = correct,
            FinishReason = finish, PromptTokens = promptTokens, GeneratedTokens = generatedTokens, Scores = scores, P = p,
            Prompt = prompt, Extra = extra,
        };
    }

    /// <summary>Parses a line that must hold one JSON object.</summary>
    internal static JsonDocument ParseObject(string line, string where)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new UserException($"{where}: malformed JSON ({FirstSentence(e.Message)}); expected one JSON object a line");
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = doc.RootElement.ValueKind.ToString().ToLowerInvariant();
            doc.Dispose();
            throw new UserException($"{where}: expected a JSON object, got a {kind}");
        }
        return doc;
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(". ", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }

    private static string? NullableString(JsonElement v, string where, string name) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Null => null,
        _ => throw new UserException($"{where}: \"{name}\" must be a string or null, got {Show(v)}"),
    };

    private static long? Integer(JsonElement v, string where, string name)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0) return n;
        throw new UserException($"{where}: \"{name}\" must be a non-negative integer, got {Show(v)}");
    }

    private static int? Int32(JsonElement v, string where, string name)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 0) return n;
        throw new UserException($"{where}: \"{name}\" must be a non-negative integer, got {Show(v)}");
    }

    private static double? Number(JsonElement v, string where, string name)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        throw new UserException($"{where}: \"{name}\" must be a finite number, got {Show(v)}");
    }

    private static string Show(JsonElement v)
    {
        var raw = v.GetRawText();
        return raw.Length <= 40 ? raw : raw[..37] + "...";
    }
}
