using System.Text.Json;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Reads Hugging Face's <c>tokenizer.json</c> into a <see cref="Tokenizer"/>. Every error is a
/// <see cref="UserException"/> naming the file and the JSON path of the offending field, and what was expected.
/// </summary>
internal static class TokenizerJsonLoader
{
    public static Tokenizer Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected a tokenizer.json)");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new UserException($"{path}: cannot read: {e.Message}"); }
        var tokenizer = Parse(bytes, path);
        var configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            tokenizer.Config = TokenizerConfig.Load(configPath);
            if (TransformersPostProcessor.For(tokenizer.Config, tokenizer.TokenToId, configPath) is { } post) tokenizer.ReplacePostProcessor(post);
        }
        return tokenizer;
    }

    public static Tokenizer Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument doc;
        ModelTables tables;
        try
        {
            (doc, tables) = Stream(json, new Ctx(source));
        }
        catch (JsonException e)
        {
            throw new UserException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {FirstSentence(e.Message)}");
        }
        catch (InvalidOperationException e)
        {
            throw new UserException($"{source}: a string in the file is not valid Unicode: {FirstSentence(e.Message)}");
        }
        try
        {
            return Build(doc, tables, source);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json refuses strings holding lone surrogate escapes.
            throw new UserException($"{source}: a string in the file is not valid Unicode: {FirstSentence(e.Message)}");
        }
        finally
        {
            doc.Dispose();
        }
    }

    // The model's vocab and merges (most of the file), read straight from the token stream.
    private sealed class ModelTables
    {
        public Dictionary<string, int>? Vocab;
        public List<(int, int, int)>? Merges;          // resolved while streaming (vocab came first)
        public List<(string, string)>? MergeStrings;   // when merges came before vocab
    }

    /// <summary>
    /// One pass over the file: model.vocab and model.merges go straight into their tables (building a DOM of
    /// an 11 MB file costs more than the rest of loading); everything else is small and becomes a JsonDocument
    /// (the model's other fields under "model").
    /// </summary>
    // Runs once per load over 100k+ items: compile it optimized straight away instead of via tier 0 + OSR.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static (JsonDocument Others, ModelTables Tables) Stream(ReadOnlySpan<byte> json, Ctx ctx)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        var tables = new ModelTables();
        if (!reader.Read()) throw ctx.Error("", "the file is empty (expected a JSON object)");
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            JsonDocument.ParseValue(ref reader).Dispose(); // reports malformed JSON first
            throw ctx.Error("", "expected a JSON object at the top level");
        }
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                if (name == "model" && reader.TokenType == JsonTokenType.StartObject)
                {
                    w.WriteStartObject("model");
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string field = reader.GetString()!;
                        reader.Read();
                        if (field == "vocab" && reader.TokenType == JsonTokenType.StartObject) tables.Vocab = StreamVocab(ref reader, ctx, json.Length);
                        else if (field == "merges" && reader.TokenType == JsonTokenType.StartArray) StreamMerges(ref reader, ctx, tables);
                        else
                        {
                            w.WritePropertyName(field);
                            using var v = JsonDocument.ParseValue(ref reader);
                            v.RootElement.WriteTo(w);
                        }
                    }
                    w.WriteEndObject();
                }
                else
                {
                    w.WritePropertyName(name);
                    using var v = JsonDocument.ParseValue(ref reader);
                    v.RootElement.WriteTo(w);
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject) throw ctx.Error("", "truncated file (the top-level object does not end)");
            w.WriteEndObject();
        }
        return (JsonDocument.Parse(buffer.ToArray()), tables);
    }

    // Runs once per load over 100k+ items: compile it optimized straight away instead of via tier 0 + OSR.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static Dictionary<string, int> StreamVocab(ref Utf8JsonReader reader, Ctx ctx, int fileLength)
    {
        // Sized from the file (HF files spend ~60-70 bytes per vocabulary entry, merges included) to avoid rehashing.
        var vocab = new Dictionary<string, int>(Math.Clamp(fileLength / 64, 1024, 1 << 20), StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string token = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id) || id < 0)
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                throw ctx.Error($"model.vocab[{Escape.Json(token)}]", "expected a non-negative integer id");
            }
            vocab[token] = id;
        }
        return vocab;
    }

    // Merges are resolved to ids on the fly when the vocabulary is already known (HF writes it first): the
    // token strings are looked up from a reused char buffer, so 150k+ merges allocate nothing each.
    // Runs once per load over 100k+ items: compile it optimized straight away instead of via tier 0 + OSR.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void StreamMerges(ref Utf8JsonReader reader, Ctx ctx, ModelTables tables)
    {
        var vocab = tables.Vocab;
        var lookup = vocab is null ? null : new TokenIdIndex(vocab);
        var ids = new List<(int, int, int)>(1 << 16);
        var strings = vocab is null ? new List<(string, string)>(1 << 16) : null;
        char[] buf = new char[256];
        int i = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            int la, lb;
            if (reader.TokenType == JsonTokenType.String)
            {
                int n = CopyString(ref reader, ref buf, 0);
                int sp = Array.IndexOf(buf, ' ', 0, n);
                if (sp < 0) throw ctx.Error($"model.merges[{i}]", $"expected \"left right\" (two tokens separated by a space), got {Escape.Json(new string(buf, 0, n))}");
                // Keep "left right" as left + right in the buffer for the merged lookup.
                Array.Copy(buf, sp + 1, buf, sp, n - sp - 1);
                la = sp;
                lb = n - sp - 1;
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                int count = 0;
                la = lb = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String || count >= 2) { reader.Skip(); count = 99; continue; }
                    int n = CopyString(ref reader, ref buf, la);
                    if (count == 0) la = n; else lb = n;
                    count++;
                }
                if (count != 2) throw ctx.Error($"model.merges[{i}]", "expected \"left right\" or [\"left\", \"right\"]");
            }
            else throw ctx.Error($"model.merges[{i}]", "expected \"left right\" or [\"left\", \"right\"]");

            if (lookup is not null)
            {
                var l = lookup;
                var left = buf.AsSpan(0, la);
                var right = buf.AsSpan(la, lb);
                if (!l.TryGet(left, out int a)) throw ctx.Error($"model.merges[{i}]", $"names '{left}', which is not in model.vocab");
                if (!l.TryGet(right, out int b)) throw ctx.Error($"model.merges[{i}]", $"names '{right}', which is not in model.vocab");
                ids.Add((a, b, l.TryGet(buf.AsSpan(0, la + lb), out int m) ? m : -1));
            }
            else strings!.Add((new string(buf, 0, la), new string(buf, la, lb)));
            i++;
        }
        if (strings is null) tables.Merges = ids;
        else tables.MergeStrings = strings;
    }

    // Copies the current string token into buf at offset; returns its length in chars.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int CopyString(ref Utf8JsonReader reader, ref char[] buf, int offset)
    {
        int max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (buf.Length < offset + max) Array.Resize(ref buf, Math.Max(buf.Length * 2, offset + max));
        return reader.CopyString(buf.AsSpan(offset));
    }

    private static Tokenizer Build(JsonDocument doc, ModelTables tables, string source)
    {
        {
            var ctx = new Ctx(source);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ctx.Error("", "expected a JSON object at the top level");
            foreach (var unsupported in new[] { "truncation", "padding" })
                if (root.TryGetProperty(unsupported, out var v) && v.ValueKind != JsonValueKind.Null)
                    throw ctx.Error(unsupported, "is not supported by SharpTune (expected null)");
            if (!root.TryGetProperty("model", out var modelJson) || modelJson.ValueKind != JsonValueKind.Object)
                throw ctx.Error("model", "missing (expected an object describing the model)");
            var model = ReadModel(modelJson, tables, ctx);
            var added = ReadAddedTokens(root, model, ctx);
            var normalizer = Optional(root, "normalizer", ctx, ReadNormalizer);
            bool byteLevel = false;
            var pre = Optional(root, "pre_tokenizer", ctx, (e, c, p) => ReadPreTokenizer(e, c, p, ref byteLevel));
            var idOf = (string token, string path) =>
            {
                foreach (var a in added) if (a.Content == token) return a.Id;
                return model.TryTokenToId(token, out int id) ? id : throw ctx.Error(path, $"token '{token}' is not in the vocabulary");
            };
            var post = Optional(root, "post_processor", ctx, (e, c, p) => ReadPostProcessor(e, c, p, idOf));
            var decoder = Optional(root, "decoder", ctx, ReadDecoder);
            return new Tokenizer(model, normalizer, pre, post, decoder, added, byteLevel, source);
        }
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..(i + 1)] : message;
    }

    private delegate T Reader<T>(JsonElement e, Ctx ctx, string path);

    private static T? Optional<T>(JsonElement root, string name, Ctx ctx, Reader<T> read) where T : class =>
        root.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? read(e, ctx, name) : null;

    private sealed class Ctx(string source)
    {
        public UserException Error(string path, string what) =>
            new($"{source}: {(path.Length == 0 ? "" : path + ": ")}{what}");

        public string Type(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Object) throw Error(path, "expected an object");
            if (!e.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String) throw Error(path + ".type", "missing (expected a string naming the component)");
            return t.GetString()!;
        }

        public string String(JsonElement e, string name, string path, string? fallback = null)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
                return fallback ?? throw Error($"{path}.{name}", "missing (expected a string)");
            return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Error($"{path}.{name}", "expected a string");
        }

        public string? NullableString(JsonElement e, string name, string path)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error($"{path}.{name}", "expected a string or null");
        }

        public bool Bool(JsonElement e, string name, string path, bool fallback)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error($"{path}.{name}", "expected true or false"),
            };
        }

        public int Int(JsonElement e, string name, string path, int fallback)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0 ? i : throw Error($"{path}.{name}", "expected a non-negative integer");
        }

        public JsonElement Array(JsonElement e, string name, string path)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array) throw Error($"{path}.{name}", "missing (expected an array)");
            return v;
        }
    }

    private static BpeModel ReadModel(JsonElement m, ModelTables tables, Ctx ctx)
    {
        string type = m.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : (tables.Merges is not null ? "BPE" : "");
        if (type is "WordPiece" or "Unigram" or "WordLevel")
            throw ctx.Error("model.type", $"model '{type}' is not supported yet (SharpTune supports BPE)");
        if (type != "BPE") throw ctx.Error("model.type", $"unknown model '{type}' (expected BPE)");
        if (m.TryGetProperty("dropout", out var d) && d.ValueKind != JsonValueKind.Null)
            throw ctx.Error("model.dropout", "BPE dropout is not supported (expected null)");
        var vocab = tables.Vocab ?? throw ctx.Error("model.vocab", "missing (expected an object token -> id)");
        var merges = tables.Merges ?? ResolveMerges(tables.MergeStrings ?? throw ctx.Error("model.merges", "missing (expected an array)"), vocab, ctx);
        var prefix = ctx.NullableString(m, "continuing_subword_prefix", "model");
        var suffix = ctx.NullableString(m, "end_of_word_suffix", "model");
        if ((prefix?.Length ?? 0) + (suffix?.Length ?? 0) > 48) throw ctx.Error("model", "continuing_subword_prefix and end_of_word_suffix are too long (48 characters together at most)");
        return new BpeModel(vocab, merges, ctx.NullableString(m, "unk_token", "model"), ctx.Bool(m, "fuse_unk", "model", false),
            ctx.Bool(m, "byte_fallback", "model", false), ctx.Bool(m, "ignore_merges", "model", false), prefix, suffix, ctx.Error("", "").Message.TrimEnd(':', ' '));
    }

    private static List<(int, int, int)> ResolveMerges(List<(string, string)> strings, Dictionary<string, int> vocab, Ctx ctx)
    {
        var result = new List<(int, int, int)>(strings.Count);
        for (int i = 0; i < strings.Count; i++)
        {
            var (a, b) = strings[i];
            if (!vocab.TryGetValue(a, out int ia)) throw ctx.Error($"model.merges[{i}]", $"names '{a}', which is not in model.vocab");
            if (!vocab.TryGetValue(b, out int ib)) throw ctx.Error($"model.merges[{i}]", $"names '{b}', which is not in model.vocab");
            result.Add((ia, ib, vocab.TryGetValue(a + b, out int m) ? m : -1));
        }
        return result;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, BpeModel model, Ctx ctx)
    {
        var result = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var a) || a.ValueKind == JsonValueKind.Null) return result;
        if (a.ValueKind != JsonValueKind.Array) throw ctx.Error("added_tokens", "expected an array");
        int i = 0;
        int maxAdded = -1;
        foreach (var e in a.EnumerateArray())
        {
            string path = $"added_tokens[{i}]";
            if (e.ValueKind != JsonValueKind.Object) throw ctx.Error(path, "expected an object");
            var content = ctx.String(e, "content", path);
            if (content.Length == 0) throw ctx.Error(path + ".content", "must not be empty");
            if (e.TryGetProperty("id", out var idJson) && !(idJson.ValueKind == JsonValueKind.Number && idJson.TryGetInt32(out int given) && given >= 0))
                throw ctx.Error(path + ".id", "expected a non-negative integer");
            // HF ignores the file's ids (it only warns): a token the model has keeps the model's id, a repeated
            // one keeps its first id, a new one gets max(added ids so far, model size - 1) + 1.
            int id;
            var earlier = result.FirstOrDefault(t => t.Content == content);
            if (model.TryTokenToId(content, out int modelId)) id = modelId;
            else if (earlier is not null) id = earlier.Id;
            else id = Math.Max(maxAdded, model.VocabCount - 1) + 1;
            maxAdded = Math.Max(maxAdded, id);
            bool special = ctx.Bool(e, "special", path, false);
            result.Add(new AddedToken(id, content, special, ctx.Bool(e, "single_word", path, false), ctx.Bool(e, "lstrip", path, false),
                ctx.Bool(e, "rstrip", path, false), ctx.Bool(e, "normalized", path, !special)));
            i++;
        }
        return result;
    }

    private static ISplitPattern ReadPattern(JsonElement e, Ctx ctx, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) throw ctx.Error(path, "expected {\"String\": ...} or {\"Regex\": ...}");
        if (e.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String) return new LiteralPattern(s.GetString()!);
        if (e.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String)
        {
            var pattern = r.GetString()!;
            return PreTokenizerRegexScanner.For(pattern) ?? (ISplitPattern)new RegexPattern(pattern, ctx.Error(path, "").Message.TrimEnd(':', ' '));
        }
        throw ctx.Error(path, "expected {\"String\": ...} or {\"Regex\": ...}");
    }

    private static string PatternText(JsonElement e) =>
        e.TryGetProperty("String", out var s) ? "String " + Escape.Json(s.GetString() ?? "") : e.TryGetProperty("Regex", out var r) ? "Regex " + Escape.Json(r.GetString() ?? "") : "?";

    private static INormalizer ReadNormalizer(JsonElement e, Ctx ctx, string path)
    {
        string type = ctx.Type(e, path);
        switch (type)
        {
            case "NFC": return new UnicodeNormalizer(UnicodeNormalizationForm.NFC);
            case "NFD": return new UnicodeNormalizer(UnicodeNormalizationForm.NFD);
            case "NFKC": return new UnicodeNormalizer(UnicodeNormalizationForm.NFKC);
            case "NFKD": return new UnicodeNormalizer(UnicodeNormalizationForm.NFKD);
            case "Lowercase": return new LowercaseNormalizer();
            case "Prepend": return new PrependNormalizer(ctx.String(e, "prepend", path));
            case "Strip": return new StripNormalizer(ctx.Bool(e, "strip_left", path, true), ctx.Bool(e, "strip_right", path, true));
            case "Replace":
            {
                if (!e.TryGetProperty("pattern", out var p)) throw ctx.Error(path + ".pattern", "missing");
                return new ReplaceNormalizer(ReadPattern(p, ctx, path + ".pattern"), ctx.String(e, "content", path), $"Replace({PatternText(p)} -> {Escape.Json(ctx.String(e, "content", path))})");
            }
            case "Sequence":
            {
                var list = new List<INormalizer>();
                int i = 0;
                foreach (var n in ctx.Array(e, "normalizers", path).EnumerateArray()) list.Add(ReadNormalizer(n, ctx, $"{path}.normalizers[{i++}]"));
                return new SequenceNormalizer(list);
            }
            default:
                throw ctx.Error(path + ".type", $"normalizer '{type}' is not supported (supported: NFC, NFD, NFKC, NFKD, Prepend, Replace, Lowercase, Strip, Sequence)");
        }
    }

    private static SplitBehavior ReadBehavior(JsonElement e, Ctx ctx, string path, SplitBehavior fallback)
    {
        if (!e.TryGetProperty("behavior", out var b) || b.ValueKind == JsonValueKind.Null) return fallback;
        return b.GetString() switch
        {
            "Removed" => SplitBehavior.Removed,
            "Isolated" => SplitBehavior.Isolated,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            "Contiguous" => SplitBehavior.Contiguous,
            _ => throw ctx.Error(path + ".behavior", "expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous"),
        };
    }

    private static PrependScheme ReadPrependScheme(JsonElement e, Ctx ctx, string path)
    {
        if (e.TryGetProperty("prepend_scheme", out var s) && s.ValueKind == JsonValueKind.String)
        {
            return s.GetString() switch
            {
                "first" => PrependScheme.First,
                "always" => PrependScheme.Always,
                "never" => PrependScheme.Never,
                _ => throw ctx.Error(path + ".prepend_scheme", "expected first, always or never"),
            };
        }
        // Older files: add_prefix_space true means "always".
        return ctx.Bool(e, "add_prefix_space", path, true) ? PrependScheme.Always : PrependScheme.Never;
    }

    private static char ReadReplacement(JsonElement e, Ctx ctx, string path)
    {
        var r = ctx.String(e, "replacement", path, "\u2581");
        if (r.Length != 1) throw ctx.Error(path + ".replacement", "expected a single character");
        return r[0];
    }

    private static IPreTokenizer ReadPreTokenizer(JsonElement e, Ctx ctx, string path, ref bool byteLevel)
    {
        string type = ctx.Type(e, path);
        if (byteLevel) throw ctx.Error(path, $"pre-tokenizer '{type}' after ByteLevel is not supported (ByteLevel must come last)");
        switch (type)
        {
            case "ByteLevel":
                byteLevel = true;
                return new ByteLevelPreTokenizer(ctx.Bool(e, "add_prefix_space", path, true), ctx.Bool(e, "use_regex", path, true), ctx.Bool(e, "trim_offsets", path, true));
            case "Split":
            {
                if (!e.TryGetProperty("pattern", out var p)) throw ctx.Error(path + ".pattern", "missing");
                var pattern = ReadPattern(p, ctx, path + ".pattern");
                bool invert = ctx.Bool(e, "invert", path, false);
                var behavior = ReadBehavior(e, ctx, path, SplitBehavior.Removed);
                return new SplitPreTokenizer(invert ? new InvertedPattern(pattern) : pattern, behavior, $"Split({PatternText(p)}, behavior={behavior}, invert={invert})");
            }
            case "Metaspace":
                return new MetaspacePreTokenizer(ReadReplacement(e, ctx, path), ReadPrependScheme(e, ctx, path), ctx.Bool(e, "split", path, true));
            case "Digits":
            {
                bool individual = ctx.Bool(e, "individual_digits", path, false);
                return new SplitPreTokenizer(PreTokenizerPatterns.Numeric, individual ? SplitBehavior.Isolated : SplitBehavior.Contiguous, $"Digits(individual_digits={individual})");
            }
            case "Punctuation":
            {
                var behavior = ReadBehavior(e, ctx, path, SplitBehavior.Isolated);
                return new SplitPreTokenizer(PreTokenizerPatterns.Punctuation, behavior, $"Punctuation(behavior={behavior})");
            }
            case "Whitespace":
                return new SplitPreTokenizer(PreTokenizerPatterns.WordsOrSymbols, SplitBehavior.Removed, "Whitespace");
            case "WhitespaceSplit":
                return new SplitPreTokenizer(PreTokenizerPatterns.WhitespaceChar, SplitBehavior.Removed, "WhitespaceSplit");
            case "Sequence":
            {
                var list = new List<IPreTokenizer>();
                int i = 0;
                foreach (var n in ctx.Array(e, "pretokenizers", path).EnumerateArray()) list.Add(ReadPreTokenizer(n, ctx, $"{path}.pretokenizers[{i++}]", ref byteLevel));
                return new SequencePreTokenizer(list);
            }
            default:
                throw ctx.Error(path + ".type", $"pre-tokenizer '{type}' is not supported (supported: ByteLevel, Split, Metaspace, Digits, Punctuation, Whitespace, WhitespaceSplit, Sequence)");
        }
    }

    private static IPostProcessor ReadPostProcessor(JsonElement e, Ctx ctx, string path, Func<string, string, int> idOf)
    {
        string type = ctx.Type(e, path);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPostProcessor(ctx.Bool(e, "trim_offsets", path, true), ctx.Bool(e, "add_prefix_space", path, true));
            case "TemplateProcessing":
            {
                var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
                if (e.TryGetProperty("special_tokens", out var st) && st.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in st.EnumerateObject())
                    {
                        string sp = $"{path}.special_tokens[{Escape.Json(p.Name)}]";
                        if (p.Value.ValueKind != JsonValueKind.Object || !p.Value.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
                            throw ctx.Error(sp, "expected an object with an 'ids' array");
                        specials[p.Name] = ids.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int v) && v >= 0 ? v : throw ctx.Error(sp + ".ids", "expected non-negative integers")).ToArray();
                    }
                }
                var single = ReadTemplate(ctx.Array(e, "single", path), $"{path}.single", specials, ctx, idOf, pair: false, out var singleText);
                List<TemplatePiece>? pairTemplate = null;
                string pairText = "";
                if (e.TryGetProperty("pair", out var pairJson) && pairJson.ValueKind == JsonValueKind.Array)
                    pairTemplate = ReadTemplate(pairJson, $"{path}.pair", specials, ctx, idOf, pair: true, out pairText);
                return new TemplatePostProcessor(single, pairTemplate, $"TemplateProcessing(single: {singleText}{(pairTemplate is null ? "" : "; pair: " + pairText)})");
            }
            case "Sequence":
            {
                var list = new List<IPostProcessor>();
                int i = 0;
                foreach (var n in ctx.Array(e, "processors", path).EnumerateArray()) list.Add(ReadPostProcessor(n, ctx, $"{path}.processors[{i++}]", idOf));
                return new SequencePostProcessor(list);
            }
            default:
                throw ctx.Error(path + ".type", $"post-processor '{type}' is not supported (supported: TemplateProcessing, ByteLevel, Sequence)");
        }
    }

    private static List<TemplatePiece> ReadTemplate(JsonElement template, string path, Dictionary<string, int[]> specials, Ctx ctx, Func<string, string, int> idOf, bool pair, out string text)
    {
        var pieces = new List<TemplatePiece>();
        var words = new List<string>();
        int i = 0;
        foreach (var piece in template.EnumerateArray())
        {
            string pp = $"{path}[{i++}]";
            if (piece.ValueKind != JsonValueKind.Object) throw ctx.Error(pp, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            if (piece.TryGetProperty("Sequence", out var seq) && seq.ValueKind == JsonValueKind.Object)
            {
                var sid = seq.TryGetProperty("id", out var x) && x.ValueKind == JsonValueKind.String ? x.GetString() : null;
                if (sid is not ("A" or "B") || (!pair && sid == "B")) throw ctx.Error(pp, pair ? "expected sequence A or B" : "the single template may only use sequence A");
                if (pieces.Any(p => p.Sequence == sid[0])) throw ctx.Error(pp, $"sequence {sid} appears twice");
                pieces.Add(new TemplatePiece(sid[0], [], ctx.Int(seq, "type_id", pp + ".Sequence", 0)));
                words.Add("$" + sid);
            }
            else if (piece.TryGetProperty("SpecialToken", out var tok) && tok.ValueKind == JsonValueKind.Object)
            {
                var name = tok.TryGetProperty("id", out var x) && x.ValueKind == JsonValueKind.String ? x.GetString()! : throw ctx.Error(pp, "expected SpecialToken.id");
                var ids = specials.TryGetValue(name, out var known) ? known : [idOf(name, pp)];
                pieces.Add(new TemplatePiece('\0', ids, ctx.Int(tok, "type_id", pp + ".SpecialToken", 0)));
                words.Add(name);
            }
            else throw ctx.Error(pp, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
        if (!pieces.Any(p => p.Sequence == 'A')) throw ctx.Error(path, "the template must contain sequence A");
        if (pair && !pieces.Any(p => p.Sequence == 'B')) throw ctx.Error(path, "the pair template must contain sequence B");
        text = string.Join(" ", words);
        return pieces;
    }

    private static IDecoder ReadDecoder(JsonElement e, Ctx ctx, string path)
    {
        string type = ctx.Type(e, path);
        switch (type)
        {
            case "ByteLevel": return new ByteLevelDecoder();
            case "Metaspace": return new MetaspaceDecoder(ReadReplacement(e, ctx, path), ReadPrependScheme(e, ctx, path));
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
            {
                var content = ctx.String(e, "content", path);
                if (content.EnumerateRunes().Count() != 1) throw ctx.Error(path + ".content", "expected a single character");
                return new StripDecoder(content, ctx.Int(e, "start", path, 0), ctx.Int(e, "stop", path, 0));
            }
            case "Replace":
            {
                if (!e.TryGetProperty("pattern", out var p)) throw ctx.Error(path + ".pattern", "missing");
                var content = ctx.String(e, "content", path);
                return new ReplaceDecoder(new ReplaceNormalizer(ReadPattern(p, ctx, path + ".pattern"), content, $"Replace({PatternText(p)} -> {Escape.Json(content)})"));
            }
            case "Sequence":
            {
                var list = new List<IDecoder>();
                int i = 0;
                foreach (var n in ctx.Array(e, "decoders", path).EnumerateArray()) list.Add(ReadDecoder(n, ctx, $"{path}.decoders[{i++}]"));
                return new SequenceDecoder(list);
            }
            default:
                throw ctx.Error(path + ".type", $"decoder '{type}' is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence)");
        }
    }
}
