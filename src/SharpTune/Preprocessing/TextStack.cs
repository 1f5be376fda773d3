using SharpTune.Text;
using SharpTune.Text.Templates;
using SharpTune.Text.Tokenization;

namespace SharpTune.Preprocessing;

/// <summary>
/// The tokenizer and chat template of a model or tokenizer folder, loaded the same way for preprocessing,
/// statistics, generation and evaluation: tokenizer.json (+ tokenizer_config.json beside it), and the template named
/// by <c>--template</c> (a built-in name or a .jinja path), else the folder's own <c>chat_template</c>.
/// </summary>
public sealed class TextStack
{
    private readonly Lazy<Tokenizer> _tokenizer;

    private TextStack(string folder, Lazy<Tokenizer> tokenizer, ChatTemplate template, byte[] tokenizerJson, byte[] tokenizerConfigJson)
    {
        Folder = folder;
        _tokenizer = tokenizer;
        Template = template;
        TokenizerJson = tokenizerJson;
        TokenizerConfigJson = tokenizerConfigJson;
        Renderer = new ChatTemplateRenderer(template);
        Encoder = new TokenizerEncoder(tokenizer);
    }

    /// <summary>The folder.</summary>
    public string Folder { get; }

    /// <summary>The tokenizer, parsed on first use (a cache hit never needs it).</summary>
    public Tokenizer Tokenizer => _tokenizer.Value;

    /// <summary>The chat template.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The template as a renderer.</summary>
    public IChatRenderer Renderer { get; }

    /// <summary>The tokenizer as an encoder.</summary>
    public ITokenEncoder Encoder { get; }

    /// <summary>Bytes of tokenizer.json (part of the preprocessing cache key).</summary>
    public byte[] TokenizerJson { get; }

    /// <summary>Bytes of tokenizer_config.json, empty when absent (part of the cache key).</summary>
    public byte[] TokenizerConfigJson { get; }

    /// <summary>Loads a folder (or a tokenizer.json path) and resolves the template.</summary>
    public static TextStack Open(string folderOrTokenizerJson, string? template = null)
    {
        string folder = File.Exists(folderOrTokenizerJson) ? Path.GetDirectoryName(Path.GetFullPath(folderOrTokenizerJson))! : folderOrTokenizerJson;
        string tokJson = File.Exists(folderOrTokenizerJson) ? folderOrTokenizerJson : Path.Combine(folder, "tokenizer.json");
        if (!Directory.Exists(folder)) throw new UserException($"tokenizer folder not found: {folder}");
        if (!File.Exists(tokJson)) throw new UserException($"{tokJson}: not found (expected a Hugging Face tokenizer.json in the folder)");
        var tokenizer = new Lazy<Tokenizer>(() => Tokenizer.Load(tokJson));
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        byte[] configBytes = File.Exists(configPath) ? File.ReadAllBytes(configPath) : [];
        var config = configBytes.Length > 0 ? TokenizerConfig.Parse(configBytes, configPath) : null;
        ChatTemplate chat;
        if (template is not null)
            chat = ChatTemplate.Resolve(template, config?.BosToken, config?.EosToken);
        else if (File.Exists(configPath))
            chat = ChatTemplate.FromTokenizerConfig(configPath);
        else
            throw new UserException($"{folder}: no tokenizer_config.json with a chat_template; give --template ({string.Join(", ", ChatTemplate.BuiltinNames)} or a .jinja file)");
        return new TextStack(folder, tokenizer, chat, File.ReadAllBytes(tokJson), configBytes);
    }
}
