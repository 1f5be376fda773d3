namespace SharpTune.Models;

/// <summary>What a checkpoint parameter is, independent of its Hugging Face name.</summary>
public enum TensorRole
{
    /// <summary><c>model.embed_tokens.weight</c> [vocab, hidden].</summary>
    Embedding,
    /// <summary><c>input_layernorm.weight</c> [hidden]: RMSNorm before attention.</summary>
    AttentionNorm,
    /// <summary><c>self_attn.q_proj.weight</c> [heads·head_dim, hidden].</summary>
    QueryWeight,
    /// <summary><c>self_attn.k_proj.weight</c> [kv_heads·head_dim, hidden].</summary>
    KeyWeight,
    /// <summary><c>self_attn.v_proj.weight</c> [kv_heads·head_dim, hidden].</summary>
    ValueWeight,
    /// <summary><c>self_attn.q_proj.bias</c> [heads·head_dim] (Qwen2, or attention_bias).</summary>
    QueryBias,
    /// <summary><c>self_attn.k_proj.bias</c> [kv_heads·head_dim].</summary>
    KeyBias,
    /// <summary><c>self_attn.v_proj.bias</c> [kv_heads·head_dim].</summary>
    ValueBias,
    /// <summary><c>self_attn.q_norm.weight</c> [head_dim]: Qwen3's per-head RMSNorm on queries before RoPE.</summary>
    QueryNorm,
    /// <summary><c>self_attn.k_norm.weight</c> [head_dim]: Qwen3's per-head RMSNorm on keys before RoPE.</summary>
    KeyNorm,
    /// <summary><c>self_attn.o_proj.weight</c> [hidden, heads·head_dim].</summary>
    OutputWeight,
    /// <summary><c>self_attn.o_proj.bias</c> [hidden] (Llama/Qwen3 with attention_bias).</summary>
    OutputBias,
    /// <summary><c>post_attention_layernorm.weight</c> [hidden]: RMSNorm before the MLP.</summary>
    MlpNorm,
    /// <summary><c>mlp.gate_proj.weight</c> [intermediate, hidden].</summary>
    GateWeight,
    /// <summary><c>mlp.up_proj.weight</c> [intermediate, hidden].</summary>
    UpWeight,
    /// <summary><c>mlp.down_proj.weight</c> [hidden, intermediate].</summary>
    DownWeight,
    /// <summary><c>model.norm.weight</c> [hidden]: the final RMSNorm.</summary>
    FinalNorm,
    /// <summary><c>lm_head.weight</c> [vocab, hidden]; absent when embeddings are tied.</summary>
    LmHead,
}

/// <summary>How transformers initializes a parameter (see <see cref="ModelInitializer"/>).</summary>
public enum TensorInit
{
    /// <summary>Linear and embedding weights: normal(0, initializer_range).</summary>
    Normal,
    /// <summary>Biases: zero.</summary>
    Zeros,
    /// <summary>RMSNorm weights: one.</summary>
    Ones,
}

/// <summary>One parameter a checkpoint of a given config must hold.</summary>
/// <param name="Name">Hugging Face name, e.g. <c>model.layers.3.mlp.up_proj.weight</c>.</param>
/// <param name="Shape">Expected shape, outermost first (linear weights are [out, in], as in PyTorch).</param>
/// <param name="Role">What it is.</param>
/// <param name="Layer">Decoder layer index, or -1 for the embedding, final norm and LM head.</param>
public sealed record CheckpointTensor(string Name, long[] Shape, TensorRole Role, int Layer)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>How transformers initializes it.</summary>
    public TensorInit Init => Role switch
    {
        TensorRole.AttentionNorm or TensorRole.MlpNorm or TensorRole.FinalNorm or TensorRole.QueryNorm or TensorRole.KeyNorm => TensorInit.Ones,
        TensorRole.QueryBias or TensorRole.KeyBias or TensorRole.ValueBias or TensorRole.OutputBias => TensorInit.Zeros,
        _ => TensorInit.Normal,
    };
}

/// <summary>
/// The parameters of a decoder checkpoint as transformers names and shapes them, derived from a
/// <see cref="ModelConfig"/>: the single table the loader, the validator and the initializer share.
/// </summary>
public sealed class CheckpointLayout
{
    private readonly Dictionary<string, CheckpointTensor> _byName;

    private CheckpointLayout(ModelConfig config, List<CheckpointTensor> tensors)
    {
        Config = config;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The config the layout was derived from.</summary>
    public ModelConfig Config { get; }

    /// <summary>
    /// Every parameter in forward order: embedding; per layer input norm, q/k/v (+ biases), o (+ bias), q/k norms,
    /// post-attention norm, gate/up/down; final norm; LM head unless tied.
    /// </summary>
    public IReadOnlyList<CheckpointTensor> Tensors { get; }

    /// <summary>Total number of parameters (a tied LM head counted once).</summary>
    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    /// <summary>Looks a parameter up by its Hugging Face name.</summary>
    public bool TryGet(string name, out CheckpointTensor tensor) => _byName.TryGetValue(name, out tensor!);

    /// <summary>The parameter with <paramref name="role"/> in <paramref name="layer"/> (-1 for global ones); null when the architecture has none.</summary>
    public CheckpointTensor? Find(TensorRole role, int layer = -1) => Tensors.FirstOrDefault(t => t.Role == role && t.Layer == layer);

    /// <summary>Derives the layout of <paramref name="config"/>.</summary>
    public static CheckpointLayout For(ModelConfig config)
    {
        long hidden = config.HiddenSize, vocab = config.VocabSize;
        var list = new List<CheckpointTensor> { new(TensorName(TensorRole.Embedding), [vocab, hidden], TensorRole.Embedding, -1) };
        for (int l = 0; l < config.NumLayers; l++)
        {
            list.Add(new(TensorName(TensorRole.AttentionNorm, l), [hidden], TensorRole.AttentionNorm, l));
            foreach (var p in AttentionProjections)
            {
                var (outF, inF) = ProjectionShape(config, p);
                list.Add(new(ProjectionWeightName(l, p), [outF, inF], WeightRole(p), l));
                if (HasBias(config, p)) list.Add(new(ProjectionBiasName(l, p), [outF], BiasRole(p), l));
            }
            if (config.QkNorm)
            {
                list.Add(new(TensorName(TensorRole.QueryNorm, l), [config.HeadDim], TensorRole.QueryNorm, l));
                list.Add(new(TensorName(TensorRole.KeyNorm, l), [config.HeadDim], TensorRole.KeyNorm, l));
            }
            list.Add(new(TensorName(TensorRole.MlpNorm, l), [hidden], TensorRole.MlpNorm, l));
            foreach (var p in MlpProjections)
            {
                var (outF, inF) = ProjectionShape(config, p);
                list.Add(new(ProjectionWeightName(l, p), [outF, inF], WeightRole(p), l));
            }
        }
        list.Add(new(TensorName(TensorRole.FinalNorm), [hidden], TensorRole.FinalNorm, -1));
        if (!config.TieWordEmbeddings) list.Add(new(TensorName(TensorRole.LmHead), [vocab, hidden], TensorRole.LmHead, -1));
        return new CheckpointLayout(config, list);
    }

    private static readonly DecoderProjection[] AttentionProjections = [DecoderProjection.QProj, DecoderProjection.KProj, DecoderProjection.VProj, DecoderProjection.OProj];
    private static readonly DecoderProjection[] MlpProjections = [DecoderProjection.GateProj, DecoderProjection.UpProj, DecoderProjection.DownProj];

    /// <summary>Every projection of a layer, in checkpoint order.</summary>
    public static IReadOnlyList<DecoderProjection> Projections { get; } =
        [DecoderProjection.QProj, DecoderProjection.KProj, DecoderProjection.VProj, DecoderProjection.OProj, DecoderProjection.GateProj, DecoderProjection.UpProj, DecoderProjection.DownProj];

    /// <summary>
    /// Whether <paramref name="projection"/> carries a bias in <paramref name="config"/>'s architecture, as transformers'
    /// modeling code builds it: Qwen2's q/k/v always (<c>Qwen2Attention</c> passes <c>bias=True</c> whatever the config
    /// says) and its o_proj never; Llama's and Qwen3's q/k/v/o when <c>attention_bias</c>; Mistral's never; MLP
    /// projections never (<c>mlp_bias</c> is refused when the config is read).
    /// </summary>
    public static bool HasBias(ModelConfig config, DecoderProjection projection) => (config.Architecture, projection) switch
    {
        (_, DecoderProjection.GateProj or DecoderProjection.UpProj or DecoderProjection.DownProj) => false,
        (ModelArchitecture.Qwen2, DecoderProjection.OProj) => false,
        (ModelArchitecture.Qwen2, _) => true,
        (ModelArchitecture.Mistral, _) => false,
        _ => config.AttentionBias,
    };

    /// <summary><c>(out, in)</c> features of <paramref name="projection"/> for <paramref name="config"/>.</summary>
    public static (int Out, int In) ProjectionShape(ModelConfig config, DecoderProjection projection) => projection switch
    {
        DecoderProjection.QProj => (config.QueryDim, config.HiddenSize),
        DecoderProjection.KProj or DecoderProjection.VProj => (config.KvDim, config.HiddenSize),
        DecoderProjection.OProj => (config.HiddenSize, config.QueryDim),
        DecoderProjection.GateProj or DecoderProjection.UpProj => (config.IntermediateSize, config.HiddenSize),
        DecoderProjection.DownProj => (config.HiddenSize, config.IntermediateSize),
        _ => throw new ArgumentOutOfRangeException(nameof(projection)),
    };

    /// <summary>The module name of a projection, e.g. <c>q_proj</c> (PEFT's <c>target_modules</c> entries).</summary>
    public static string ModuleName(DecoderProjection projection) => projection switch
    {
        DecoderProjection.QProj => "q_proj",
        DecoderProjection.KProj => "k_proj",
        DecoderProjection.VProj => "v_proj",
        DecoderProjection.OProj => "o_proj",
        DecoderProjection.GateProj => "gate_proj",
        DecoderProjection.UpProj => "up_proj",
        DecoderProjection.DownProj => "down_proj",
        _ => throw new ArgumentOutOfRangeException(nameof(projection)),
    };

    /// <summary>The path of a projection inside a decoder layer, e.g. <c>self_attn.q_proj</c> or <c>mlp.down_proj</c>.</summary>
    public static string ModulePath(DecoderProjection projection) =>
        (projection <= DecoderProjection.OProj ? "self_attn." : "mlp.") + ModuleName(projection);

    /// <summary>The module path of a projection in the model, e.g. <c>model.layers.0.self_attn.q_proj</c> (PEFT prefixes it with <c>base_model.model.</c>).</summary>
    public static string ModulePath(int layer, DecoderProjection projection) => LayerPrefix(layer) + ModulePath(projection);

    /// <summary>The weight of a projection, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public static string ProjectionWeightName(int layer, DecoderProjection projection) => ModulePath(layer, projection) + ".weight";

    /// <summary>The bias of a projection, e.g. <c>model.layers.0.self_attn.q_proj.bias</c>.</summary>
    public static string ProjectionBiasName(int layer, DecoderProjection projection) => ModulePath(layer, projection) + ".bias";

    /// <summary>
    /// The Hugging Face name of the tensor with <paramref name="role"/> (in <paramref name="layer"/> for per-layer roles):
    /// the one place these names are spelled.
    /// </summary>
    public static string TensorName(TensorRole role, int layer = -1) => role switch
    {
        TensorRole.Embedding => "model.embed_tokens.weight",
        TensorRole.FinalNorm => "model.norm.weight",
        TensorRole.LmHead => "lm_head.weight",
        TensorRole.AttentionNorm => LayerPrefix(layer) + "input_layernorm.weight",
        TensorRole.MlpNorm => LayerPrefix(layer) + "post_attention_layernorm.weight",
        TensorRole.QueryNorm => LayerPrefix(layer) + "self_attn.q_norm.weight",
        TensorRole.KeyNorm => LayerPrefix(layer) + "self_attn.k_norm.weight",
        TensorRole.QueryBias => ProjectionBiasName(layer, DecoderProjection.QProj),
        TensorRole.KeyBias => ProjectionBiasName(layer, DecoderProjection.KProj),
        TensorRole.ValueBias => ProjectionBiasName(layer, DecoderProjection.VProj),
        TensorRole.OutputBias => ProjectionBiasName(layer, DecoderProjection.OProj),
        _ => ProjectionWeightName(layer, ProjectionOf(role)),
    };

    /// <summary>The role of a projection's weight (<see cref="TensorRole.QueryWeight"/> …).</summary>
    public static TensorRole WeightRole(DecoderProjection projection) => projection switch
    {
        DecoderProjection.QProj => TensorRole.QueryWeight,
        DecoderProjection.KProj => TensorRole.KeyWeight,
        DecoderProjection.VProj => TensorRole.ValueWeight,
        DecoderProjection.OProj => TensorRole.OutputWeight,
        DecoderProjection.GateProj => TensorRole.GateWeight,
        DecoderProjection.UpProj => TensorRole.UpWeight,
        DecoderProjection.DownProj => TensorRole.DownWeight,
        _ => throw new ArgumentOutOfRangeException(nameof(projection)),
    };

    /// <summary>The role of a projection's bias; only q, k, v and o can have one.</summary>
    public static TensorRole BiasRole(DecoderProjection projection) => projection switch
    {
        DecoderProjection.QProj => TensorRole.QueryBias,
        DecoderProjection.KProj => TensorRole.KeyBias,
        DecoderProjection.VProj => TensorRole.ValueBias,
        DecoderProjection.OProj => TensorRole.OutputBias,
        _ => throw new ArgumentOutOfRangeException(nameof(projection), $"{ModuleName(projection)} has no bias"),
    };

    private static DecoderProjection ProjectionOf(TensorRole role) => role switch
    {
        TensorRole.QueryWeight => DecoderProjection.QProj,
        TensorRole.KeyWeight => DecoderProjection.KProj,
        TensorRole.ValueWeight => DecoderProjection.VProj,
        TensorRole.OutputWeight => DecoderProjection.OProj,
        TensorRole.GateWeight => DecoderProjection.GateProj,
        TensorRole.UpWeight => DecoderProjection.UpProj,
        TensorRole.DownWeight => DecoderProjection.DownProj,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    private static string LayerPrefix(int layer) =>
        layer >= 0 ? $"model.layers.{layer}." : throw new ArgumentOutOfRangeException(nameof(layer), "a per-layer tensor needs its layer index");

    /// <summary>
    /// Checks that <paramref name="source"/> holds exactly this layout's tensors with their shapes. Accepted as
    /// transformers does: an <c>lm_head.weight</c> in a tied checkpoint (ignored: the head is the embedding) and
    /// the rotary <c>inv_freq</c> buffers old checkpoints carry. Missing, unexpected and mis-shaped tensors are
    /// reported together in one <see cref="UserException"/> naming <paramref name="sourceName"/>.
    /// </summary>
    /// <returns>The names present in the source but ignored.</returns>
    public IReadOnlyList<string> Validate(ITensorSource source, string sourceName)
    {
        var problems = new List<string>();
        var missing = Tensors.Where(t => !source.TryGetInfo(t.Name, out _)).Select(t => t.Name).ToList();
        if (missing.Count > 0) problems.Add($"missing {Listing(missing)}");
        var ignored = new List<string>();
        var unexpected = new List<string>();
        foreach (var name in source.Names)
        {
            if (_byName.ContainsKey(name)) continue;
            if ((Config.TieWordEmbeddings && name == TensorName(TensorRole.LmHead)) || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) ignored.Add(name);
            else unexpected.Add(name);
        }
        if (unexpected.Count > 0) problems.Add($"unexpected {Listing(unexpected)} (not part of a {ModelConfigJson.ClassName(Config.Architecture)} with this config)");
        var misshaped = new List<string>();
        foreach (var t in Tensors)
            if (source.TryGetInfo(t.Name, out var info) && !info.Shape.SequenceEqual(t.Shape))
                misshaped.Add($"{t.Name} is [{string.Join(", ", info.Shape)}], config expects [{string.Join(", ", t.Shape)}]");
        if (Config.TieWordEmbeddings && source.TryGetInfo(TensorName(TensorRole.LmHead), out var head) && !head.Shape.SequenceEqual([(long)Config.VocabSize, Config.HiddenSize]))
            misshaped.Add($"{TensorName(TensorRole.LmHead)} is [{string.Join(", ", head.Shape)}], config expects [{Config.VocabSize}, {Config.HiddenSize}]");
        if (misshaped.Count > 0) problems.Add($"wrong shape: {string.Join("; ", misshaped.Take(5))}{(misshaped.Count > 5 ? $"; and {misshaped.Count - 5} more" : "")}");
        if (problems.Count > 0)
            throw new UserException($"{sourceName}: checkpoint does not match config.json: {string.Join("; ", problems)}");
        return ignored;
    }

    private static string Listing(List<string> names) =>
        $"{names.Count} tensor{(names.Count == 1 ? "" : "s")}: {string.Join(", ", names.Take(5))}{(names.Count > 5 ? $", and {names.Count - 5} more" : "")}";
}
