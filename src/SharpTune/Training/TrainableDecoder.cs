using System.Diagnostics;
using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// A decoder (Llama, Mistral, Qwen2, Qwen3) set up for training on the engine: LoRA adapters over frozen packed base
/// weights, or every parameter trainable in fp32. <see cref="ForwardBackward"/> runs the forward over a flat token
/// list (sequences see only their own earlier tokens) — each layer is <see cref="DecoderLayer"/>'s forward, the one
/// inference runs — computes logits and the cross-entropy only at supervised positions (in chunks of
/// <see cref="TrainingOptions.LogitChunk"/> rows), and back-propagates through every layer, adding to the parameter
/// gradients. Every buffer — parameters, gradients, activations, work space — is allocated once, sized by
/// <see cref="TrainingOptions"/>. The parts: <see cref="TrainableWeights"/> (parameters, import/export),
/// <see cref="TrainingActivations"/> (allocation), <see cref="DecoderBackward"/>, <see cref="LossHead"/> and
/// <see cref="StepFlopCounter"/>. <see cref="CreateInferenceModel"/> generates from the live parameters mid-training.
/// </summary>
public sealed class TrainableDecoder : IDisposable
{
    private readonly TrainingOptions _options;
    private readonly TrainableWeights _weights;
    private readonly TrainingActivations _acts = null!;
    private readonly LossHead _head = null!;

    private TrainableDecoder(TrainingOptions options, TrainableWeights weights)
    {
        _options = options;
        _weights = weights;
        try
        {
            _acts = new TrainingActivations(weights.Config, weights.Backend, options, weights.Lora);
            _head = new LossHead(weights.Backend, _acts.Arena, weights.Config, Math.Min(options.LogitChunk, options.MaxTokens), weights.Weights.LmHead, weights.Head);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model's configuration.</summary>
    public ModelConfig Config => _weights.Config;

    /// <summary>The adapter configuration in LoRA mode; null for full fine-tuning.</summary>
    public LoraConfig? Lora => _weights.Lora;

    /// <summary>LoRA or full.</summary>
    public FineTuningMode Mode => _options.Mode;

    /// <summary>The backend everything runs on.</summary>
    public IComputeBackend Backend => _weights.Backend;

    /// <summary>Every trainable tensor, in save order (PEFT key order for LoRA, checkpoint order for full).</summary>
    public IReadOnlyList<TrainableParameter> Parameters => _weights.Parameters;

    /// <summary>Bytes of the parameter, gradient and activation arenas (the frozen base weights not included).</summary>
    public (long Parameters, long Gradients, long Activations) Bytes => (_weights.ParameterBytes, _weights.GradientBytes, _acts?.Bytes ?? 0);

    /// <summary>Bytes of the frozen base weights' arena (LoRA; 0 in full fine-tuning, whose weights are the parameters).</summary>
    public long BaseWeightBytes => Mode == FineTuningMode.Lora ? _weights.Weights.Bytes : 0;

    /// <summary>
    /// LoRA mode: the frozen base is <paramref name="baseWeights"/> (in the engine's packed layout) and the adapters
    /// start from <paramref name="adapter"/> (e.g. <see cref="LoraInitializer"/>'s or a loaded PEFT adapter).
    /// </summary>
    public static TrainableDecoder CreateLora(ModelConfig config, ITensorSource baseWeights, LoraAdapterWeights adapter, IComputeBackend backend, TrainingOptions options)
    {
        adapter.Config.Validate();
        if (options.Mode != FineTuningMode.Lora) options = options with { Mode = FineTuningMode.Lora };
        options.Validate();
        var weights = TrainableWeights.ForLora(config, baseWeights, adapter, backend, options.BaseWeights);
        return new TrainableDecoder(options, weights);
    }

    /// <summary>Full fine-tuning: every tensor of <paramref name="weights"/> becomes an fp32 trainable parameter.</summary>
    public static TrainableDecoder CreateFull(ModelConfig config, ITensorSource weights, IComputeBackend backend, TrainingOptions options)
    {
        options = options with { Mode = FineTuningMode.Full };
        options.Validate();
        return new TrainableDecoder(options, TrainableWeights.ForFull(config, weights, backend));
    }

    /// <summary>
    /// An inference model over this decoder's live parameters — the frozen base with the adapter being trained attached
    /// unmerged (LoRA), or the fp32 parameters themselves (full) — without copying them, for generation mid-training
    /// (<see cref="Inference.Generator"/>): it sees every optimizer step at once, allocates only its own activations
    /// (chunks of <paramref name="maxTokens"/> tokens, <paramref name="maxLogitRows"/> logit rows) and leaves the
    /// training state untouched, so training continues as if it had not run. Dispose it before this decoder; LoRA
    /// dropout is off in it, as in <see cref="Evaluate"/>.
    /// </summary>
    public DecoderModel CreateInferenceModel(int maxTokens = 512, int maxLogitRows = 64) => new(_weights.Weights, maxTokens, maxLogitRows);

    /// <summary>Sets every parameter gradient to zero (before the first micro-batch of an optimizer step).</summary>
    public void ZeroGradients()
    {
        foreach (var p in _weights.Parameters) Backend.Zero(p.Grad);
    }

    /// <summary>
    /// Forward and backward of one micro-batch: adds <c>gradScale · ∂(Σ token losses)/∂θ</c> to every parameter
    /// gradient (<paramref name="gradScale"/> = 1 / supervised tokens of the whole accumulated batch gives
    /// transformers' mean). <paramref name="dropoutSeed"/> seeds LoRA dropout for this micro-batch.
    /// </summary>
    public BatchStatistics ForwardBackward(TrainingBatch batch, float gradScale, ulong dropoutSeed = 0)
    {
        BeginStatistics();
        return WithStatistics(ForwardBackwardPending(batch, gradScale, dropoutSeed));
    }

    /// <summary>The forward pass and the loss statistics only (evaluation: no dropout); gradients are untouched.</summary>
    public BatchStatistics Evaluate(TrainingBatch batch)
    {
        BeginStatistics();
        return WithStatistics(Run(batch, 0f, 0, backward: false, dropout: false));
    }

    /// <summary>The training forward (dropout on, seeded as <see cref="ForwardBackward"/> seeds it) without the backward.</summary>
    internal BatchStatistics TrainingForward(TrainingBatch batch, ulong dropoutSeed)
    {
        BeginStatistics();
        return WithStatistics(Run(batch, 0f, dropoutSeed, backward: false, dropout: true));
    }

    /// <summary>Zeroes the loss totals the LM head accumulates on the backend.</summary>
    internal void BeginStatistics() => _head.ResetTotals();

    /// <summary>
    /// <see cref="ForwardBackward"/> without reading the loss statistics back: they accumulate on the backend until
    /// <see cref="WithStatistics"/> (one download for all micro-batches of a step). Returns the timings and counts.
    /// </summary>
    internal BatchStatistics ForwardBackwardPending(TrainingBatch batch, float gradScale, ulong dropoutSeed) =>
        Run(batch, gradScale, dropoutSeed, backward: true, dropout: true);

    /// <summary><paramref name="timings"/> with the loss sums accumulated since <see cref="BeginStatistics"/>.</summary>
    internal BatchStatistics WithStatistics(BatchStatistics timings)
    {
        var (loss, correct, entropy) = _head.ReadTotals();
        return timings with { LossSum = loss, Correct = correct, EntropySum = entropy };
    }

    /// <summary>Forward (and backward); the loss sums go to the head's totals, the result holds counts and timings.</summary>
    private BatchStatistics Run(TrainingBatch batch, float gradScale, ulong dropoutSeed, bool backward, bool dropout)
    {
        int n = batch.Tokens;
        if (n > _options.MaxTokens)
            throw new UserException($"training: a micro-batch of {n} tokens exceeds the {_options.MaxTokens} the model was set up for");
        if (n == 0) return default;
        var c = Config;
        c.EnsureContextSupported(batch.KvCount.Max(), "training batch");
        var clock = Stopwatch.StartNew();
        var b = Backend;
        var a = _acts;
        var w = _weights.Weights;
        var lora = new LoraDropout(dropout, dropoutSeed, a.Scratch);
        Tensor ids = a.Ids.SliceRows(0, n), pos = a.Positions.SliceRows(0, n);
        b.Upload(batch.Ids, ids);
        b.Upload(batch.Positions, pos);
        b.Upload(batch.KvStart, a.KvStart.SliceRows(0, n));
        b.Upload(batch.KvCount, a.KvCount.SliceRows(0, n));
        var attention = LayerAttention.WithinBatch(a.KvStart.SliceRows(0, n), a.KvCount.SliceRows(0, n));
        w.Embedding.Lookup(b, ids, a.Residual[0].SliceRows(0, n));
        for (int l = 0; l < c.NumLayers; l++) ForwardLayer(l, n, pos, attention, lora);

        int s = batch.SupervisedCount;
        if (s == 0) return new BatchStatistics(0, 0, 0, 0, clock.Elapsed.TotalSeconds, 0);
        float eps = (float)c.RmsNormEps;
        var rows = a.SupervisedRows.SliceRows(0, s);
        b.Upload(batch.SupervisedTokens, rows);
        b.Upload(batch.Targets, a.Targets.SliceRows(0, s));
        Tensor sel = a.Selected.SliceRows(0, s), selN = a.SelectedNormed.SliceRows(0, s), dSel = a.DSelected.SliceRows(0, s);
        b.GatherRows(a.Residual[^1].SliceRows(0, n), rows, sel);
        b.RmsNorm(sel, w.FinalNorm, eps, selN);
        _head.Run(s, selN, a.Targets.SliceRows(0, s), backward ? dSel : default, gradScale);
        double forward = clock.Elapsed.TotalSeconds;
        if (!backward) return new BatchStatistics(0, 0, 0, s, forward, 0);

        // dSel holds the gradient at the normed rows; through the final norm, then back into the residual stream.
        var finalNorm = _weights.FinalNorm;
        b.RmsNormBackward(sel, finalNorm.Value, eps, dSel, dSel, accumulate: false, finalNorm.Grad);
        var dResid = a.DResidual.SliceRows(0, n);
        b.Zero(dResid);
        b.ScatterAddRows(dSel, rows, dResid);
        for (int l = c.NumLayers - 1; l >= 0; l--)
        {
            if (_options.GradientCheckpointing) ForwardLayer(l, n, pos, attention, lora);
            DecoderBackward.Layer(b, c, _weights.Layers[l], w.RopeCos, w.RopeSin, l, a.Residual[l].SliceRows(0, n), a.For(l), a, n, lora);
        }
        if (_weights.Embedding is { } embedding) b.EmbeddingBackward(ids, dResid, embedding.Grad);
        return new BatchStatistics(0, 0, 0, s, forward, clock.Elapsed.TotalSeconds - forward);
    }

    private void ForwardLayer(int l, int n, Tensor positions, in LayerAttention attention, in LoraDropout lora)
    {
        var w = _weights.Weights;
        DecoderLayer.Forward(Backend, Config, w.Layers[l], w.RopeCos, w.RopeSin, l,
            _acts.Residual[l].SliceRows(0, n), _acts.Residual[l + 1].SliceRows(0, n), _acts.For(l), n, positions, attention, lora);
    }

    /// <summary>
    /// Floating-point operations of one <see cref="ForwardBackward"/> of <paramref name="batch"/> as this engine computes
    /// it (multiply-adds count 2): every linear layer forward and its input gradient, weight gradients of trainable
    /// weights, the LoRA products, attention (S = QKᵀ and PV forward; the backward recomputes S and forms dP, dQ, dK,
    /// dV) and the LM head at the supervised rows only. Elementwise work is not counted.
    /// </summary>
    public double StepFlops(TrainingBatch batch) => StepFlopCounter.Count(Config, _weights.Layers, _weights.Head is not null, batch);

    /// <summary>The LoRA matrices as they are now, on the host (for saving in PEFT's layout).</summary>
    public LoraAdapterWeights ExportAdapter() => _weights.ExportAdapter();

    /// <summary>Every parameter's current value on the host, under its saved name (full mode: a checkpoint's tensors).</summary>
    public InMemoryTensorSource ExportParameters() => _weights.ExportParameters();

    /// <summary>Overwrites parameter values from <paramref name="source"/> (by name; every parameter must be present with its shape).</summary>
    public void ImportParameters(ITensorSource source) => _weights.ImportParameters(source);

    internal float[] Download(Tensor t) => Backend.DownloadArray(t);

    /// <inheritdoc />
    public void Dispose()
    {
        _acts?.Dispose();
        _weights.Dispose();
    }
}
