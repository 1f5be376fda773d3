using SharpTune.Text;

namespace SharpTune.Training.Configuration;

/// <summary>How one LLaMA-Factory template name is rendered by SharpTune.</summary>
/// <param name="Name">LLaMA-Factory's template name.</param>
/// <param name="Builtin">SharpTune's built-in template used when the model folder's own template is not of this family.</param>
/// <param name="FolderMarker">
/// Text that identifies the family in a chat_template (e.g. <c>&lt;|im_start|&gt;</c>); when the model folder's
/// chat_template contains it, that template is used (transformers-exact, with the model's own tool support),
/// else the built-in. Null: always the built-in.
/// </param>
/// <param name="EnableThinking">A forced <c>enable_thinking</c> (qwen3_nothink: false), or null to take the configuration's.</param>
/// <param name="Meaning">One line for the README table.</param>
public sealed record TemplateMapping(string Name, string Builtin, string? FolderMarker, bool? EnableThinking, string Meaning);

/// <summary>The renderer a configuration resolved to.</summary>
/// <param name="Name">The configured name (null: none given).</param>
/// <param name="UseModelTemplate">Render with the model folder's own chat_template.</param>
/// <param name="Builtin">Otherwise this built-in (<see cref="Text.Templates.ChatTemplate.Builtin"/>).</param>
/// <param name="EnableThinking">A forced enable_thinking, or null.</param>
public sealed record TemplateChoice(string? Name, bool UseModelTemplate, string? Builtin, bool? EnableThinking)
{
    /// <summary>The template argument of <see cref="Preprocessing.TextStack.Open(string, string?)"/>: null for the folder's own template, else the built-in name.</summary>
    public string? TextStackTemplate => UseModelTemplate ? null : Builtin;

    /// <summary>For <c>--print-config</c>: e.g. "model folder chat_template" or "built-in qwen3".</summary>
    public string Description => UseModelTemplate ? "the model folder's chat_template" : $"built-in {Builtin}";
}

/// <summary>
/// LLaMA-Factory's template names mapped onto SharpTune's renderers. A name whose family matches the model folder's
/// own chat_template renders with that template (what transformers' <c>apply_chat_template</c> produces); otherwise
/// with SharpTune's built-in of that family. No name (<c>template: null</c>) means the folder's own chat_template, as
/// LLaMA-Factory parses it from the tokenizer, or <c>empty</c> when the folder has none.
/// </summary>
public static class TemplateTable
{
    /// <summary>The known names, in README order.</summary>
    public static IReadOnlyList<TemplateMapping> All { get; } =
    [
        new("qwen3", "qwen3", "<|im_start|>", null, "Qwen3 (hybrid thinking); enable_thinking decides where the empty think block goes"),
        new("qwen3_nothink", "qwen3", "<|im_start|>", false, "Qwen3 without thinking: enable_thinking=false (the empty think block, if the template renders one, is prompt)"),
        new("qwen", "chatml", "<|im_start|>", null, "Qwen / Qwen2 / Qwen2.5 ChatML"),
        new("chatml", "chatml", null, null, "plain ChatML (<|im_start|>role … <|im_end|>), always the built-in"),
        new("llama3", "llama3", "<|start_header_id|>", null, "Llama 3 / 3.1 / 3.2 header format"),
        new("llama2", "llama2", "<<SYS>>", null, "Llama 2 [INST] with <<SYS>>"),
        new("mistral", "mistral", "[INST]", null, "Mistral [INST] … [/INST]"),
        new("default", "default", null, null, "LLaMA-Factory's default: Human: … / Assistant: with EOS after each turn"),
        new("alpaca", "alpaca", null, null, "LLaMA-Factory's alpaca: ### Instruction: / ### Response:"),
        new("empty", "completion", null, null, "no template: the prompt followed directly by the answer (+ EOS)"),
    ];

    /// <summary>
    /// Resolves <paramref name="name"/> for the model folder <paramref name="modelFolder"/>; an unknown name is a
    /// <see cref="UserException"/> listing the known ones (<paramref name="where"/> names the key's location).
    /// </summary>
    public static TemplateChoice Resolve(string? name, string modelFolder, string where)
    {
        var folderTemplate = FolderTemplate(modelFolder);
        if (name is null)
            return folderTemplate is not null ? new TemplateChoice(null, true, null, null) : new TemplateChoice(null, false, "completion", null);
        var m = All.FirstOrDefault(t => t.Name == name)
            ?? throw new UserException($"{where}: template: unknown template '{name}'; known: {string.Join(", ", All.Select(t => t.Name))}");
        bool useFolder = m.FolderMarker is not null && folderTemplate is not null && folderTemplate.Contains(m.FolderMarker, StringComparison.Ordinal);
        return new TemplateChoice(name, useFolder, useFolder ? null : m.Builtin, m.EnableThinking);
    }

    // The default chat_template of the folder's tokenizer_config.json, or null.
    private static string? FolderTemplate(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return null;
        return TokenizerConfig.Load(path).ChatTemplate("default");
    }
}
