using System.Text.Json;
using SharpTune.Models.Safetensors;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Models;

/// <summary>
/// A Hugging Face model folder opened for use: config.json parsed, weights (single file or shards) mapped, and
/// the weights validated against the config's <see cref="CheckpointLayout"/>; the tokenizer (tokenizer.json +
/// tokenizer_config.json), chat template and generation_config.json are read when first asked for. The engine loads
/// parameters through <see cref="Layout"/> (roles and layers) from <see cref="Weights"/>.
/// </summary>
public sealed class ModelFolder : IModelFolder
{
    /// <summary>The generation defaults file.</summary>
    public const string GenerationConfigFile = "generation_config.json";

    private readonly Lazy<ITextTokenizer?> _tokenizer;
    private readonly Lazy<IReadOnlyList<int>> _eos;

    private ModelFolder(string path, ModelConfig config, CheckpointLayout layout, ITensorSource weights, IReadOnlyList<string> ignored)
    {
        Path = path;
        Config = config;
        Layout = layout;
        Weights = weights;
        IgnoredTensors = ignored;
        var tokenizerJson = System.IO.Path.Combine(path, "tokenizer.json");
        _tokenizer = new(() => File.Exists(tokenizerJson) ? TextTokenizer.Load(tokenizerJson) : null);
        _eos = new(() => GenerationEosTokenIds(System.IO.Path.Combine(path, GenerationConfigFile)) ?? config.EosTokenIds);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The parsed config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>The parameters the config implies, with names, shapes and roles.</summary>
    public CheckpointLayout Layout { get; }

    /// <summary>The weights (memory-mapped).</summary>
    public ITensorSource Weights { get; }

    /// <summary>Tensors present but ignored, as transformers ignores them (a tied <c>lm_head.weight</c>, rotary buffers).</summary>
    public IReadOnlyList<string> IgnoredTensors { get; }

    /// <inheritdoc />
    public ITextTokenizer? Tokenizer => _tokenizer.Value;

    /// <inheritdoc />
    public IReadOnlyList<int> EosTokenIds => _eos.Value;

    /// <inheritdoc />
    public IChatRenderer ChatRenderer(PromptSettings settings) => TextStack.Open(Path, settings).Renderer;

    /// <summary>
    /// The <c>eos_token_id</c> of a generation_config.json (an id or a list of ids), or null when the file or the
    /// field is absent; a malformed value is a <see cref="UserException"/> naming the file.
    /// </summary>
    public static IReadOnlyList<int>? GenerationEosTokenIds(string path)
    {
        if (!File.Exists(path)) return null;
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllBytes(path)).RootElement; }
        catch (JsonException e) { throw new UserException($"{path}: not valid JSON ({e.Message})"); }
        if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: expected a JSON object");
        if (!root.TryGetProperty("eos_token_id", out var eos) || eos.ValueKind == JsonValueKind.Null) return null;
        static bool Id(JsonElement e, out int id) { id = 0; return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out id) && id >= 0; }
        if (Id(eos, out var single)) return [single];
        if (eos.ValueKind == JsonValueKind.Array)
        {
            var ids = new List<int>();
            foreach (var e in eos.EnumerateArray())
                ids.Add(Id(e, out var id) ? id : throw new UserException($"{path}: eos_token_id: expected non-negative integer ids, got {e.GetRawText()}"));
            return ids;
        }
        throw new UserException($"{path}: eos_token_id: expected an id or a list of ids, got {eos.GetRawText()}");
    }

    /// <summary>Opens and validates <paramref name="path"/>; every problem is a <see cref="UserException"/> naming the file.</summary>
    public static ModelFolder Open(string path)
    {
        if (!Directory.Exists(path)) throw new UserException($"{path}: model folder not found");
        var config = ModelConfigJson.Load(System.IO.Path.Combine(path, "config.json"));
        var layout = CheckpointLayout.For(config);
        var weights = SafetensorsCheckpoint.Open(path);
        try
        {
            var name = weights is SafetensorsReader r ? r.Path : weights is ShardedSafetensorsSource s ? s.IndexPath : path;
            var ignored = layout.Validate(weights, name);
            return new ModelFolder(path, config, layout, weights, ignored);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Weights.Dispose();
}
