using System.Diagnostics;
using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>Sums over one micro-batch's supervised tokens, and where its time went.</summary>
/// <param name="LossSum">Σ token cross-entropy (nats).</param>
/// <param name="Correct">Supervised tokens whose argmax is the label.</param>
/// <param name="EntropySum">Σ entropy of the predicted distribution.</param>
/// <param name="Supervised">Number of supervised tokens.</param>
/// <param name="ForwardSeconds">Forward pass, including the loss.</param>
/// <param name="BackwardSeconds">Backward pass (0 for an evaluation).</param>
public readonly record struct BatchStatistics(double LossSum, long Correct, double EntropySum, long Supervised, double ForwardSeconds, double BackwardSeconds)
{
    /// <summary>Adds two micro-batches' sums.</summary>
    public static BatchStatistics operator +(BatchStatistics a, BatchStatistics b) =>
        new(a.LossSum + b.LossSum, a.Correct + b.Correct, a.EntropySum + b.EntropySum, a.Supervised + b.Supervised,
            a.ForwardSeconds + b.ForwardSeconds, a.BackwardSeconds + b.BackwardSeconds);
}

/// <summary>
/// A decoder (Llama, Mistral, Qwen2, Qwen3) set up for training on the engine: LoRA adapters over frozen packed base
/// weights, or every parameter trainable in fp32. <see cref="ForwardBackward"/> runs the forward over a flat token
/// list (sequences see only their own earlier tokens), computes logits and the cross-entropy only at supervised
/// positions (in chunks of <see cref="TrainingOptions.LogitChunk"/> rows), and back-propagates through every layer,
/// adding to the parameter gradients. Every buffer — parameters, gradients, activations, work space — is allocated
/// once, sized by <see cref="TrainingOptions"/>.
/// </summary>
public sealed class TrainableDecoder : IDisposable
{
    private readonly IComputeBackend _b;
    private readonly TrainingOptions _options;
    private readonly DecoderWeights? _base;
    private readonly Arena _params, _grads, _acts;
    private readonly List<TrainableParameter> _parameters = [];
    private readonly TrainableLayer[] _layers;
    private readonly LinearWeight? _frozenEmbedding, _frozenHead;
    private readonly TrainableParameter? _embedding, _head;
    private readonly NormWeight _finalNorm;
    private readonly Tensor _ropeCos, _ropeSin;
    private readonly int _loraRank;

    // Activations: the residual stream before every layer and after the last, and one set of layer intermediates
    // per layer (or one shared set with gradient checkpointing).
    private readonly Tensor[] _resid;                 // [L+1] × [tokens, hidden]
    private readonly LayerActivations[] _layerActs;
    private readonly Tensor _ids, _pos, _kvStart, _kvCount, _supRows, _targets;   // [tokens]
    private readonly Tensor _sel, _selNormed;         // [tokens, hidden]  supervised rows, before and after the final norm
    private readonly Tensor _logits, _stats;          // [chunk, vocab], [chunk, 3]
    // Gradient work space, shared by all layers.
    private readonly Tensor _dResid, _dH, _dSel;      // [tokens, hidden]
    private readonly Tensor _dAtt, _dQ;               // [tokens, heads·headDim]
    private readonly Tensor _dK, _dV;                 // [tokens, kvHeads·headDim]
    private readonly Tensor _dGate, _dUp;             // [tokens, intermediate]
    private readonly Tensor _dU;                      // [tokens, r]
    private readonly Tensor _scratch;                 // [1, tokens · max(in)]  dropped-out LoRA inputs
    private readonly float[] _statsHost;

    private TrainableDecoder(ModelConfig config, IComputeBackend backend, TrainingOptions options, DecoderWeights? baseWeights, LoraConfig? lora,
        Func<TrainableDecoder, (TrainableLayer[] Layers, NormWeight Final, LinearWeight? FrozenEmbedding, LinearWeight? FrozenHead, TrainableParameter? Embedding, TrainableParameter? Head)> build)
    {
        options.Validate();
        Config = config;
        _b = backend;
        _options = options;
        _base = baseWeights;
        Lora = lora;
        _loraRank = lora?.Rank ?? 0;
        _params = backend.CreateArena("trainable parameters");
        _grads = backend.CreateArena("gradients");
        _acts = backend.CreateArena("training activations");
        try
        {
            (_layers, _finalNorm, _frozenEmbedding, _frozenHead, _embedding, _head) = build(this);
            if (baseWeights is not null) { _ropeCos = baseWeights.RopeCos; _ropeSin = baseWeights.RopeSin; }
            else
            {
                int positions = Math.Min(config.MaxPositionEmbeddings, 1 << 17);
                var cos = new float[(long)positions * config.HeadDim / 2];
                var sin = new float[cos.Length];
                RopeTables.Fill(config, positions, cos, sin);
                _ropeCos = Upload(_params, cos, positions, config.HeadDim / 2);
                _ropeSin = Upload(_params, sin, positions, config.HeadDim / 2);
            }
            int n = options.MaxTokens, h = config.HiddenSize;
            _resid = new Tensor[config.NumLayers + 1];
            for (int l = 0; l <= config.NumLayers; l++) _resid[l] = _acts.Allocate(ElementType.F32, n, h);
            _layerActs = new LayerActivations[options.GradientCheckpointing ? 1 : config.NumLayers];
            for (int l = 0; l < _layerActs.Length; l++) _layerActs[l] = new LayerActivations(_acts, config, n, config.QkNorm, _loraRank);
            _ids = _acts.Allocate(ElementType.I32, n, 1);
            _pos = _acts.Allocate(ElementType.I32, n, 1);
            _kvStart = _acts.Allocate(ElementType.I32, n, 1);
            _kvCount = _acts.Allocate(ElementType.I32, n, 1);
            _supRows = _acts.Allocate(ElementType.I32, n, 1);
            _targets = _acts.Allocate(ElementType.I32, n, 1);
            _sel = _acts.Allocate(ElementType.F32, n, h);
            _selNormed = _acts.Allocate(ElementType.F32, n, h);
            int chunk = Math.Min(options.LogitChunk, n);
            _logits = _acts.Allocate(ElementType.F32, chunk, config.VocabSize);
            _stats = _acts.Allocate(ElementType.F32, chunk, 3);
            _statsHost = new float[chunk * 3];
            _dResid = _acts.Allocate(ElementType.F32, n, h);
            _dH = _acts.Allocate(ElementType.F32, n, h);
            _dSel = _acts.Allocate(ElementType.F32, n, h);
            _dAtt = _acts.Allocate(ElementType.F32, n, config.QueryDim);
            _dQ = _acts.Allocate(ElementType.F32, n, config.QueryDim);
            _dK = _acts.Allocate(ElementType.F32, n, config.KvDim);
            _dV = _acts.Allocate(ElementType.F32, n, config.KvDim);
            _dGate = _acts.Allocate(ElementType.F32, n, config.IntermediateSize);
            _dUp = _acts.Allocate(ElementType.F32, n, config.IntermediateSize);
            _dU = _loraRank > 0 ? _acts.Allocate(ElementType.F32, n, _loraRank) : default;
            int maxIn = Math.Max(Math.Max(h, config.QueryDim), config.IntermediateSize);
            _scratch = lora is { Dropout: > 0 } ? _acts.Allocate(ElementType.F32, 1, n * maxIn) : default;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model's configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>The adapter configuration in LoRA mode; null for full fine-tuning.</summary>
    public LoraConfig? Lora { get; }

    /// <summary>LoRA or full.</summary>
    public FineTuningMode Mode => _options.Mode;

    /// <summary>The backend everything runs on.</summary>
    public IComputeBackend Backend => _b;

    /// <summary>Every trainable tensor, in save order (PEFT key order for LoRA, checkpoint order for full).</summary>
    public IReadOnlyList<TrainableParameter> Parameters => _parameters;

    /// <summary>Bytes of the parameter, gradient and activation arenas (the frozen base weights not included).</summary>
    public (long Parameters, long Gradients, long Activations) Bytes => (_params.Bytes, _grads.Bytes, _acts.Bytes);

    /// <summary>
    /// LoRA mode: the frozen base is <paramref name="baseWeights"/> (in the engine's packed layout) and the adapters
    /// start from <paramref name="adapter"/> (e.g. <see cref="LoraInitializer"/>'s or a loaded PEFT adapter).
    /// </summary>
    public static TrainableDecoder CreateLora(ModelConfig config, ITensorSource baseWeights, LoraAdapterWeights adapter, IComputeBackend backend, TrainingOptions options)
    {
        adapter.Config.Validate();
        if (options.Mode != FineTuningMode.Lora) options = options with { Mode = FineTuningMode.Lora };
        var frozen = DecoderWeights.Load(config, baseWeights, backend, options.BaseWeights);
        try
        {
            return new TrainableDecoder(config, backend, options, frozen, adapter.Config, self => self.BuildLora(frozen, adapter));
        }
        catch
        {
            frozen.Dispose();
            throw;
        }
    }

    /// <summary>Full fine-tuning: every tensor of <paramref name="weights"/> becomes an fp32 trainable parameter.</summary>
    public static TrainableDecoder CreateFull(ModelConfig config, ITensorSource weights, IComputeBackend backend, TrainingOptions options)
    {
        CheckpointLayout.For(config).Validate(weights, "checkpoint");
        return new TrainableDecoder(config, backend, options with { Mode = FineTuningMode.Full }, null, null, self => self.BuildFull(weights));
    }

    private Tensor Upload(Arena arena, float[] values, int rows, int cols)
    {
        var t = arena.Allocate(ElementType.F32, rows, cols);
        _b.Upload(values, t);
        return t;
    }

    private TrainableParameter AddParameter(string name, float[] values, int rows, int cols, long[] shape, bool decay)
    {
        var p = new TrainableParameter(name, Upload(_params, values, rows, cols), _grads.Allocate(ElementType.F32, rows, cols), decay, shape);
        _parameters.Add(p);
        return p;
    }

    private (TrainableLayer[], NormWeight, LinearWeight?, LinearWeight?, TrainableParameter?, TrainableParameter?) BuildLora(DecoderWeights w, LoraAdapterWeights adapter)
    {
        var c = Config;
        var byKey = new Dictionary<(int, LoraTarget), LoraModuleWeights>();
        foreach (var m in adapter.Modules)
        {
            var (outF, inF) = m.Target.Shape(c);
            if (m.Layer < 0 || m.Layer >= c.NumLayers || m.OutFeatures != outF || m.InFeatures != inF || m.A.Length != (long)adapter.Config.Rank * inF || m.B.Length != (long)outF * adapter.Config.Rank)
                throw new UserException($"adapter module {m.PeftPrefix}: expected A [{adapter.Config.Rank}, {inF}] and B [{outF}, {adapter.Config.Rank}] for this model");
            if (!byKey.TryAdd((m.Layer, m.Target), m)) throw new UserException($"adapter module {m.PeftPrefix} appears twice");
        }
        float scaling = (float)adapter.Config.Scaling, dropout = (float)adapter.Config.Dropout;
        int r = adapter.Config.Rank;
        var layers = new TrainableLayer[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            var lw = w.Layers[l];
            var projections = new Projection[LoraTargets.All.Count];
            foreach (var t in LoraTargets.All)
            {
                var (outF, inF) = t.Shape(c);
                LoraModule? module = null;
                if (byKey.TryGetValue((l, t), out var m))
                    module = new LoraModule(
                        AddParameter(m.PeftPrefix + ".lora_A.weight", m.A, r, inF, [r, inF], true),
                        AddParameter(m.PeftPrefix + ".lora_B.weight", m.B, outF, r, [outF, r], true), scaling, dropout);
                else if (adapter.Config.Targets.Contains(t))
                    throw new UserException($"adapter: target {t.ModuleName()} has no matrices for layer {l}");
                projections[(int)t] = new Projection
                {
                    In = inF, Out = outF, Lora = module,
                    Frozen = t switch
                    {
                        LoraTarget.QProj => lw.Q, LoraTarget.KProj => lw.K, LoraTarget.VProj => lw.V, LoraTarget.OProj => lw.O,
                        LoraTarget.GateProj => lw.Gate, LoraTarget.UpProj => lw.Up, _ => lw.Down,
                    },
                    FrozenBias = t switch { LoraTarget.QProj => lw.QBias, LoraTarget.KProj => lw.KBias, LoraTarget.VProj => lw.VBias, LoraTarget.OProj => lw.OBias, _ => default },
                };
            }
            layers[l] = new TrainableLayer
            {
                InputNorm = new NormWeight(lw.InputNorm, null),
                PostAttentionNorm = new NormWeight(lw.PostAttentionNorm, null),
                QNorm = c.QkNorm ? new NormWeight(lw.QNorm, null) : null,
                KNorm = c.QkNorm ? new NormWeight(lw.KNorm, null) : null,
                Projections = projections,
            };
        }
        return (layers, new NormWeight(w.FinalNorm, null), w.Embedding, w.LmHead, null, null);
    }

    private (TrainableLayer[], NormWeight, LinearWeight?, LinearWeight?, TrainableParameter?, TrainableParameter?) BuildFull(ITensorSource source)
    {
        var c = Config;
        var layout = CheckpointLayout.For(c);
        var byName = new Dictionary<string, TrainableParameter>(StringComparer.Ordinal);
        foreach (var t in layout.Tensors)
        {
            int rows = t.Shape.Length == 2 ? (int)t.Shape[0] : 1, cols = (int)t.Shape[^1];
            byName[t.Name] = AddParameter(t.Name, source.ReadSingles(t.Name), rows, cols, t.Shape, TrainableParameter.DecaysByName(t.Name));
            source.Release(t.Name);
        }
        TrainableParameter P(string name) => byName[name];
        TrainableParameter? Maybe(string name) => byName.GetValueOrDefault(name);
        NormWeight Norm(string name) => new(P(name).Value, P(name));
        var layers = new TrainableLayer[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var projections = new Projection[LoraTargets.All.Count];
            foreach (var t in LoraTargets.All)
            {
                var (outF, inF) = t.Shape(c);
                string baseName = p + t.ModulePath();
                projections[(int)t] = new Projection { In = inF, Out = outF, Weight = P(baseName + ".weight"), Bias = Maybe(baseName + ".bias") };
            }
            layers[l] = new TrainableLayer
            {
                InputNorm = Norm(p + "input_layernorm.weight"),
                PostAttentionNorm = Norm(p + "post_attention_layernorm.weight"),
                QNorm = c.QkNorm ? Norm(p + "self_attn.q_norm.weight") : null,
                KNorm = c.QkNorm ? Norm(p + "self_attn.k_norm.weight") : null,
                Projections = projections,
            };
        }
        var embedding = P("model.embed_tokens.weight");
        return (layers, Norm("model.norm.weight"), null, null, embedding, c.TieWordEmbeddings ? embedding : P("lm_head.weight"));
    }

    /// <summary>Sets every parameter gradient to zero (before the first micro-batch of an optimizer step).</summary>
    public void ZeroGradients()
    {
        foreach (var p in _parameters) _b.Zero(p.Grad);
    }

    /// <summary>
    /// Forward and backward of one micro-batch: adds <c>gradScale · ∂(Σ token losses)/∂θ</c> to every parameter
    /// gradient (<paramref name="gradScale"/> = 1 / supervised tokens of the whole accumulated batch gives
    /// transformers' mean). <paramref name="dropoutSeed"/> seeds LoRA dropout for this micro-batch.
    /// </summary>
    public BatchStatistics ForwardBackward(TrainingBatch batch, float gradScale, ulong dropoutSeed = 0) => Run(batch, gradScale, dropoutSeed, backward: true, dropout: true);

    /// <summary>The forward pass and the loss statistics only (evaluation: no dropout); gradients are untouched.</summary>
    public BatchStatistics Evaluate(TrainingBatch batch) => Run(batch, 0f, 0, backward: false, dropout: false);

    /// <summary>The training forward (dropout on, seeded as <see cref="ForwardBackward"/> seeds it) without the backward.</summary>
    internal BatchStatistics TrainingForward(TrainingBatch batch, ulong dropoutSeed) => Run(batch, 0f, dropoutSeed, backward: false, dropout: true);

    private bool _dropoutOn;

    private BatchStatistics Run(TrainingBatch batch, float gradScale, ulong dropoutSeed, bool backward, bool dropout)
    {
        _dropoutOn = dropout;
        int n = batch.Tokens;
        if (n > _options.MaxTokens)
            throw new UserException($"training: a micro-batch of {n} tokens exceeds the {_options.MaxTokens} the model was set up for");
        if (n == 0) return default;
        Config.EnsureContextSupported(batch.KvCount.Max(), "training batch");
        var clock = Stopwatch.StartNew();
        var b = _b;
        b.Upload(batch.Ids, _ids.SliceRows(0, n));
        b.Upload(batch.Positions, _pos.SliceRows(0, n));
        b.Upload(batch.KvStart, _kvStart.SliceRows(0, n));
        b.Upload(batch.KvCount, _kvCount.SliceRows(0, n));
        if (_frozenEmbedding is not null) b.Embedding(_ids.SliceRows(0, n), _frozenEmbedding, _resid[0].SliceRows(0, n));
        else b.Embedding(_ids.SliceRows(0, n), _embedding!.Value, _resid[0].SliceRows(0, n));
        for (int l = 0; l < Config.NumLayers; l++) LayerForward(l, n, Acts(l), dropoutSeed);

        int s = batch.SupervisedCount;
        var stats = new BatchStatistics();
        if (s > 0)
        {
            var rows = _supRows.SliceRows(0, s);
            b.Upload(batch.SupervisedTokens, rows);
            b.Upload(batch.Targets, _targets.SliceRows(0, s));
            Tensor sel = _sel.SliceRows(0, s), selN = _selNormed.SliceRows(0, s), dSel = _dSel.SliceRows(0, s);
            b.GatherRows(_resid[^1].SliceRows(0, n), rows, sel);
            b.RmsNorm(sel, _finalNorm.Value, Eps, selN);
            stats = Head(s, selN, backward ? dSel : default, gradScale);
            double forward = clock.Elapsed.TotalSeconds;
            if (!backward) return stats with { ForwardSeconds = forward };
            // dSel holds the gradient at the normed rows; through the final norm, then back into the residual stream.
            b.RmsNormBackward(sel, _finalNorm.Value, Eps, dSel, dSel, accumulate: false, _finalNorm.Grad);
            var dResid = _dResid.SliceRows(0, n);
            b.Zero(dResid);
            b.ScatterAddRows(dSel, rows, dResid);
            for (int l = Config.NumLayers - 1; l >= 0; l--)
            {
                var acts = Acts(l);
                if (_options.GradientCheckpointing) LayerForward(l, n, acts, dropoutSeed);
                LayerBackward(l, n, acts, dropoutSeed);
            }
            if (_embedding is not null) b.EmbeddingBackward(_ids.SliceRows(0, n), dResid, _embedding.Grad);
            return stats with { ForwardSeconds = forward, BackwardSeconds = clock.Elapsed.TotalSeconds - forward };
        }
        return stats with { ForwardSeconds = clock.Elapsed.TotalSeconds };
    }

    private float Eps => (float)Config.RmsNormEps;

    private LayerActivations Acts(int layer) => _layerActs[_options.GradientCheckpointing ? 0 : layer];

    private static ulong Seed(ulong seed, int layer, LoraTarget target) => seed * 0x9E3779B97F4A7C15UL + (ulong)(layer * 8 + (int)target + 1) * 0xD1B54A32D192ED03UL;

    /// <summary>Logits, loss and (when <paramref name="dSel"/> is valid) the gradient at the normed supervised rows, chunk by chunk.</summary>
    private BatchStatistics Head(int s, Tensor selN, Tensor dSel, float gradScale)
    {
        var b = _b;
        double loss = 0, entropy = 0;
        long correct = 0;
        int chunk = _logits.Rows;
        for (int r0 = 0; r0 < s; r0 += chunk)
        {
            int rows = Math.Min(chunk, s - r0);
            Tensor x = selN.SliceRows(r0, rows), logits = _logits.SliceRows(0, rows), st = _stats.SliceRows(0, rows);
            if (_frozenHead is not null) b.Linear(x, _frozenHead, default, logits, accumulate: false);
            else b.MatMul(x, false, _head!.Value, true, logits);
            b.CrossEntropy(logits, _targets.SliceRows(r0, rows), gradScale, logits, st);
            b.Download(st, _statsHost.AsSpan(0, rows * 3));
            for (int i = 0; i < rows; i++)
            {
                loss += _statsHost[i * 3];
                correct += _statsHost[i * 3 + 1] > 0.5f ? 1 : 0;
                entropy += _statsHost[i * 3 + 2];
            }
            if (!dSel.IsValid) continue;
            var d = dSel.SliceRows(r0, rows);
            if (_frozenHead is not null) b.LinearBackward(logits, _frozenHead, d, accumulate: false);
            else
            {
                b.MatMul(logits, false, _head!.Value, false, d);
                b.MatMul(logits, true, x, false, _head.Grad, 1f, accumulate: true);
            }
        }
        return new BatchStatistics(loss, correct, entropy, s, 0, 0);
    }

    private void LayerForward(int l, int n, LayerActivations a, ulong seed)
    {
        var b = _b;
        var c = Config;
        var w = _layers[l];
        Tensor x = _resid[l].SliceRows(0, n), output = _resid[l + 1].SliceRows(0, n);
        Tensor h1 = a.H1.SliceRows(0, n), q = a.Q.SliceRows(0, n), k = a.K.SliceRows(0, n), v = a.V.SliceRows(0, n);
        Tensor att = a.Attention.SliceRows(0, n), mid = a.Mid.SliceRows(0, n), h2 = a.H2.SliceRows(0, n);
        Tensor gate = a.Gate.SliceRows(0, n), up = a.Up.SliceRows(0, n), act = a.Act.SliceRows(0, n);
        Tensor pos = _pos.SliceRows(0, n);
        b.RmsNorm(x, w.InputNorm.Value, Eps, h1);
        Tensor qOut = c.QkNorm ? a.QRaw.SliceRows(0, n) : q, kOut = c.QkNorm ? a.KRaw.SliceRows(0, n) : k;
        Project(w, LoraTarget.QProj, h1, qOut, false, a, n, seed, l);
        Project(w, LoraTarget.KProj, h1, kOut, false, a, n, seed, l);
        Project(w, LoraTarget.VProj, h1, v, false, a, n, seed, l);
        if (c.QkNorm)
        {
            b.RmsNorm(qOut.Reshape(n * c.NumHeads, c.HeadDim), w.QNorm!.Value, Eps, q.Reshape(n * c.NumHeads, c.HeadDim));
            b.RmsNorm(kOut.Reshape(n * c.NumKvHeads, c.HeadDim), w.KNorm!.Value, Eps, k.Reshape(n * c.NumKvHeads, c.HeadDim));
        }
        b.Rope(q, pos, _ropeCos, _ropeSin, c.HeadDim, q);
        b.Rope(k, pos, _ropeCos, _ropeSin, c.HeadDim, k);
        b.Attention(q, k, v, _kvStart.SliceRows(0, n), _kvCount.SliceRows(0, n), c.NumHeads, c.NumKvHeads, 1f / MathF.Sqrt(c.HeadDim), att, a.Lse.SliceRows(0, n));
        b.Copy(x, mid);
        Project(w, LoraTarget.OProj, att, mid, true, a, n, seed, l);
        b.RmsNorm(mid, w.PostAttentionNorm.Value, Eps, h2);
        Project(w, LoraTarget.GateProj, h2, gate, false, a, n, seed, l);
        Project(w, LoraTarget.UpProj, h2, up, false, a, n, seed, l);
        b.SwiGlu(gate, up, act);
        b.Copy(mid, output);
        Project(w, LoraTarget.DownProj, act, output, true, a, n, seed, l);
    }

    private void Project(TrainableLayer w, LoraTarget t, Tensor x, Tensor y, bool accumulate, LayerActivations a, int n, ulong seed, int layer) =>
        w[t].Forward(_b, x, y, accumulate, Lu(a, t, n), _scratch, Seed(seed, layer, t), _dropoutOn);

    private Tensor Lu(LayerActivations a, LoraTarget t, int n) => a.LoraU[(int)t].IsValid ? a.LoraU[(int)t].SliceRows(0, n) : default;

    private void ProjectBack(TrainableLayer w, LoraTarget t, Tensor x, Tensor dy, Tensor dx, bool accumulateDx, LayerActivations a, int n, ulong seed, int layer) =>
        w[t].Backward(_b, x, dy, dx, accumulateDx, Lu(a, t, n), _dU.IsValid ? _dU.SliceRows(0, n) : default, _scratch, Seed(seed, layer, t));

    /// <summary>From the gradient at the layer's output (in <c>_dResid</c>) to the gradient at its input (in place).</summary>
    private void LayerBackward(int l, int n, LayerActivations a, ulong seed)
    {
        var b = _b;
        var c = Config;
        var w = _layers[l];
        Tensor x = _resid[l].SliceRows(0, n), dResid = _dResid.SliceRows(0, n), dH = _dH.SliceRows(0, n);
        Tensor h1 = a.H1.SliceRows(0, n), q = a.Q.SliceRows(0, n), k = a.K.SliceRows(0, n), v = a.V.SliceRows(0, n);
        Tensor att = a.Attention.SliceRows(0, n), mid = a.Mid.SliceRows(0, n), h2 = a.H2.SliceRows(0, n);
        Tensor gate = a.Gate.SliceRows(0, n), up = a.Up.SliceRows(0, n), act = a.Act.SliceRows(0, n);
        Tensor dGate = _dGate.SliceRows(0, n), dUp = _dUp.SliceRows(0, n), dAtt = _dAtt.SliceRows(0, n);
        Tensor dQ = _dQ.SliceRows(0, n), dK = _dK.SliceRows(0, n), dV = _dV.SliceRows(0, n), pos = _pos.SliceRows(0, n);

        // MLP: output = mid + down(silu(gate)·up).
        ProjectBack(w, LoraTarget.DownProj, act, dResid, dGate, false, a, n, seed, l);     // dGate ← d act
        b.SwiGluBackward(gate, up, dGate, dGate, dUp);
        ProjectBack(w, LoraTarget.GateProj, h2, dGate, dH, false, a, n, seed, l);
        ProjectBack(w, LoraTarget.UpProj, h2, dUp, dH, true, a, n, seed, l);
        b.RmsNormBackward(mid, w.PostAttentionNorm.Value, Eps, dH, dResid, accumulate: true, w.PostAttentionNorm.Grad);

        // Attention: mid = x + o(attention(rope(norm(q(h1))), rope(norm(k(h1))), v(h1))).
        ProjectBack(w, LoraTarget.OProj, att, dResid, dAtt, false, a, n, seed, l);
        b.AttentionBackward(q, k, v, att, dAtt, a.Lse.SliceRows(0, n), _kvStart.SliceRows(0, n), _kvCount.SliceRows(0, n),
            c.NumHeads, c.NumKvHeads, 1f / MathF.Sqrt(c.HeadDim), dQ, dK, dV);
        b.RopeBackward(dQ, pos, _ropeCos, _ropeSin, c.HeadDim, dQ);
        b.RopeBackward(dK, pos, _ropeCos, _ropeSin, c.HeadDim, dK);
        if (c.QkNorm)
        {
            b.RmsNormBackward(a.QRaw.SliceRows(0, n).Reshape(n * c.NumHeads, c.HeadDim), w.QNorm!.Value, Eps,
                dQ.Reshape(n * c.NumHeads, c.HeadDim), dQ.Reshape(n * c.NumHeads, c.HeadDim), accumulate: false, w.QNorm.Grad);
            b.RmsNormBackward(a.KRaw.SliceRows(0, n).Reshape(n * c.NumKvHeads, c.HeadDim), w.KNorm!.Value, Eps,
                dK.Reshape(n * c.NumKvHeads, c.HeadDim), dK.Reshape(n * c.NumKvHeads, c.HeadDim), accumulate: false, w.KNorm.Grad);
        }
        ProjectBack(w, LoraTarget.QProj, h1, dQ, dH, false, a, n, seed, l);
        ProjectBack(w, LoraTarget.KProj, h1, dK, dH, true, a, n, seed, l);
        ProjectBack(w, LoraTarget.VProj, h1, dV, dH, true, a, n, seed, l);
        b.RmsNormBackward(x, w.InputNorm.Value, Eps, dH, dResid, accumulate: true, w.InputNorm.Grad);
    }

    /// <summary>
    /// Floating-point operations of one <see cref="ForwardBackward"/> of <paramref name="batch"/> as this engine computes
    /// it (multiply-adds count 2): every linear layer forward and its input gradient, weight gradients of trainable
    /// weights, the LoRA products, attention (S = QKᵀ and PV forward; the backward recomputes S and forms dP, dQ, dK,
    /// dV) and the LM head at the supervised rows only. Elementwise work is not counted.
    /// </summary>
    public double StepFlops(TrainingBatch batch)
    {
        var c = Config;
        double n = batch.Tokens, s = batch.SupervisedCount, flops = 0;
        for (int l = 0; l < c.NumLayers; l++)
            foreach (var t in LoraTargets.All)
            {
                var p = _layers[l][t];
                double mac = (double)p.In * p.Out;
                flops += 2 * n * mac * (p.Weight is null ? 2 : 3);                 // forward, input gradient (+ weight gradient)
                if (p.Lora is { } lora) flops += 2 * n * lora.Rank * (p.In + p.Out) * 3; // u, y += s·u·Bᵀ; dB, du, dA, dx
            }
        double keys = batch.KvCount.Sum(k => (double)k);
        flops += c.NumLayers * 2.0 * keys * c.HeadDim * c.NumHeads * (2 + 5);
        double head = 2.0 * s * c.VocabSize * c.HiddenSize;
        flops += head * (_head is null ? 2 : 3);
        return flops;
    }

    /// <summary>The LoRA matrices as they are now, on the host (for saving in PEFT's layout).</summary>
    public LoraAdapterWeights ExportAdapter()
    {
        if (Lora is null) throw new InvalidOperationException("not a LoRA model");
        var modules = new List<LoraModuleWeights>();
        for (int l = 0; l < _layers.Length; l++)
            foreach (var t in LoraTargets.All)
                if (_layers[l][t].Lora is { } m)
                {
                    var (outF, inF) = t.Shape(Config);
                    modules.Add(new LoraModuleWeights(l, t, outF, inF, Download(m.A.Value), Download(m.B.Value)));
                }
        return new LoraAdapterWeights(Lora, modules);
    }

    /// <summary>Every parameter's current value on the host, under its saved name (full mode: a checkpoint's tensors).</summary>
    public InMemoryTensorSource ExportParameters()
    {
        var source = new InMemoryTensorSource();
        foreach (var p in _parameters) source.Add(p.Name, p.Shape, Download(p.Value));
        return source;
    }

    /// <summary>Overwrites parameter values from <paramref name="source"/> (by name; every parameter must be present with its shape).</summary>
    public void ImportParameters(ITensorSource source)
    {
        foreach (var p in _parameters)
        {
            if (!source.TryGetInfo(p.Name, out var info) || !info.Shape.SequenceEqual(p.Shape))
                throw new UserException($"parameters: tensor '{p.Name}' [{string.Join(", ", p.Shape)}] is missing or has another shape");
            _b.Upload(source.ReadSingles(p.Name), p.Value);
        }
    }

    internal float[] Download(Tensor t) => _b.DownloadArray(t);

    /// <inheritdoc />
    public void Dispose()
    {
        _acts?.Dispose();
        _grads?.Dispose();
        _params?.Dispose();
        _base?.Dispose();
    }
}
