using System.Text.Json;

namespace SharpTune.Inference.DataGeneration;

/// <summary>One demonstration of the few-shot pattern: an instruction, its response and the kind of task.</summary>
/// <param name="Instruction">The task text.</param>
/// <param name="Response">The answer shown after it.</param>
/// <param name="Type">Kind of task (maths, completion, fact, creative, explanation, …).</param>
/// <param name="Source">Where it came from, for messages.</param>
public sealed record FewShotExample(string Instruction, string Response, string Type, string Source)
{
    /// <summary>
    /// The built-in demonstrations: short, plain-text tasks covering maths, sentence completion, facts, creative
    /// writing and explanations, so that a base model sees varied instruction → answer pairs.
    /// </summary>
    public static IReadOnlyList<FewShotExample> BuiltIn { get; } =
    [
        new("What is 7 times 8?", "56", "maths", "built-in"),
        new("Add 125 and 37.", "162", "maths", "built-in"),
        new("What is half of 90?", "45", "maths", "built-in"),
        new("Complete the sentence: The cat curled up on the", "warm windowsill and fell asleep in the sun.", "completion", "built-in"),
        new("Complete the sentence: When the rain stopped, the children", "ran outside to jump in the puddles.", "completion", "built-in"),
        new("Complete the sentence: A good friend is someone who", "listens to you and helps when things are hard.", "completion", "built-in"),
        new("What is the capital of Italy?", "Rome.", "fact", "built-in"),
        new("How many days are in a leap year?", "366.", "fact", "built-in"),
        new("What gas do plants take in from the air?", "Carbon dioxide.", "fact", "built-in"),
        new("Write one sentence about a brave little mouse.", "The little mouse crept past the sleeping cat to bring cheese home to her family.", "creative", "built-in"),
        new("Give a name for a friendly dragon.", "Ember.", "creative", "built-in"),
        new("Write a short line about the sea at night.", "The dark sea hummed softly under a silver moon.", "creative", "built-in"),
        new("Explain why ice floats on water.", "Ice is less dense than liquid water, so it floats.", "explanation", "built-in"),
        new("Explain what a shadow is.", "A shadow is the dark shape made where an object blocks light.", "explanation", "built-in"),
        new("Explain why we need sleep.", "Sleep lets the body rest and repair and helps the brain store memories.", "explanation", "built-in"),
    ];

    /// <summary>Reads examples from JSON Lines: <c>{"instruction": "...", "response": "...", "type": "..."}</c> (type optional).</summary>
    public static IReadOnlyList<FewShotExample> Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: examples file not found");
        var list = new List<FewShotExample>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = $"{path}:{lineNo}";
            JsonElement root;
            try { root = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new UserException($"{where}: not valid JSON ({e.Message}); expected {{\"instruction\": \"...\", \"response\": \"...\"}}"); }
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{where}: expected a JSON object with \"instruction\" and \"response\"");
            string Field(string name) =>
                root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Trim().Length > 0
                    ? v.GetString()!.Trim()
                    : throw new UserException($"{where}: field \"{name}\" must be a non-empty string");
            var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "general";
            list.Add(Validated(new FewShotExample(Field("instruction"), Field("response"), type, where)));
        }
        if (list.Count == 0) throw new UserException($"{path}: no examples");
        return list;
    }

    /// <summary>Refuses text that would break the pattern: a blank line ends an example, so none may hold one.</summary>
    internal static FewShotExample Validated(FewShotExample e)
    {
        if (HasBlankLine(e.Instruction) || HasBlankLine(e.Response))
            throw new UserException($"{e.Source}: an example must not contain a blank line (a blank line separates the examples of the prompt)");
        return e;
    }

    internal static bool HasBlankLine(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal).Contains("\n\n", StringComparison.Ordinal);
}
