using System.Text.Json;
using SharpTune.IO;

namespace SharpTune.Models;

/// <summary>
/// Reads and writes the Hugging Face <c>config.json</c> of the four supported decoders. Loading applies
/// transformers' defaults for absent fields and rejects, naming the file and the field, every option whose
/// computation SharpTune does not implement, so a model never runs with silently different maths.
/// </summary>
public static class ModelConfigJson
{
    /// <summary>Loads and validates <paramref name="path"/> (a config.json file or a model folder holding one).</summary>
    public static ModelConfig Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "config.json");
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected a Hugging Face config.json)");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses config.json content; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new UserException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{source}: expected a JSON object at the top level");
            return new Reader(root, source).Read();
        }
    }

    /// <summary>Writes <paramref name="config"/> atomically as a config.json that transformers loads.</summary>
    public static void Save(string path, ModelConfig config) => AtomicFile.WriteAllBytes(path, Serialize(config));

    /// <summary>The config.json bytes (UTF-8, indented, fields in transformers' style; no transformers_version).</summary>
    public static byte[] Serialize(ModelConfig config)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            var arch = config.Architecture;
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(ClassName(arch));
            w.WriteEndArray();
            w.WriteString("model_type", ModelType(arch));
            if (arch is ModelArchitecture.Llama or ModelArchitecture.Qwen3)
                w.WriteBoolean("attention_bias", config.AttentionBias);
            w.WriteNumber("attention_dropout", 0.0);
            WriteIds(w, "bos_token_id", config.BosTokenIds);
            WriteIds(w, "eos_token_id", config.EosTokenIds);
            w.WriteNumber("head_dim", config.HeadDim);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("hidden_size", config.HiddenSize);
            w.WriteNumber("initializer_range", config.InitializerRange);
            w.WriteNumber("intermediate_size", config.IntermediateSize);
            w.WriteNumber("max_position_embeddings", config.MaxPositionEmbeddings);
            if (arch == ModelArchitecture.Llama) w.WriteBoolean("mlp_bias", false);
            w.WriteNumber("num_attention_heads", config.NumHeads);
            w.WriteNumber("num_hidden_layers", config.NumLayers);
            w.WriteNumber("num_key_value_heads", config.NumKvHeads);
            w.WriteNumber("rms_norm_eps", config.RmsNormEps);
            if (config.RopeScaling is { } rs)
            {
                w.WriteStartObject("rope_scaling");
                w.WriteNumber("factor", rs.Factor);
                w.WriteNumber("high_freq_factor", rs.HighFreqFactor);
                w.WriteNumber("low_freq_factor", rs.LowFreqFactor);
                w.WriteNumber("original_max_position_embeddings", rs.OriginalMaxPositionEmbeddings);
                w.WriteString("rope_type", rs.Type);
                w.WriteEndObject();
            }
            else w.WriteNull("rope_scaling");
            w.WriteNumber("rope_theta", config.RopeTheta);
            switch (arch)
            {
                case ModelArchitecture.Mistral:
                    if (config.SlidingWindow is int mw) w.WriteNumber("sliding_window", mw); else w.WriteNull("sliding_window");
                    break;
                case ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3:
                    // Sliding is all-or-nothing here: a window, when set, applies from layer 0.
                    w.WriteNumber("max_window_layers", config.SlidingWindow is null ? config.NumLayers : 0);
                    if (config.SlidingWindow is int qw) w.WriteNumber("sliding_window", qw); else w.WriteNull("sliding_window");
                    w.WriteBoolean("use_sliding_window", config.SlidingWindow is not null);
                    break;
            }
            w.WriteBoolean("tie_word_embeddings", config.TieWordEmbeddings);
            w.WriteString("torch_dtype", config.TorchDtype);
            w.WriteBoolean("use_cache", true);
            w.WriteNumber("vocab_size", config.VocabSize);
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }

    /// <summary>transformers' model class for an architecture, e.g. <c>Qwen3ForCausalLM</c>.</summary>
    public static string ClassName(ModelArchitecture arch) => arch switch
    {
        ModelArchitecture.Llama => "LlamaForCausalLM",
        ModelArchitecture.Mistral => "MistralForCausalLM",
        ModelArchitecture.Qwen2 => "Qwen2ForCausalLM",
        ModelArchitecture.Qwen3 => "Qwen3ForCausalLM",
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>The <c>model_type</c> string of an architecture, e.g. <c>qwen3</c>.</summary>
    public static string ModelType(ModelArchitecture arch) => arch switch
    {
        ModelArchitecture.Llama => "llama",
        ModelArchitecture.Mistral => "mistral",
        ModelArchitecture.Qwen2 => "qwen2",
        ModelArchitecture.Qwen3 => "qwen3",
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>transformers' default <c>max_position_embeddings</c> for an architecture (used when the field is absent).</summary>
    public static int DefaultMaxPositionEmbeddings(ModelArchitecture arch) => arch switch
    {
        ModelArchitecture.Llama => 2048,
        ModelArchitecture.Mistral => 4096 * 32,
        _ => 32768,
    };

    private static void WriteIds(Utf8JsonWriter w, string name, IReadOnlyList<int> ids)
    {
        if (ids.Count == 0) w.WriteNull(name);
        else if (ids.Count == 1) w.WriteNumber(name, ids[0]);
        else
        {
            w.WriteStartArray(name);
            foreach (var id in ids) w.WriteNumberValue(id);
            w.WriteEndArray();
        }
    }

    /// <summary>One parse: the root object plus the file name for messages.</summary>
    private sealed class Reader(JsonElement root, string source)
    {
        public ModelConfig Read()
        {
            var arch = DetectArchitecture();

            int hidden = PositiveInt("hidden_size");
            int layers = PositiveInt("num_hidden_layers");
            int heads = PositiveInt("num_attention_heads");
            int kvHeads = OptionalPositiveInt("num_key_value_heads") ?? heads;
            if (heads % kvHeads != 0)
                throw Error("num_key_value_heads", $"({kvHeads}) must divide num_attention_heads ({heads})");
            int headDim = OptionalPositiveInt("head_dim") ?? DefaultHeadDim(arch, hidden, heads);
            if (headDim % 2 != 0) throw Error("head_dim", $"({headDim}) must be even (RoPE rotates halves)");
            int maxPositions = OptionalPositiveInt("max_position_embeddings") ?? DefaultMaxPositionEmbeddings(arch);

            string act = OptionalString("hidden_act") ?? "silu";
            if (act != "silu") throw Error("hidden_act", $"'{act}' is not supported (only silu, the SwiGLU of these decoders)");
            if (arch == ModelArchitecture.Llama && OptionalBool("mlp_bias") == true)
                throw Error("mlp_bias", "true is not supported (the MLP projections have no bias in SharpTune)");
            if (Has("pretraining_tp") && OptionalPositiveInt("pretraining_tp") is > 1)
                throw Error("pretraining_tp", "values above 1 are not supported");

            bool attentionBias = arch switch
            {
                ModelArchitecture.Qwen2 => true,
                ModelArchitecture.Mistral => false, // MistralConfig has no attention_bias; transformers ignores the key
                _ => OptionalBool("attention_bias") ?? false,
            };

            var (ropeTheta, ropeScaling) = Rope();
            string dtype = OptionalString("torch_dtype") ?? OptionalString("dtype") ?? "float32";
            if (dtype is not ("float32" or "bfloat16" or "float16"))
                throw Error(Has("torch_dtype") ? "torch_dtype" : "dtype", $"'{dtype}' is not supported (expected float32, bfloat16 or float16)");

            return new ModelConfig
            {
                Architecture = arch,
                HiddenSize = hidden,
                NumLayers = layers,
                NumHeads = heads,
                NumKvHeads = kvHeads,
                HeadDim = headDim,
                IntermediateSize = PositiveInt("intermediate_size"),
                VocabSize = PositiveInt("vocab_size"),
                RmsNormEps = OptionalPositiveDouble("rms_norm_eps") ?? 1e-6,
                RopeTheta = ropeTheta,
                RopeScaling = ropeScaling,
                MaxPositionEmbeddings = maxPositions,
                TieWordEmbeddings = OptionalBool("tie_word_embeddings") ?? false,
                TorchDtype = dtype,
                BosTokenIds = TokenIds("bos_token_id"),
                EosTokenIds = TokenIds("eos_token_id"),
                AttentionBias = attentionBias,
                SlidingWindow = SlidingWindow(arch, maxPositions),
                InitializerRange = OptionalPositiveDouble("initializer_range") ?? 0.02,
            };
        }

        private ModelArchitecture DetectArchitecture()
        {
            ModelArchitecture? fromClass = null, fromType = null;
            if (Has("architectures"))
            {
                var a = root.GetProperty("architectures");
                if (a.ValueKind != JsonValueKind.Array || a.GetArrayLength() == 0 || a.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
                    throw Error("architectures", "expected a non-empty list of class names");
                var names = a.EnumerateArray().Select(x => x.GetString()!).ToList();
                if (names.Count > 1) throw Error("architectures", $"expected one class, got {string.Join(", ", names)}");
                fromClass = names[0] switch
                {
                    "LlamaForCausalLM" => ModelArchitecture.Llama,
                    "MistralForCausalLM" => ModelArchitecture.Mistral,
                    "Qwen2ForCausalLM" => ModelArchitecture.Qwen2,
                    "Qwen3ForCausalLM" => ModelArchitecture.Qwen3,
                    _ => throw Error("architectures", $"'{names[0]}' is not supported (expected LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM or Qwen3ForCausalLM)"),
                };
            }
            if (OptionalString("model_type") is { } t)
            {
                fromType = t switch
                {
                    "llama" => ModelArchitecture.Llama,
                    "mistral" => ModelArchitecture.Mistral,
                    "qwen2" => ModelArchitecture.Qwen2,
                    "qwen3" => ModelArchitecture.Qwen3,
                    _ => throw Error("model_type", $"'{t}' is not supported (expected llama, mistral, qwen2 or qwen3)"),
                };
            }
            if (fromClass is { } c && fromType is { } m && c != m)
                throw Error("model_type", $"'{ModelType(m)}' contradicts architectures ['{ClassName(c)}']");
            return fromClass ?? fromType ?? throw new UserException($"{source}: neither 'architectures' nor 'model_type' is present, so the architecture is unknown");
        }

        private int DefaultHeadDim(ModelArchitecture arch, int hidden, int heads)
        {
            if (arch == ModelArchitecture.Qwen3) return 128; // Qwen3Config's own default, not hidden/heads
            if (hidden % heads != 0)
                throw Error("head_dim", $"absent, and hidden_size ({hidden}) is not divisible by num_attention_heads ({heads})");
            return hidden / heads;
        }

        // rope_theta + rope_scaling (transformers <= 4.x) or rope_parameters (transformers 5).
        private (double Theta, RopeScaling? Scaling) Rope()
        {
            double theta = OptionalPositiveDouble("rope_theta") ?? 10000.0;
            string field = "rope_scaling";
            JsonElement scaling = default;
            bool hasScaling = false;
            if (Has("rope_scaling") && root.GetProperty("rope_scaling").ValueKind != JsonValueKind.Null)
            {
                scaling = root.GetProperty("rope_scaling");
                hasScaling = true;
            }
            else if (Has("rope_parameters") && root.GetProperty("rope_parameters").ValueKind != JsonValueKind.Null)
            {
                field = "rope_parameters";
                scaling = root.GetProperty("rope_parameters");
                hasScaling = true;
            }
            if (!hasScaling) return (theta, null);
            if (scaling.ValueKind != JsonValueKind.Object) throw Error(field, "expected an object or null");
            if (field == "rope_parameters" && scaling.TryGetProperty("rope_theta", out var th))
                theta = Number(th, field + ".rope_theta") is var v && v > 0 ? v : throw Error(field + ".rope_theta", "must be positive");
            string? type = null;
            foreach (var key in (string[])["rope_type", "type"])
                if (scaling.TryGetProperty(key, out var tv))
                    type = tv.ValueKind == JsonValueKind.String ? tv.GetString() : throw Error($"{field}.{key}", "expected a string");
            if (type is null or "default") return (theta, null);
            if (type != "llama3")
                throw Error(field, $"type '{type}' is not supported (only llama3 frequency scaling, or none)");
            double Get(string k) => scaling.TryGetProperty(k, out var e) ? Number(e, $"{field}.{k}") : throw Error($"{field}.{k}", "is required for llama3 scaling");
            double factor = Get("factor"), low = Get("low_freq_factor"), high = Get("high_freq_factor"), orig = Get("original_max_position_embeddings");
            if (factor <= 0) throw Error($"{field}.factor", "must be positive");
            if (!(high > low) || low <= 0) throw Error($"{field}.high_freq_factor", $"must exceed low_freq_factor ({low}), which must be positive");
            if (orig < 1 || orig != Math.Floor(orig) || orig > int.MaxValue) throw Error($"{field}.original_max_position_embeddings", "must be a positive integer");
            return (theta, new RopeScaling("llama3", factor, low, high, (int)orig));
        }

        private int? SlidingWindow(ModelArchitecture arch, int maxPositions)
        {
            int? window = null;
            if (arch == ModelArchitecture.Mistral)
                window = Has("sliding_window") ? OptionalPositiveInt("sliding_window") : 4096; // MistralConfig's default
            else if (arch is ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3)
            {
                // transformers slides only when use_sliding_window is set, and then only on layers >= max_window_layers
                // (or those layer_types names sliding_attention).
                bool use = OptionalBool("use_sliding_window") ?? false;
                bool anySliding;
                if (Has("layer_types") && root.GetProperty("layer_types") is { ValueKind: JsonValueKind.Array } lt)
                    anySliding = lt.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.String && x.GetString() == "sliding_attention");
                else
                {
                    int maxWindowLayers = 28;
                    if (Has("max_window_layers") && root.GetProperty("max_window_layers") is { ValueKind: JsonValueKind.Number } m)
                        maxWindowLayers = m.TryGetInt32(out var mi) && mi >= 0 ? mi : throw Error("max_window_layers", $"expected a non-negative integer, got {m.GetRawText()}");
                    anySliding = maxWindowLayers < OptionalPositiveInt("num_hidden_layers");
                }
                if (use && anySliding)
                    window = Has("sliding_window") ? OptionalPositiveInt("sliding_window") : 4096;
            }
            // A window at least as long as the context never masks anything: plain causal attention.
            return window is int w && w < maxPositions ? w : null;
        }

        private IReadOnlyList<int> TokenIds(string field)
        {
            if (!Has(field)) return [];
            var v = root.GetProperty(field);
            switch (v.ValueKind)
            {
                case JsonValueKind.Null: return [];
                case JsonValueKind.Number: return [TokenId(v, field)];
                case JsonValueKind.Array:
                    var list = new List<int>();
                    int i = 0;
                    foreach (var e in v.EnumerateArray()) list.Add(TokenId(e, $"{field}[{i++}]"));
                    return list;
                default: throw Error(field, "expected an integer, a list of integers or null");
            }
        }

        private int TokenId(JsonElement e, string field) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var id) && id >= 0 ? id : throw Error(field, $"expected a non-negative integer token id, got {e.GetRawText()}");

        private bool Has(string field) => root.TryGetProperty(field, out _);

        private int PositiveInt(string field) =>
            OptionalPositiveInt(field) ?? throw Error(field, "is required (a positive integer)");

        private int? OptionalPositiveInt(string field)
        {
            if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i > 0) return i;
            // Accept integral floats like 4096.0 that some exporters write.
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d > 0 && d <= int.MaxValue && d == Math.Floor(d)) return (int)d;
            throw Error(field, $"expected a positive integer, got {v.GetRawText()}");
        }

        private double? OptionalPositiveDouble(string field)
        {
            if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            double d = Number(v, field);
            return d > 0 ? d : throw Error(field, $"expected a positive number, got {v.GetRawText()}");
        }

        private double Number(JsonElement v, string field) =>
            v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : throw Error(field, $"expected a number, got {v.GetRawText()}");

        private string? OptionalString(string field)
        {
            if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(field, $"expected a string, got {v.GetRawText()}");
        }

        private bool? OptionalBool(string field)
        {
            if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(field, $"expected true or false, got {v.GetRawText()}"),
            };
        }

        private UserException Error(string field, string what) => new($"{source}: field '{field}' {what}");
    }
}
