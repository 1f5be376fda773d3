using SharpTune.Data.Sft;
using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Text;
using SharpTune.Training;

namespace SharpTune.Evaluation.Sanity;

/// <summary>
/// Answers the sanity prompts with real checkpoints. The base model is loaded once, on the first adapter checkpoint,
/// and each PEFT adapter is attached to it unmerged in turn (<see cref="LoraAttachment"/>, replacing the previous
/// one); a full-model checkpoint is loaded as its own model for its turn and freed after. Every prompt is rendered
/// as a user turn through the same <see cref="PromptBuilder"/> as training, with the checkpoint's saved prompt
/// settings (its <c>prompt_settings.json</c>, else the run's), tokenized with no added special tokens — exactly what
/// <c>generate --run CKPT --chat</c> feeds the model — and answered greedily in batches by the <see cref="Generator"/>,
/// stopping at the model's EOS ids or at the template's end-of-turn token.
/// <para>
/// System message: the prompt's, else its group's, else the rules file's (all resolved by <see cref="SanityRulesLoader"/>),
/// else the run's <c>default_system</c> (applied by the prompt builder).
/// </para>
/// </summary>
public sealed class ModelSanityResponder : ISanityResponder, IDisposable
{
    private readonly SanityResponderRequest _request;
    private readonly Func<string, IModelFolder> _openFolder;
    private readonly IComputeBackend _backend;
    private readonly bool _ownsBackend;
    private readonly int _batchSize;
    private LoadedModel? _base;
    private LoraAttachment? _attached;

    /// <summary>
    /// A responder for <paramref name="request"/>. <paramref name="openFolder"/> opens a model folder (normally
    /// <see cref="ModelFolder.Open"/>; tests count its calls); <paramref name="backend"/> defaults to the CPU backend.
    /// </summary>
    public ModelSanityResponder(SanityResponderRequest request, Func<string, IModelFolder> openFolder, IComputeBackend? backend = null, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _request = request;
        _openFolder = openFolder;
        _ownsBackend = backend is null;
        _backend = backend ?? ComputeBackends.Create();
        _batchSize = batchSize;
    }

    /// <summary>The base model folder adapters are attached to, once loaded (null before the first adapter).</summary>
    public string? BaseModelPath => _base?.Folder.Path;

    /// <inheritdoc />
    public IReadOnlyList<string> Answer(SanityCheckpoint checkpoint, IReadOnlyList<SanityPrompt> prompts)
    {
        var settings = SettingsFor(checkpoint);
        if (checkpoint.Kind == SanityCheckpointKind.Adapter)
        {
            var loaded = Base(checkpoint);
            var adapter = LoadAdapter(checkpoint, loaded);
            _attached?.Dispose();
            _attached = null;
            _attached = LoraAttachment.Attach(loaded.Weights, adapter);
            return Generate(loaded, settings, prompts, checkpoint.Path);
        }
        using var own = Load(checkpoint.Path);
        return Generate(own, settings, prompts, checkpoint.Path);
    }

    /// <summary>
    /// The inference prompt of one sanity prompt: a user turn with its system message (or the settings' default),
    /// rendered with the generation prompt.
    /// </summary>
    public static string ChatPrompt(PromptBuilder builder, SanityPrompt prompt) => builder.InferencePrompt(new SftRecord
    {
        Source = $"{prompt.Group}[{prompt.Index}]",
        Index = prompt.Index,
        Kind = SftRecordKind.Conversation,
        System = prompt.System,
        Turns = [new SftTurn("user", prompt.Text)],
    });

    /// <summary>
    /// The ids generation stops at: the folder's EOS ids and the template's end-of-turn token — the special token that
    /// directly follows an answer in a rendered conversation (after whitespace only), as training supervises it.
    /// </summary>
    public static IReadOnlyList<int> StopIds(IModelFolder folder, PromptBuilder builder, ITextTokenizer tokenizer)
    {
        var ids = new List<int>(folder.EosTokenIds);
        if (tokenizer.EosId is { } eos && !ids.Contains(eos)) ids.Add(eos);
        if (EndOfTurn.Find(builder, tokenizer) is { } eot && !ids.Contains(eot)) ids.Add(eot);
        return ids;
    }

    private PromptSettings SettingsFor(SanityCheckpoint checkpoint)
    {
        if (File.Exists(Path.Combine(checkpoint.Path, PromptSettingsFile.FileName))) return PromptSettingsFile.Find(checkpoint.Path);
        if (_request.RunDir is not null) return PromptSettingsFile.Find(_request.RunDir);
        return new PromptSettings();   // a checkpoint saved without settings: the model's own template, no system prompt
    }

    private LoadedModel Base(SanityCheckpoint checkpoint)
    {
        if (_base is not null) return _base;
        string dir = _request.BaseModel ?? PeftAdapter.ReadInfo(checkpoint.Path).BaseModelNameOrPath
            ?? throw new UserException($"{checkpoint.Path}: the adapter names no base_model_name_or_path; give the base model folder with --model");
        if (!Directory.Exists(dir))
            throw new UserException(_request.BaseModel is null
                ? $"{checkpoint.Path}: the adapter's base model '{dir}' is not a folder here; give the base model folder with --model"
                : $"--model: folder not found: {dir}");
        _base = Load(dir);
        return _base;
    }

    private static LoraAdapterWeights LoadAdapter(SanityCheckpoint checkpoint, LoadedModel loaded)
    {
        try { return PeftAdapter.Load(checkpoint.Path, loaded.Folder.Config); }
        catch (UserException e) { throw new UserException($"{checkpoint.Name}: adapter does not fit the base model {loaded.Folder.Path}: {e.Message}"); }
    }

    private LoadedModel Load(string dir)
    {
        var folder = _openFolder(dir);
        try
        {
            var weights = DecoderWeights.Load(folder.Config, folder.Weights, _backend);
            return new LoadedModel(folder, weights, new DecoderModel(weights, maxTokens: 512, maxLogitRows: _batchSize));
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    private IReadOnlyList<string> Generate(LoadedModel loaded, PromptSettings settings, IReadOnlyList<SanityPrompt> prompts, string checkpointPath)
    {
        if (prompts.Count == 0) return [];
        var tokenizer = loaded.Folder.Tokenizer
            ?? throw new UserException($"{loaded.Folder.Path}: no tokenizer could be loaded; sanity renders text prompts (checkpoint {checkpointPath})");
        var builder = new PromptBuilder(loaded.Folder.ChatRenderer(settings), settings);
        var ids = prompts.Select(p => tokenizer.Encode(ChatPrompt(builder, p), addSpecialTokens: false)).ToArray();
        var options = new GenerationOptions { MaxNewTokens = _request.MaxNewTokens, EosTokenIds = StopIds(loaded.Folder, builder, tokenizer) };
        int context = ids.Max(p => p.Length) + options.MaxNewTokens;
        if (context > loaded.Folder.Config.MaxPositionEmbeddings)
            throw new UserException($"{checkpointPath}: the longest prompt ({ids.Max(p => p.Length)} tokens) plus --max-new-tokens {options.MaxNewTokens} exceeds the model's context of {loaded.Folder.Config.MaxPositionEmbeddings}");
        using var generator = new Generator(loaded.Model, Math.Min(_batchSize, ids.Length), context);
        return generator.Generate(ids, options, tokenizer).Select(r => r.Text ?? "").ToArray();
    }

    /// <summary>Detaches the adapter and frees the base model (and the backend when this responder created it).</summary>
    public void Dispose()
    {
        _attached?.Dispose();
        _attached = null;
        _base?.Dispose();
        _base = null;
        if (_ownsBackend) _backend.Dispose();
    }

    private sealed class LoadedModel(IModelFolder folder, DecoderWeights weights, DecoderModel model) : IDisposable
    {
        public IModelFolder Folder { get; } = folder;
        public DecoderWeights Weights { get; } = weights;
        public DecoderModel Model { get; } = model;

        public void Dispose()
        {
            Model.Dispose();
            Weights.Dispose();
            Folder.Dispose();
        }
    }
}
