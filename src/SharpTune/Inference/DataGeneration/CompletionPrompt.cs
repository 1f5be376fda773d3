using System.Text;
using System.Text.RegularExpressions;

namespace SharpTune.Inference.DataGeneration;

/// <summary>
/// Completion-style prompts for a base model: K demonstrations as <c>Task: …</c> / <c>Answer: …</c> blocks separated
/// by blank lines, then the instruction as the last task with <c>Answer:</c> left open. No chat template and no role
/// scaffolding: the model only continues a plain-text pattern, and the blank line after its answer ends it.
/// </summary>
public static class CompletionPrompt
{
    /// <summary>The label before each instruction.</summary>
    public const string TaskLabel = "Task: ";

    /// <summary>The label the model completes (no trailing space: the model writes the space itself).</summary>
    public const string AnswerLabel = "Answer:";

    /// <summary>Chat-template markers of common model families, refused even when the tokenizer does not know them.</summary>
    public static IReadOnlyList<string> TemplateMarkers { get; } =
    [
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
        "<|eot_id|>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>",
    ];

    // Role scaffolding at the start of a line ("Assistant:", "User:", …) turns the pattern into a chat transcript.
    private static readonly Regex RoleLine = new(@"^[ \t]*(Assistant|User|Human|System|AI|Bot)[ \t]*:", RegexOptions.Multiline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>The prompt for <paramref name="instruction"/> after <paramref name="examples"/>.</summary>
    public static string Build(IReadOnlyList<FewShotExample> examples, string instruction)
    {
        var sb = new StringBuilder();
        foreach (var e in examples)
            sb.Append(TaskLabel).Append(e.Instruction).Append('\n').Append(AnswerLabel).Append(' ').Append(e.Response).Append("\n\n");
        sb.Append(TaskLabel).Append(instruction).Append('\n').Append(AnswerLabel);
        return sb.ToString();
    }

    /// <summary>
    /// Why <paramref name="prompt"/> is contaminated by a chat template — it contains the text of one of
    /// <paramref name="specialTokens"/> (the tokenizer's special and added tokens), a known template marker or a role
    /// line — or null when it is plain text.
    /// </summary>
    public static string? Contamination(string prompt, IEnumerable<string> specialTokens)
    {
        foreach (var t in specialTokens)
            if (t.Length > 0 && prompt.Contains(t, StringComparison.Ordinal))
                return $"contains '{t}', the text of a special or added token of the model's tokenizer";
        foreach (var t in TemplateMarkers)
            if (prompt.Contains(t, StringComparison.Ordinal))
                return $"contains '{t}', a chat-template marker";
        var role = RoleLine.Match(prompt);
        if (role.Success) return $"contains role scaffolding '{role.Value.Trim()}' at the start of a line";
        return null;
    }
}
