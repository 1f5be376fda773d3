using System.Text;
using System.Text.Json;

namespace SharpTune.Models;

/// <summary>
/// Converts a llama2.c tokenizer (<c>tok512.bin</c>, <c>tokenizer.bin</c>) into the Hugging Face tokenizer.json and
/// tokenizer_config.json that transformers' <c>LlamaConverter</c> produces for a SentencePiece BPE model with byte
/// fallback (the Llama-2 layout: normalizer Prepend("▁") + Replace(" ", "▁"), BPE with byte_fallback and fuse_unk,
/// BOS-prepending template, decoder Replace/ByteFallback/Fuse/Strip).
/// <para>
/// The .bin holds, after an int32 max token length, one (float32 score, int32 length, UTF-8 bytes) per id. llama2.c's
/// export replaced "▁" with a space and wrote BOS/EOS as "\n&lt;s&gt;\n" and "\n&lt;/s&gt;\n"; both are undone here.
/// Merges are rebuilt from the pieces and scores the way transformers' <c>generate_merges</c> does: every split of
/// a piece into two pieces of the vocab is a merge, ordered by the merged piece's score (highest first), then the
/// longer left part, then the longer right part, ties kept in id order.
/// </para>
/// </summary>
public static class Llama2cTokenizer
{
    private const string Space = "\u2581";

    /// <summary>Reads the pieces and scores of a llama2.c tokenizer of <paramref name="vocabSize"/> entries.</summary>
    public static IReadOnlyList<(string Piece, float Score)> ReadPieces(string path, int vocabSize)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected a llama2.c tokenizer .bin)");
        var bytes = File.ReadAllBytes(path);
        var pieces = new List<(string, float)>(vocabSize);
        int at = 4;
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (int id = 0; id < vocabSize; id++)
        {
            if (at + 8 > bytes.Length) throw new UserException($"{path}: ends at token {id} of {vocabSize} (does the tokenizer belong to this checkpoint?)");
            float score = BitConverter.ToSingle(bytes, at);
            int len = BitConverter.ToInt32(bytes, at + 4);
            at += 8;
            if (len < 0 || at + len > bytes.Length) throw new UserException($"{path}: token {id} has a bad length {len}");
            string text;
            try { text = utf8.GetString(bytes, at, len); }
            catch (DecoderFallbackException) { throw new UserException($"{path}: token {id} is not valid UTF-8"); }
            at += len;
            text = id switch
            {
                1 when text == "\n<s>\n" => "<s>",
                2 when text == "\n</s>\n" => "</s>",
                _ => text.Replace(" ", Space),
            };
            pieces.Add((text, score));
        }
        if (at != bytes.Length) throw new UserException($"{path}: {bytes.Length - at} bytes follow the {vocabSize} tokens the checkpoint expects (vocab size mismatch?)");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int id = 0; id < pieces.Count; id++)
            if (!seen.Add(pieces[id].Item1)) throw new UserException($"{path}: token {id} '{pieces[id].Item1}' appears twice");
        if (vocabSize < 3 || pieces[0].Item1 != "<unk>" || pieces[1].Item1 != "<s>" || pieces[2].Item1 != "</s>")
            throw new UserException($"{path}: ids 0, 1, 2 must be <unk>, <s>, </s> (SentencePiece's defaults)");
        return pieces;
    }

    /// <summary>BPE merges from pieces and scores, as transformers' <c>generate_merges</c>.</summary>
    internal static List<(string Left, string Right)> Merges(IReadOnlyList<(string Piece, float Score)> pieces)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++) ids[pieces[i].Piece] = i;
        var merges = new List<(string Left, string Right, float Score)>();
        foreach (var (piece, score) in pieces)
        {
            var local = new List<(string, string, float)>();
            // Split between UTF-16 code units as Python splits between code points: skip splits inside a surrogate pair.
            for (int k = 1; k < piece.Length; k++)
            {
                if (char.IsLowSurrogate(piece[k])) continue;
                string l = piece[..k], r = piece[k..];
                if (ids.ContainsKey(l) && ids.ContainsKey(r)) local.Add((l, r, score));
            }
            merges.AddRange(local.OrderBy(m => ids[m.Item1]).ThenBy(m => ids[m.Item2]));
        }
        return merges
            .OrderByDescending(m => m.Score).ThenByDescending(m => CodePoints(m.Left)).ThenByDescending(m => CodePoints(m.Right))
            .Select(m => (m.Left, m.Right)).ToList();
    }

    private static int CodePoints(string s) => s.Length - s.Count(char.IsLowSurrogate);

    /// <summary>The tokenizer.json bytes.</summary>
    public static byte[] TokenizerJson(IReadOnlyList<(string Piece, float Score)> pieces)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int id = 0; id < 3; id++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", pieces[id].Piece);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            w.WriteStartObject(); w.WriteString("type", "Prepend"); w.WriteString("prepend", Space); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Replace"); WritePattern(w, " "); w.WriteString("content", Space); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("pre_tokenizer");

            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            WriteSpecial(w, "<s>", 0); WriteSequence(w, "A", 0);
            w.WriteEndArray();
            w.WriteStartArray("pair");
            WriteSpecial(w, "<s>", 0); WriteSequence(w, "A", 0); WriteSpecial(w, "<s>", 1); WriteSequence(w, "B", 1);
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject("<s>");
            w.WriteString("id", "<s>");
            w.WriteStartArray("ids"); w.WriteNumberValue(1); w.WriteEndArray();
            w.WriteStartArray("tokens"); w.WriteStringValue("<s>"); w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("decoder");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("decoders");
            w.WriteStartObject(); w.WriteString("type", "Replace"); WritePattern(w, Space); w.WriteString("content", " "); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "ByteFallback"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Fuse"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Strip"); w.WriteString("content", " "); w.WriteNumber("start", 1); w.WriteNumber("stop", 0); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteString("unk_token", "<unk>");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", true);
            w.WriteBoolean("byte_fallback", true);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int id = 0; id < pieces.Count; id++) w.WriteNumber(pieces[id].Piece, id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            // "left right" strings (the classic form every tokenizers version reads); pieces hold no ASCII space.
            foreach (var (l, r) in Merges(pieces)) w.WriteStringValue(l + " " + r);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }

    /// <summary>The tokenizer_config.json bytes of a Llama-2 style fast tokenizer (BOS added, EOS not).</summary>
    public static byte[] TokenizerConfigJson(int modelMaxLength)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", true);
            w.WriteBoolean("add_eos_token", false);
            w.WriteString("bos_token", "<s>");
            w.WriteString("eos_token", "</s>");
            w.WriteString("unk_token", "<unk>");
            w.WriteNull("pad_token");
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteBoolean("legacy", true);
            w.WriteNumber("model_max_length", modelMaxLength);
            w.WriteString("tokenizer_class", "LlamaTokenizerFast");
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }

    private static void WritePattern(Utf8JsonWriter w, string s)
    {
        w.WriteStartObject("pattern");
        w.WriteString("String", s);
        w.WriteEndObject();
    }

    private static void WriteSpecial(Utf8JsonWriter w, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSequence(Utf8JsonWriter w, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
