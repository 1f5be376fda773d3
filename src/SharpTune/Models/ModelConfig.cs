namespace SharpTune.Models;

/// <summary>The decoder architectures SharpTune runs.</summary>
public enum ModelArchitecture
{
    /// <summary>Llama 2/3 (<c>LlamaForCausalLM</c>): no biases, optional llama3 RoPE scaling.</summary>
    Llama,

    /// <summary>Mistral (<c>MistralForCausalLM</c>): Llama's computation; sliding window unsupported beyond the context.</summary>
    Mistral,

    /// <summary>Qwen2 (<c>Qwen2ForCausalLM</c>): bias on q, k and v projections.</summary>
    Qwen2,

    /// <summary>Qwen3 (<c>Qwen3ForCausalLM</c>): per-head RMSNorm on q and k before RoPE, no biases.</summary>
    Qwen3,
}

/// <summary>RoPE frequency scaling (<c>rope_scaling</c> in config.json); only type <c>llama3</c> is supported.</summary>
/// <param name="Type">The scaling type, e.g. <c>llama3</c>.</param>
/// <param name="Factor">Overall scale factor.</param>
/// <param name="LowFreqFactor">llama3 low-frequency factor.</param>
/// <param name="HighFreqFactor">llama3 high-frequency factor.</param>
/// <param name="OriginalMaxPositionEmbeddings">Context length the base model was trained at.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary>
/// The Hugging Face <c>config.json</c> of a decoder checkpoint, as the engine needs it. Field names mirror HF's.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Which decoder family.</summary>
    public required ModelArchitecture Architecture { get; init; }

    /// <summary><c>hidden_size</c>.</summary>
    public required int HiddenSize { get; init; }

    /// <summary><c>num_hidden_layers</c>.</summary>
    public required int NumLayers { get; init; }

    /// <summary><c>num_attention_heads</c>.</summary>
    public required int NumHeads { get; init; }

    /// <summary><c>num_key_value_heads</c> (grouped-query attention; equals <see cref="NumHeads"/> for MHA).</summary>
    public required int NumKvHeads { get; init; }

    /// <summary><c>head_dim</c> (defaults to hidden_size / num_attention_heads when absent).</summary>
    public required int HeadDim { get; init; }

    /// <summary><c>intermediate_size</c> of the SwiGLU MLP.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary><c>vocab_size</c>.</summary>
    public required int VocabSize { get; init; }

    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary><c>rope_scaling</c>, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 4096;

    /// <summary><c>tie_word_embeddings</c>: the LM head reuses the embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary><c>torch_dtype</c> as written (<c>float32</c>, <c>bfloat16</c>, <c>float16</c>).</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary><c>bos_token_id</c> (int or list in HF; empty when absent).</summary>
    public IReadOnlyList<int> BosTokenIds { get; init; } = [];

    /// <summary><c>eos_token_id</c> (int or list in HF; empty when absent).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>
    /// <c>attention_bias</c> of config.json (Llama, Qwen3; the config reader sets it for Qwen2, whose q/k/v always carry
    /// a bias). Which projections actually carry one is <see cref="CheckpointLayout.HasBias"/>'s rule.
    /// </summary>
    public bool AttentionBias { get; init; }

    /// <summary>Whether <c>o_proj</c> carries a bias (Llama and Qwen3 with <c>attention_bias</c>; never Qwen2): <see cref="CheckpointLayout.HasBias"/>.</summary>
    public bool OutputProjectionBias => CheckpointLayout.HasBias(this, DecoderProjection.OProj);

    /// <summary>
    /// The attention window when a sliding window is active and shorter than <see cref="MaxPositionEmbeddings"/>
    /// (Mistral <c>sliding_window</c>, Qwen <c>use_sliding_window</c>); null otherwise. The engine computes full
    /// causal attention, which equals the windowed one only for sequences no longer than this: see
    /// <see cref="EnsureContextSupported"/>.
    /// </summary>
    public int? SlidingWindow { get; init; }

    /// <summary><c>initializer_range</c>: the standard deviation of transformers' random init (default 0.02).</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>
    /// Throws a <see cref="UserException"/> when a sequence of <paramref name="length"/> tokens would need the
    /// sliding window that the engine does not implement (results would differ from transformers).
    /// </summary>
    public void EnsureContextSupported(int length, string what)
    {
        if (SlidingWindow is int w && length > w)
            throw new UserException($"{what}: {length} tokens exceed the model's sliding_window of {w}; SharpTune computes full attention, which matches only up to {w} tokens");
    }

    /// <summary>Whether q and k get a per-head RMSNorm before RoPE (Qwen3).</summary>
    public bool QkNorm => Architecture == ModelArchitecture.Qwen3;

    /// <summary>Total query width: heads × head_dim.</summary>
    public int QueryDim => NumHeads * HeadDim;

    /// <summary>Total key/value width: kv heads × head_dim.</summary>
    public int KvDim => NumKvHeads * HeadDim;
}
