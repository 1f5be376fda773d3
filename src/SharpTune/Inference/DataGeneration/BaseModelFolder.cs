using System.Text.Json;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Text;

namespace SharpTune.Inference.DataGeneration;

/// <summary>
/// A Hugging Face base model folder opened for completion-style generation: config.json, safetensors weights and
/// tokenizer.json, through <see cref="ModelFolder"/>. The only place <c>generate-data</c> loads a model.
/// </summary>
public sealed class BaseModelFolder : ICompletionModel, IDisposable
{
    private readonly ModelFolder _folder;
    private readonly ITextTokenizer _tokenizer;
    private readonly int _batchSize;

    private BaseModelFolder(ModelFolder folder, ITextTokenizer tokenizer, string? chatTemplate, int batchSize)
    {
        _folder = folder;
        _tokenizer = tokenizer;
        _batchSize = batchSize;
        ChatTemplateSource = chatTemplate;
        // Every added token (special or not) of a tokenizer.json; through the interface, the special ids' strings.
        var texts = tokenizer is TextTokenizer t
            ? t.Tokenizer.AddedTokens.Select(a => a.Content)
            : tokenizer.SpecialIds.Select(id => tokenizer.IdToToken(id) ?? "");
        SpecialTokenTexts = texts.Where(c => c.Length > 0).Distinct().ToArray();
    }

    /// <summary>Opens <paramref name="dir"/>; it must hold a tokenizer.json.</summary>
    public static BaseModelFolder Open(string dir, int batchSize = 8)
    {
        var folder = ModelFolder.Open(dir);
        try
        {
            var tokenizer = folder.Tokenizer ?? throw new UserException($"{dir}: no tokenizer.json (generate-data needs the model's tokenizer)");
            return new BaseModelFolder(folder, tokenizer, FindChatTemplate(dir), Math.Max(1, batchSize));
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    private static string? FindChatTemplate(string dir)
    {
        var jinja = Path.Combine(dir, "chat_template.jinja");
        if (File.Exists(jinja)) return jinja;
        var config = Path.Combine(dir, "tokenizer_config.json");
        if (!File.Exists(config)) return null;
        try
        {
            var root = JsonDocument.Parse(File.ReadAllBytes(config)).RootElement;
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("chat_template", out var t) && t.ValueKind != JsonValueKind.Null
                ? config + " (chat_template)" : null;
        }
        catch (JsonException e) { throw new UserException($"{config}: not valid JSON ({e.Message})"); }
    }

    /// <inheritdoc />
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(_folder.Path)));

    /// <inheritdoc />
    public int ContextLength => _folder.Config.MaxPositionEmbeddings;

    /// <inheritdoc />
    public IReadOnlyList<int> EosTokenIds => _folder.EosTokenIds;

    /// <inheritdoc />
    public IReadOnlyList<string> SpecialTokenTexts { get; }

    /// <inheritdoc />
    public string? ChatTemplateSource { get; }

    /// <inheritdoc />
    public int[] Encode(string text) => _tokenizer.Encode(text, addSpecialTokens: false);

    /// <inheritdoc />
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        if (prompts.Count == 0) return [];
        int batch = Math.Min(_batchSize, prompts.Count);
        int context = prompts.Max(p => p.Length) + options.MaxNewTokens;
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(_folder.Config, _folder.Weights, backend, WeightStorage.Auto, maxPositions: context);
        using var model = new DecoderModel(weights, maxTokens: 512, maxLogitRows: batch);
        using var generator = new Generator(model, batch, context);
        return generator.Generate(prompts, options, _tokenizer);
    }

    /// <inheritdoc />
    public void Dispose() => _folder.Dispose();
}
