using System.Text.Json;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Reads training texts: JSONL (a .jsonl/.json file, or one whose first non-blank line starts with '{') with a
/// string field, or plain text with one text per line. Errors name the file and line.
/// </summary>
public static class TrainingTexts
{
    /// <summary>The texts of <paramref name="path"/>, lazily.</summary>
    public static IEnumerable<string> Read(string path, string textField = "text")
    {
        bool jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            || (File.ReadLines(path).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l))?.TrimStart().StartsWith('{') ?? false);
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (!jsonl) { yield return line; continue; }
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text;
            try
            {
                using var doc = JsonDocument.Parse(IO.JsonLoneSurrogates.Replace(line));
                text = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(textField, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new UserException($"{path}:{lineNo}: not valid JSON: {e.Message.Split(". ")[0]}");
            }
            yield return text ?? throw new UserException($"{path}:{lineNo}: expected an object with a string field \"{textField}\"");
        }
    }
}
