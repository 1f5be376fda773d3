using System.Text.Json;

namespace SharpTune.Inference.DataGeneration;

/// <summary>One instruction to complete, with its type and the line it came from.</summary>
/// <param name="Text">The instruction.</param>
/// <param name="Type">Its kind (from the file, else <c>general</c>).</param>
/// <param name="Source">File and line, for messages.</param>
public sealed record GenerationInstruction(string Text, string Type, string Source)
{
    /// <summary>
    /// Reads an instructions file: JSON Lines (<c>{"instruction": "...", "type": "..."}</c>, type optional) when its
    /// first non-blank character is <c>{</c>, else plain text with one instruction per line. Blank lines are skipped.
    /// An empty file or a malformed line is a <see cref="UserException"/> naming the line.
    /// </summary>
    public static IReadOnlyList<GenerationInstruction> Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: instructions file not found");
        var lines = File.ReadAllLines(path);
        bool jsonl = lines.FirstOrDefault(l => l.Trim().Length > 0)?.TrimStart().StartsWith('{') ?? false;
        var list = new List<GenerationInstruction>();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = $"{path}:{i + 1}";
            if (!jsonl)
            {
                list.Add(new GenerationInstruction(line.Trim(), "general", where));
                continue;
            }
            JsonElement root;
            try { root = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new UserException($"{where}: not valid JSON ({e.Message}); expected {{\"instruction\": \"...\"}} per line"); }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("instruction", out var ins) || ins.ValueKind != JsonValueKind.String || ins.GetString()!.Trim().Length == 0)
                throw new UserException($"{where}: expected a JSON object with a non-empty string \"instruction\"");
            string type = "general";
            foreach (var key in (string[])["instruction_type", "type"])
                if (root.TryGetProperty(key, out var t))
                    type = t.ValueKind == JsonValueKind.String ? t.GetString()! : throw new UserException($"{where}: field \"{key}\" must be a string");
            var text = ins.GetString()!.Trim();
            if (FewShotExample.HasBlankLine(text)) throw new UserException($"{where}: an instruction must not contain a blank line (a blank line ends the completion)");
            list.Add(new GenerationInstruction(text, type, where));
        }
        if (list.Count == 0) throw new UserException($"{path}: no instructions (the file is empty)");
        return list;
    }
}
