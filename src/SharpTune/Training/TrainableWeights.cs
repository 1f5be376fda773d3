using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// The parameters of a <see cref="TrainableDecoder"/> and how they are built, exported and imported. LoRA: the frozen
/// base loaded packed (<see cref="DecoderWeights.Load"/>) with the trainable adapter attached to its projections;
/// full: every checkpoint tensor an fp32 parameter, seen by the forward through a <see cref="DecoderWeights"/> view.
/// Either way <see cref="Weights"/> is what the shared layer forward (and an inference view) reads, and
/// <see cref="Layers"/> holds the gradients the backward adds to.
/// </summary>
internal sealed class TrainableWeights : IDisposable
{
    private readonly Arena _params, _grads;
    private readonly List<TrainableParameter> _parameters = [];
    private readonly DecoderWeights? _frozenBase;

    private TrainableWeights(ModelConfig config, IComputeBackend backend, LoraConfig? lora, DecoderWeights? frozenBase)
    {
        Config = config;
        Backend = backend;
        Lora = lora;
        _frozenBase = frozenBase;
        _params = backend.CreateArena("trainable parameters");
        _grads = backend.CreateArena("gradients");
    }

    public ModelConfig Config { get; }
    public IComputeBackend Backend { get; }
    public LoraConfig? Lora { get; }
    public DecoderWeights Weights { get; private set; } = null!;
    public TrainableLayer[] Layers { get; private set; } = [];
    public NormWeight FinalNorm { get; private set; } = null!;
    public TrainableParameter? Embedding { get; private set; }   // full mode
    public TrainableParameter? Head { get; private set; }        // full mode (the embedding when tied)
    public IReadOnlyList<TrainableParameter> Parameters => _parameters;
    public long ParameterBytes => _params.Bytes;
    public long GradientBytes => _grads.Bytes;

    /// <summary>LoRA: the frozen base from <paramref name="baseWeights"/>, the adapters starting from <paramref name="adapter"/>.</summary>
    public static TrainableWeights ForLora(ModelConfig config, ITensorSource baseWeights, LoraAdapterWeights adapter, IComputeBackend backend, WeightStorage storage)
    {
        var modules = LoraAttachment.IndexModules(config, adapter);
        var frozen = DecoderWeights.Load(config, baseWeights, backend, storage);
        TrainableWeights? w = null;
        try
        {
            w = new TrainableWeights(config, backend, adapter.Config, frozen);
            w.BuildLora(modules);
            return w;
        }
        catch
        {
            if (w is not null) w.Dispose();
            else frozen.Release();
            throw;
        }
    }

    /// <summary>Full fine-tuning: every tensor of <paramref name="source"/> becomes an fp32 parameter.</summary>
    public static TrainableWeights ForFull(ModelConfig config, ITensorSource source, IComputeBackend backend)
    {
        CheckpointLayout.For(config).Validate(source, "checkpoint");
        var w = new TrainableWeights(config, backend, null, null);
        try
        {
            w.BuildFull(source);
            return w;
        }
        catch
        {
            w.Dispose();
            throw;
        }
    }

    private TrainableParameter AddParameter(string name, float[] values, int rows, int cols, long[] shape, bool decay)
    {
        var value = _params.Allocate(ElementType.F32, rows, cols);
        Backend.Upload(values, value);
        var p = new TrainableParameter(name, value, _grads.Allocate(ElementType.F32, rows, cols), decay, shape);
        _parameters.Add(p);
        return p;
    }

    private void BuildLora(Dictionary<(int, LoraTarget), LoraModuleWeights> modules)
    {
        var c = Config;
        var w = _frozenBase!;
        var lora = Lora!;
        float scaling = (float)lora.Scaling, dropout = (float)lora.Dropout;
        int r = lora.Rank;
        var layers = new TrainableLayer[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            var lw = w.Layers[l];
            var projections = new Projection[LoraTargets.All.Count];
            foreach (var t in LoraTargets.All)
            {
                var (outF, inF) = t.Shape(c);
                LoraModule? module = null;
                var pw = lw[t.Projection()];
                if (modules.TryGetValue((l, t), out var m))
                {
                    module = new LoraModule(
                        AddParameter(PeftAdapter.KeyA(m.PeftPrefix), m.A, r, inF, [r, inF], true),
                        AddParameter(PeftAdapter.KeyB(m.PeftPrefix), m.B, outF, r, [outF, r], true), scaling, dropout);
                    pw.Lora = new LoraWeights(module.A.Value, module.B.Value, scaling, dropout);
                }
                projections[(int)t] = new Projection { Weights = pw, Lora = module };
            }
            layers[l] = new TrainableLayer
            {
                Weights = lw,
                InputNorm = new NormWeight(lw.InputNorm, null),
                PostAttentionNorm = new NormWeight(lw.PostAttentionNorm, null),
                QNorm = c.QkNorm ? new NormWeight(lw.QNorm, null) : null,
                KNorm = c.QkNorm ? new NormWeight(lw.KNorm, null) : null,
                Projections = projections,
            };
        }
        // The adapter in the base's LoRA slots is the one being trained: nobody else may swap it.
        w.LoraRank = r;
        w.AdapterOwner = this;
        w.AdapterLocked = true;
        Layers = layers;
        FinalNorm = new NormWeight(w.FinalNorm, null);
        Weights = w;
    }

    private void BuildFull(ITensorSource source)
    {
        var c = Config;
        var byName = new Dictionary<string, TrainableParameter>(StringComparer.Ordinal);
        foreach (var t in CheckpointLayout.For(c).Tensors)
        {
            int rows = t.Shape.Length == 2 ? (int)t.Shape[0] : 1, cols = (int)t.Shape[^1];
            byName[t.Name] = AddParameter(t.Name, source.ReadSingles(t.Name), rows, cols, t.Shape, TrainableParameter.DecaysByName(t.Name));
            source.Release(t.Name);
        }
        TrainableParameter P(TensorRole role, int layer = -1) => byName[CheckpointLayout.TensorName(role, layer)];
        NormWeight Norm(TensorRole role, int layer = -1) => new(P(role, layer).Value, P(role, layer));
        var layers = new TrainableLayer[c.NumLayers];
        var weightLayers = new DecoderLayerWeights[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            var projections = new Projection[LoraTargets.All.Count];
            var weights = new ProjectionWeights[LoraTargets.All.Count];
            foreach (var t in LoraTargets.All)
            {
                var p = t.Projection();
                var (outF, inF) = t.Shape(c);
                var weight = byName[CheckpointLayout.ProjectionWeightName(l, p)];
                var bias = CheckpointLayout.HasBias(c, p) ? byName[CheckpointLayout.ProjectionBiasName(l, p)] : null;
                weights[(int)t] = new ProjectionWeights { In = inF, Out = outF, Dense = weight.Value, Bias = bias?.Value ?? default };
                projections[(int)t] = new Projection { Weights = weights[(int)t], Weight = weight, Bias = bias };
            }
            var inputNorm = Norm(TensorRole.AttentionNorm, l);
            var postNorm = Norm(TensorRole.MlpNorm, l);
            NormWeight? qNorm = c.QkNorm ? Norm(TensorRole.QueryNorm, l) : null, kNorm = c.QkNorm ? Norm(TensorRole.KeyNorm, l) : null;
            weightLayers[l] = new DecoderLayerWeights
            {
                InputNorm = inputNorm.Value, PostAttentionNorm = postNorm.Value,
                QNorm = qNorm?.Value ?? default, KNorm = kNorm?.Value ?? default, Projections = weights,
            };
            layers[l] = new TrainableLayer
            {
                Weights = weightLayers[l], InputNorm = inputNorm, PostAttentionNorm = postNorm, QNorm = qNorm, KNorm = kNorm, Projections = projections,
            };
        }
        Embedding = P(TensorRole.Embedding);
        Head = c.TieWordEmbeddings ? Embedding : P(TensorRole.LmHead);
        FinalNorm = Norm(TensorRole.FinalNorm);
        Layers = layers;
        var embedding = new ProjectionWeights { In = c.HiddenSize, Out = c.VocabSize, Dense = Embedding.Value };
        var view = new DecoderWeights(c, Backend, arena: null)
        {
            Embedding = embedding,
            LmHead = c.TieWordEmbeddings ? embedding : new ProjectionWeights { In = c.HiddenSize, Out = c.VocabSize, Dense = Head.Value },
            FinalNorm = FinalNorm.Value,
            Layers = weightLayers,
            AdapterLocked = true,
        };
        (view.RopeCos, view.RopeSin) = RopeTables.Upload(c, 0, Backend, _params);
        Weights = view;
    }

    /// <summary>The LoRA matrices as they are now, on the host (for saving in PEFT's layout).</summary>
    public LoraAdapterWeights ExportAdapter()
    {
        if (Lora is null) throw new InvalidOperationException("not a LoRA model");
        var modules = new List<LoraModuleWeights>();
        for (int l = 0; l < Layers.Length; l++)
            foreach (var t in LoraTargets.All)
                if (Layers[l][t].Lora is { } m)
                {
                    var (outF, inF) = t.Shape(Config);
                    modules.Add(new LoraModuleWeights(l, t, outF, inF, Backend.DownloadArray(m.A.Value), Backend.DownloadArray(m.B.Value)));
                }
        return new LoraAdapterWeights(Lora, modules);
    }

    /// <summary>Every parameter's current value on the host, under its saved name.</summary>
    public InMemoryTensorSource ExportParameters()
    {
        var source = new InMemoryTensorSource();
        foreach (var p in _parameters) source.Add(p.Name, p.Shape, Backend.DownloadArray(p.Value));
        return source;
    }

    /// <summary>Overwrites parameter values from <paramref name="source"/> (by name; every parameter must be present with its shape).</summary>
    public void ImportParameters(ITensorSource source)
    {
        foreach (var p in _parameters)
        {
            if (!source.TryGetInfo(p.Name, out var info) || !info.Shape.SequenceEqual(p.Shape))
                throw new UserException($"parameters: tensor '{p.Name}' [{string.Join(", ", p.Shape)}] is missing or has another shape");
            Backend.Upload(source.ReadSingles(p.Name), p.Value);
        }
    }

    public void Dispose()
    {
        _grads.Dispose();
        _params.Dispose();
        _frozenBase?.Release();
    }
}
