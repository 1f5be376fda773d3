using System.Reflection;
using SharpTune.Text.Jinja;

namespace SharpTune.Text.Templates;

/// <summary>
/// A model's chat template, compiled once and rendered many times (immutable and thread-safe), rendered exactly as
/// transformers' <c>apply_chat_template</c> renders it: the template sees <c>messages</c>, <c>tools</c> (None unless
/// given), <c>documents</c> (None), <c>add_generation_prompt</c>, <c>bos_token</c>/<c>eos_token</c> (when known) and any
/// extra variables such as <c>enable_thinking</c>.
/// </summary>
public sealed class ChatTemplate
{
    private static readonly string[] Builtins = ["chatml", "qwen3", "llama3", "llama2", "mistral", "default", "alpaca", "completion"];

    private readonly JinjaTemplate _template;
    private readonly (string Name, string Value)[] _otherTokens;

    private ChatTemplate(JinjaTemplate template, string source, string? bos, string? eos, (string, string)[]? otherTokens = null)
    {
        _template = template;
        Source = source;
        DefaultBosToken = bos;
        DefaultEosToken = eos;
        _otherTokens = otherTokens ?? [];
    }

    /// <summary>Names accepted by <see cref="Builtin"/>.</summary>
    public static IReadOnlyList<string> BuiltinNames => Builtins;

    /// <summary>The name used in error messages (file path, built-in name, or tokenizer_config.json path).</summary>
    public string Name => _template.Name;

    /// <summary>The Jinja source.</summary>
    public string Source { get; }

    /// <summary>The BOS token the template gets when a render does not override it (null: undefined in the template).</summary>
    public string? DefaultBosToken { get; }

    /// <summary>The EOS token the template gets when a render does not override it (null: undefined in the template).</summary>
    public string? DefaultEosToken { get; }

    /// <summary>Compiles template source; syntax errors name <paramref name="name"/>, line and column.</summary>
    public static ChatTemplate FromString(string source, string name = "template", string? bosToken = null, string? eosToken = null, SandboxLimits? limits = null) =>
        new(JinjaTemplate.Compile(source, name, limits), source, bosToken, eosToken);

    /// <summary>Loads a Jinja file.</summary>
    public static ChatTemplate FromFile(string path, string? bosToken = null, string? eosToken = null)
    {
        if (Directory.Exists(path)) throw new UserException($"{path}: is a directory; expected a .jinja template file");
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: template file not found");
        return FromString(File.ReadAllText(path), path, bosToken, eosToken);
    }

    /// <summary>
    /// Loads the <c>chat_template</c> of a tokenizer_config.json (a string, or the named entry of a list:
    /// "default" unless <paramref name="templateName"/> is given), with its bos/eos tokens as defaults.
    /// </summary>
    public static ChatTemplate FromTokenizerConfig(string path, string? templateName = null)
    {
        var config = TokenizerConfig.Load(path);
        string want = templateName ?? "default";
        var source = config.ChatTemplate(want);
        if (source is null)
        {
            string have = config.ChatTemplates.Count == 0 ? "it has no chat_template" : "it has: " + string.Join(", ", config.ChatTemplates.Keys);
            throw new UserException($"{path}: no chat template named '{want}' ({have}); use a built-in template ({string.Join(", ", Builtins)}) or a .jinja file");
        }
        // transformers passes the tokenizer's special tokens map: unk_token and pad_token too, when it has them.
        var others = new List<(string, string)>();
        if (config.UnkToken is { } unk) others.Add(("unk_token", unk));
        if (config.PadToken is { } pad) others.Add(("pad_token", pad));
        string name = want == "default" ? path : $"{path}#{want}";
        return new ChatTemplate(JinjaTemplate.Compile(source, name), source, config.BosToken, config.EosToken, others.ToArray());
    }

    /// <summary>A built-in template: chatml, qwen3, llama3, llama2, mistral, default, alpaca (LLaMA-Factory's formats) or completion.</summary>
    public static ChatTemplate Builtin(string name, string? bosToken = null, string? eosToken = null)
    {
        if (Array.IndexOf(Builtins, name) < 0) throw new UserException($"unknown built-in template '{name}'; expected one of: {string.Join(", ", Builtins)}");
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"SharpTune.Templates.{name}.jinja")
            ?? throw new InvalidOperationException($"built-in template resource '{name}' is missing from the assembly");
        using var reader = new StreamReader(stream);
        var (bos, eos) = name switch
        {
            "qwen3" or "chatml" => ((string?)null, (string?)"<|im_end|>"),
            "llama3" => ("<|begin_of_text|>", "<|end_of_text|>"),
            "llama2" or "mistral" => ("<s>", "</s>"),
            _ => (null, null),
        };
        return FromString(reader.ReadToEnd(), name, bosToken ?? bos, eosToken ?? eos);
    }

    /// <summary>
    /// A built-in name, else a path to a Jinja file. A name that is neither is a <see cref="UserException"/> listing
    /// the built-in names; a folder is refused as such.
    /// </summary>
    public static ChatTemplate Resolve(string nameOrPath, string? bosToken = null, string? eosToken = null)
    {
        if (Array.IndexOf(Builtins, nameOrPath) >= 0) return Builtin(nameOrPath, bosToken, eosToken);
        if (Directory.Exists(nameOrPath)) throw new UserException($"{nameOrPath}: is a directory; expected a .jinja template file or one of: {string.Join(", ", Builtins)}");
        if (!File.Exists(nameOrPath))
            throw new UserException(LooksLikePath(nameOrPath)
                ? $"{nameOrPath}: template file not found; expected a .jinja file or one of: {string.Join(", ", Builtins)}"
                : $"unknown template '{nameOrPath}'; expected a .jinja file or one of: {string.Join(", ", Builtins)}");
        return FromFile(nameOrPath, bosToken, eosToken);
    }

    // A name with a folder separator or a file extension was meant as a file.
    private static bool LooksLikePath(string s) => s.Contains('/') || s.Contains(Path.DirectorySeparatorChar) || Path.HasExtension(s);

    /// <summary>Renders a conversation; template errors (including raise_exception) throw <see cref="JinjaException"/>.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions? options = null) =>
        _template.RenderCore(Context(messages, options ?? new(), null), track: false, null).Output;

    /// <summary>
    /// Renders as <see cref="Render"/> does (same text) and also reports where each message's content was copied into
    /// the text, followed through concatenation, slicing, <c>strip</c>/<c>trim</c>, <c>split</c>, macros and blocks.
    /// Content that a template transforms otherwise (e.g. <c>upper</c>, <c>tojson</c>) has no span.
    /// </summary>
    public ChatRender RenderWithSpans(IReadOnlyList<ChatMessage> messages, ChatRenderOptions? options = null)
    {
        options ??= new();
        Dictionary<string, object?>? ctx = null;
        var ev = _template.RenderCore(new LazyContext(() => ctx!), track: true, e => ctx = Context(messages, options, e));
        var spans = ev.OutputProvenance!.Select(p => new ContentSpan(p.Source, p.Offset, p.Length, p.SourceOffset)).ToList();
        return new ChatRender(ev.Output, spans, ev.Generations);
    }

    private Dictionary<string, object?> Context(IReadOnlyList<ChatMessage> messages, ChatRenderOptions o, Evaluator? tracker)
    {
        var list = new PyList(messages.Count);
        for (int i = 0; i < messages.Count; i++) list.Add(messages[i].ToValue(tracker, i));
        var ctx = new Dictionary<string, object?>(8, StringComparer.Ordinal)
        {
            ["messages"] = list,
            ["tools"] = o.Tools is null ? null : JinjaValues.FromClr(o.Tools),
            ["documents"] = null,
            ["add_generation_prompt"] = o.AddGenerationPrompt,
        };
        foreach (var (k, v) in _otherTokens) ctx[k] = v;
        if ((o.BosToken ?? DefaultBosToken) is { } bos) ctx["bos_token"] = bos;
        if ((o.EosToken ?? DefaultEosToken) is { } eos) ctx["eos_token"] = eos;
        if (o.Variables is not null) foreach (var (k, v) in o.Variables) ctx[k] = JinjaValues.FromClr(v);
        return ctx;
    }

    // The tracking render must register message strings with its evaluator before the context exists.
    private sealed class LazyContext(Func<Dictionary<string, object?>> get) : IReadOnlyDictionary<string, object?>
    {
        private Dictionary<string, object?> D => get();
        public object? this[string key] => D[key];
        public IEnumerable<string> Keys => D.Keys;
        public IEnumerable<object?> Values => D.Values;
        public int Count => D.Count;
        public bool ContainsKey(string key) => D.ContainsKey(key);
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => D.GetEnumerator();
        public bool TryGetValue(string key, out object? value) => D.TryGetValue(key, out value);
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
