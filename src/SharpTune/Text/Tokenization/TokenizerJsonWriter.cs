using System.Text.Encodings.Web;
using System.Text.Json;
using SharpTune.IO;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Writes a trained byte-level BPE as Hugging Face files: <c>tokenizer.json</c> (Qwen-style pipeline: Split on
/// Qwen's regex, ByteLevel, ByteLevel decoder; special tokens as added tokens) and <c>tokenizer_config.json</c>
/// (bos/eos/pad tokens, a ChatML chat template when <c>&lt;|im_start|&gt;</c> and <c>&lt;|im_end|&gt;</c> are special
/// tokens). Both are written atomically.
/// </summary>
public static class TokenizerJsonWriter
{
    /// <summary>ChatML, as Qwen2 ships it (without tool support).</summary>
    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Writes both files into <paramref name="directory"/>; returns the tokenizer.json path.</summary>
    public static string Write(TrainedBpe bpe, string directory, string? bosToken = null, string? eosToken = null, string? padToken = null, int modelMaxLength = 32768)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "tokenizer.json");
        AtomicFile.Write(path, s => WriteTokenizerJson(bpe, s));
        var specials = bpe.SpecialTokens.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        eosToken ??= specials.Contains("<|im_end|>") ? "<|im_end|>" : specials.Contains("<|endoftext|>") ? "<|endoftext|>" : null;
        padToken ??= specials.Contains("<|endoftext|>") ? "<|endoftext|>" : eosToken;
        foreach (var t in new[] { bosToken, eosToken, padToken })
            if (t is not null && !specials.Contains(t)) throw new UserException($"'{t}' is used as bos/eos/pad token but is not among --special-tokens");
        AtomicFile.Write(Path.Combine(directory, "tokenizer_config.json"), s =>
        {
            using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            w.WriteStartObject();
            w.WriteStartObject("added_tokens_decoder");
            foreach (var (content, id) in bpe.SpecialTokens)
            {
                w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                WriteAddedTokenFields(w, content);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteBoolean("add_bos_token", false);
            w.WriteBoolean("add_eos_token", false);
            WriteNullable(w, "bos_token", bosToken);
            WriteNullable(w, "eos_token", eosToken);
            WriteNullable(w, "pad_token", padToken);
            w.WriteNull("unk_token");
            w.WriteNumber("model_max_length", modelMaxLength);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            if (specials.Contains("<|im_start|>") && specials.Contains("<|im_end|>")) w.WriteString("chat_template", ChatMlTemplate);
            w.WriteEndObject();
        });
        return path;
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void WriteAddedTokenFields(Utf8JsonWriter w, string content)
    {
        w.WriteString("content", content);
        w.WriteBoolean("single_word", false);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("normalized", false);
        w.WriteBoolean("special", true);
    }

    private static void WriteByteLevel(Utf8JsonWriter w)
    {
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", false);
        w.WriteBoolean("use_regex", false);
    }

    private static void WriteTokenizerJson(TrainedBpe bpe, Stream s)
    {
        using var w = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (content, id) in bpe.SpecialTokens)
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            WriteAddedTokenFields(w, content);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", BpeTrainer.PreTokenizerPattern);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        w.WriteStartObject();
        WriteByteLevel(w);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("post_processor");
        WriteByteLevel(w);
        w.WriteEndObject();
        w.WriteStartObject("decoder");
        WriteByteLevel(w);
        w.WriteEndObject();
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WriteStartObject("vocab");
        for (int i = 0; i < bpe.Vocab.Count; i++) w.WriteNumber(bpe.Vocab[i], i);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (l, r) in bpe.Merges)
        {
            w.WriteStartArray();
            w.WriteStringValue(l);
            w.WriteStringValue(r);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
