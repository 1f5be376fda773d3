using SharpTune.Text;
using SharpTune.Text.Templates;

namespace SharpTune.Preprocessing;

/// <summary>
/// The tokenizer and chat template of a model or tokenizer folder, loaded the same way for preprocessing,
/// statistics, generation and evaluation: tokenizer.json (+ tokenizer_config.json beside it), and the template of the
/// <see cref="PromptSettings"/>: a recorded <see cref="PromptSettings.TemplateSource"/>, else the named template (a
/// built-in name or a .jinja path), else the folder's own <c>chat_template</c>.
/// </summary>
public sealed class TextStack
{
    private TextStack(string folder, TextTokenizer tokenizer, ChatTemplate template, byte[] tokenizerJson, byte[] tokenizerConfigJson)
    {
        Folder = folder;
        Template = template;
        TokenizerJson = tokenizerJson;
        TokenizerConfigJson = tokenizerConfigJson;
        Renderer = new ChatTemplateRenderer(template);
        Tokenizer = tokenizer;
    }

    /// <summary>The folder.</summary>
    public string Folder { get; }

    /// <summary>The tokenizer, parsed on first use (a cache hit never needs it).</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>The chat template.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The template as a renderer.</summary>
    public IChatRenderer Renderer { get; }

    /// <summary>Bytes of tokenizer.json (part of the preprocessing cache key).</summary>
    public byte[] TokenizerJson { get; }

    /// <summary>Bytes of tokenizer_config.json, empty when absent (part of the cache key).</summary>
    public byte[] TokenizerConfigJson { get; }

    /// <summary>Loads a folder (or a tokenizer.json path) and resolves the template named by <paramref name="template"/> (null: the folder's).</summary>
    public static TextStack Open(string folderOrTokenizerJson, string? template = null) =>
        Open(folderOrTokenizerJson, new PromptSettings { Template = template });

    /// <summary>
    /// Loads a folder (or a tokenizer.json path) with the template of <paramref name="settings"/>. A recorded
    /// <see cref="PromptSettings.TemplateSource"/> wins over the name, so a saved run renders with the template it was
    /// trained with even when the .jinja file is gone or the folder's chat_template changed; it gets the BOS/EOS tokens
    /// that the named template (or the folder's tokenizer_config.json) gives.
    /// </summary>
    public static TextStack Open(string folderOrTokenizerJson, PromptSettings settings)
    {
        string? template = settings.Template;
        string folder = File.Exists(folderOrTokenizerJson) ? Path.GetDirectoryName(Path.GetFullPath(folderOrTokenizerJson))! : folderOrTokenizerJson;
        string tokJson = File.Exists(folderOrTokenizerJson) ? folderOrTokenizerJson : Path.Combine(folder, "tokenizer.json");
        if (!Directory.Exists(folder)) throw new UserException($"tokenizer folder not found: {folder}");
        if (!File.Exists(tokJson)) throw new UserException($"{tokJson}: not found (expected a Hugging Face tokenizer.json in the folder)");
        var tokenizer = TextTokenizer.Load(tokJson);
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        byte[] configBytes = File.Exists(configPath) ? File.ReadAllBytes(configPath) : [];
        var config = configBytes.Length > 0 ? TokenizerConfig.Parse(configBytes, configPath) : null;
        ChatTemplate chat;
        if (settings.TemplateSource is { } recorded)
        {
            ChatTemplate? named = template is null ? null : TryResolve(template, config);
            chat = named is not null && named.Source == recorded ? named
                : ChatTemplate.FromString(recorded, template ?? configPath, config?.BosToken ?? named?.DefaultBosToken, config?.EosToken ?? named?.DefaultEosToken);
        }
        else if (template is not null)
            chat = ChatTemplate.Resolve(template, config?.BosToken, config?.EosToken);
        else if (config is not null && config.ChatTemplates.Count > 0)
            chat = ChatTemplate.FromTokenizerConfig(configPath);
        else
            throw new UserException($"{folder}: {(config is null ? "no tokenizer_config.json" : "tokenizer_config.json has no chat_template")}; give --template ({string.Join(", ", ChatTemplate.BuiltinNames)} or a .jinja file)");
        return new TextStack(folder, tokenizer, chat, File.ReadAllBytes(tokJson), configBytes);
    }

    // A built-in, or a .jinja file that still exists; null when the named file is gone.
    private static ChatTemplate? TryResolve(string template, TokenizerConfig? config) =>
        ChatTemplate.BuiltinNames.Contains(template) || File.Exists(template) ? ChatTemplate.Resolve(template, config?.BosToken, config?.EosToken) : null;
}
