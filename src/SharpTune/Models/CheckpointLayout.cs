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
        long hidden = config.HiddenSize, q = config.QueryDim, kv = config.KvDim, inter = config.IntermediateSize, vocab = config.VocabSize;
        var list = new List<CheckpointTensor> { new("model.embed_tokens.weight", [vocab, hidden], TensorRole.Embedding, -1) };
        for (int l = 0; l < config.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            list.Add(new(p + "input_layernorm.weight", [hidden], TensorRole.AttentionNorm, l));
            list.Add(new(p + "self_attn.q_proj.weight", [q, hidden], TensorRole.QueryWeight, l));
            if (config.AttentionBias) list.Add(new(p + "self_attn.q_proj.bias", [q], TensorRole.QueryBias, l));
            list.Add(new(p + "self_attn.k_proj.weight", [kv, hidden], TensorRole.KeyWeight, l));
            if (config.AttentionBias) list.Add(new(p + "self_attn.k_proj.bias", [kv], TensorRole.KeyBias, l));
            list.Add(new(p + "self_attn.v_proj.weight", [kv, hidden], TensorRole.ValueWeight, l));
            if (config.AttentionBias) list.Add(new(p + "self_attn.v_proj.bias", [kv], TensorRole.ValueBias, l));
            list.Add(new(p + "self_attn.o_proj.weight", [hidden, q], TensorRole.OutputWeight, l));
            if (config.OutputProjectionBias) list.Add(new(p + "self_attn.o_proj.bias", [hidden], TensorRole.OutputBias, l));
            if (config.QkNorm)
            {
                list.Add(new(p + "self_attn.q_norm.weight", [config.HeadDim], TensorRole.QueryNorm, l));
                list.Add(new(p + "self_attn.k_norm.weight", [config.HeadDim], TensorRole.KeyNorm, l));
            }
            list.Add(new(p + "post_attention_layernorm.weight", [hidden], TensorRole.MlpNorm, l));
            list.Add(new(p + "mlp.gate_proj.weight", [inter, hidden], TensorRole.GateWeight, l));
            list.Add(new(p + "mlp.up_proj.weight", [inter, hidden], TensorRole.UpWeight, l));
            list.Add(new(p + "mlp.down_proj.weight", [hidden, inter], TensorRole.DownWeight, l));
        }
        list.Add(new("model.norm.weight", [hidden], TensorRole.FinalNorm, -1));
        if (!config.TieWordEmbeddings) list.Add(new("lm_head.weight", [vocab, hidden], TensorRole.LmHead, -1));
        return new CheckpointLayout(config, list);
    }

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
            if ((Config.TieWordEmbeddings && name == "lm_head.weight") || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) ignored.Add(name);
            else unexpected.Add(name);
        }
        if (unexpected.Count > 0) problems.Add($"unexpected {Listing(unexpected)} (not part of a {ModelConfigJson.ClassName(Config.Architecture)} with this config)");
        var misshaped = new List<string>();
        foreach (var t in Tensors)
            if (source.TryGetInfo(t.Name, out var info) && !info.Shape.SequenceEqual(t.Shape))
                misshaped.Add($"{t.Name} is [{string.Join(", ", info.Shape)}], config expects [{string.Join(", ", t.Shape)}]");
        if (Config.TieWordEmbeddings && source.TryGetInfo("lm_head.weight", out var head) && !head.Shape.SequenceEqual([(long)Config.VocabSize, Config.HiddenSize]))
            misshaped.Add($"lm_head.weight is [{string.Join(", ", head.Shape)}], config expects [{Config.VocabSize}, {Config.HiddenSize}]");
        if (misshaped.Count > 0) problems.Add($"wrong shape: {string.Join("; ", misshaped.Take(5))}{(misshaped.Count > 5 ? $"; and {misshaped.Count - 5} more" : "")}");
        if (problems.Count > 0)
            throw new UserException($"{sourceName}: checkpoint does not match config.json: {string.Join("; ", problems)}");
        return ignored;
    }

    private static string Listing(List<string> names) =>
        $"{names.Count} tensor{(names.Count == 1 ? "" : "s")}: {string.Join(", ", names.Take(5))}{(names.Count > 5 ? $", and {names.Count - 5} more" : "")}";
}
