using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// A LoRA adapter uploaded to the backend and attached, unmerged, to the projections of loaded base weights: every
/// <see cref="DecoderModel"/> over those weights then computes <c>y = x·Wᵀ (+ b) + s·x·Aᵀ·Bᵀ</c> per adapted
/// projection — what PEFT's <c>PeftModel</c> computes in eval mode (dropout off) — without a merged copy of the base.
/// Greedy generation this way gives the ids of the merged model (<see cref="AdapterMerger"/>; logits agree to float
/// rounding).
/// <para>
/// One adapter is attached at a time. Attaching another replaces it (the earlier attachment is then detached and only
/// holds its memory until disposed), so many adapters can be scored over one loaded base; disposing the attached one
/// detaches it, leaving the base model as loaded:
/// </para>
/// <code>
/// using var weights = DecoderWeights.Load(config, folder.Weights, backend);
/// using var model = new DecoderModel(weights);
/// using var generator = new Generator(model, maxBatch: 8, maxLength: 1024);
/// foreach (var dir in adapterDirs)
/// {
///     using var adapter = LoraAttachment.Attach(weights, PeftAdapter.Load(dir, config));
///     var results = generator.Generate(prompts, options);
/// }
/// </code>
/// The weights of a <see cref="TrainableDecoder"/> (its <see cref="TrainableDecoder.CreateInferenceModel"/> view) carry
/// the adapter being trained and refuse attachments.
/// </summary>
public sealed class LoraAttachment : IDisposable
{
    private readonly DecoderWeights _weights;
    private readonly Arena _arena;

    private LoraAttachment(DecoderWeights weights, Arena arena, LoraConfig config)
    {
        _weights = weights;
        _arena = arena;
        Config = config;
    }

    /// <summary>The adapter's hyper-parameters (its dropout is not applied: inference).</summary>
    public LoraConfig Config { get; }

    /// <summary>Bytes of the adapter's matrices in backend memory.</summary>
    public long Bytes => _arena.Bytes;

    /// <summary>Whether this adapter is the one now attached (false after another was attached, or after disposal).</summary>
    public bool IsAttached => ReferenceEquals(_weights.AdapterOwner, this);

    /// <summary>
    /// Uploads <paramref name="adapter"/> (e.g. from <see cref="PeftAdapter.Load"/>) and attaches it to
    /// <paramref name="baseWeights"/>, replacing any adapter attached before. A module that does not fit the base's
    /// config is a <see cref="UserException"/>; weights owned by a <see cref="TrainableDecoder"/> are refused with an
    /// <see cref="InvalidOperationException"/>.
    /// </summary>
    public static LoraAttachment Attach(DecoderWeights baseWeights, LoraAdapterWeights adapter)
    {
        ArgumentNullException.ThrowIfNull(baseWeights);
        if (baseWeights.AdapterLocked)
            throw new InvalidOperationException("these weights belong to a trainable decoder, whose own adapter is attached; load the base separately to attach another");
        adapter.Config.Validate();
        var config = baseWeights.Config;
        IndexModules(config, adapter);
        var b = baseWeights.Backend;
        var arena = b.CreateArena("lora adapter");
        try
        {
            float scaling = (float)adapter.Config.Scaling;
            int r = adapter.Config.Rank;
            var slots = new (ProjectionWeights, LoraWeights)[adapter.Modules.Count];
            for (int i = 0; i < slots.Length; i++)
            {
                var m = adapter.Modules[i];
                var a = arena.Allocate(ElementType.F32, r, m.InFeatures);     // [r, in]
                var bT = arena.Allocate(ElementType.F32, m.OutFeatures, r);   // [out, r]
                b.Upload(m.A, a);
                b.Upload(m.B, bT);
                slots[i] = (baseWeights.Layers[m.Layer][m.Target.Projection()], new LoraWeights(a, bT, scaling, 0f));
            }
            var attachment = new LoraAttachment(baseWeights, arena, adapter.Config);
            baseWeights.ClearAdapters();
            foreach (var (projection, lora) in slots) projection.Lora = lora;
            baseWeights.LoraRank = r;
            baseWeights.AdapterOwner = attachment;
            return attachment;
        }
        catch
        {
            arena.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks every module of <paramref name="adapter"/> against <paramref name="config"/> (layer, shapes, no
    /// duplicates, every target of every layer present) and indexes them by (layer, target).
    /// </summary>
    internal static Dictionary<(int, LoraTarget), LoraModuleWeights> IndexModules(ModelConfig config, LoraAdapterWeights adapter)
    {
        adapter.Config.Validate();
        int rank = adapter.Config.Rank;
        var byKey = new Dictionary<(int, LoraTarget), LoraModuleWeights>();
        foreach (var m in adapter.Modules)
        {
            var (outF, inF) = m.Target.Shape(config);
            if (m.Layer < 0 || m.Layer >= config.NumLayers || m.OutFeatures != outF || m.InFeatures != inF || m.A.Length != (long)rank * inF || m.B.Length != (long)outF * rank)
                throw new UserException($"adapter module {m.PeftPrefix}: expected A [{rank}, {inF}] and B [{outF}, {rank}] for this model");
            if (!byKey.TryAdd((m.Layer, m.Target), m)) throw new UserException($"adapter module {m.PeftPrefix} appears twice");
        }
        for (int l = 0; l < config.NumLayers; l++)
            foreach (var t in adapter.Config.Targets)
                if (!byKey.ContainsKey((l, t))) throw new UserException($"adapter: target {t.ModuleName()} has no matrices for layer {l}");
        return byKey;
    }

    /// <summary>Detaches the adapter if it is still the attached one, and frees its memory.</summary>
    public void Dispose()
    {
        if (IsAttached) _weights.ClearAdapters();
        _arena.Dispose();
    }
}
