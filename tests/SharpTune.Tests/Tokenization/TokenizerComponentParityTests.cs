using System.Text;
using System.Text.Json.Nodes;
using SharpTune.Text.Tokenization;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary>
/// Parity for pipeline components the five npm tokenizers do not use (Metaspace, Digits, Punctuation,
/// Whitespace, WhitespaceSplit, NFKC/NFD/NFKD, Lowercase, Strip, Split behaviours and invert, unk_token with and
/// without fuse_unk (byte_fallback off), Metaspace prepend_scheme never, GPT-2 ByteLevel with
/// prefix space and trimmed offsets, TemplateProcessing with a suffix, Metaspace/Strip decoders): variants of the
/// Llama 2 and Qwen3 files with swapped components, checked against the native HF binding.
/// </summary>
public sealed class TokenizerComponentParityTests
{
    private static JsonNode N(string json) => JsonNode.Parse(json)!;

    public static TheoryData<string> Variants => new(VariantJson.Keys);

    private static readonly Dictionary<string, (string Base, Dictionary<string, string> Replace)> VariantJson = new()
    {
        ["metaspace-first"] = ("llama2", new()
        {
            ["normalizer"] = "null",
            ["pre_tokenizer"] = """{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}""",
            ["decoder"] = """{"type":"Sequence","decoders":[{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},{"type":"ByteFallback"},{"type":"Fuse"}]}""",
        }),
        ["metaspace-always-nosplit"] = ("llama2", new()
        {
            ["normalizer"] = "null",
            ["pre_tokenizer"] = """{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}""",
            ["post_processor"] = """{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]},"</s>":{"id":"</s>","ids":[2],"tokens":["</s>"]}}}""",
            ["decoder"] = """{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}""",
        }),
        ["words-digits-punct"] = ("llama2", new()
        {
            ["normalizer"] = """{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Lowercase"},{"type":"Strip","strip_left":true,"strip_right":true},{"type":"Replace","pattern":{"String":"  "},"content":" "}]}""",
            ["pre_tokenizer"] = """{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true},{"type":"Punctuation","behavior":"Isolated"}]}""",
            ["decoder"] = """{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}""",
        }),
        ["whitespace-nfd"] = ("llama2", new()
        {
            ["normalizer"] = """{"type":"NFD"}""",
            ["pre_tokenizer"] = """{"type":"Sequence","pretokenizers":[{"type":"Whitespace"},{"type":"Digits","individual_digits":false}]}""",
            ["decoder"] = """{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"}]}""",
        }),
        ["unk-fused-no-byte-fallback"] = ("llama2", new()
        {
            ["model.byte_fallback"] = "false",
            ["pre_tokenizer"] = """{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}""",
            ["normalizer"] = """{"type":"Replace","pattern":{"String":" "},"content":"▁"}""",
        }),
        ["unk-unfused"] = ("llama2", new()
        {
            ["model.byte_fallback"] = "false",
            ["model.fuse_unk"] = "false",
        }),
        ["gpt2-bytelevel"] = ("qwen3", new()
        {
            ["normalizer"] = """{"type":"NFKD"}""",
            ["pre_tokenizer"] = """{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}""",
            ["post_processor"] = """{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}""",
        }),
        ["split-behaviours"] = ("qwen3", new()
        {
            ["normalizer"] = """{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"~"},{"type":"Replace","pattern":{"Regex":"[0-9]+"},"content":"#"}]}""",
            ["pre_tokenizer"] = """{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"String":" "},"behavior":"MergedWithNext","invert":false},{"type":"Split","pattern":{"Regex":"[,.;:!?]"},"behavior":"MergedWithPrevious","invert":false},{"type":"Split","pattern":{"String":"e"},"behavior":"Contiguous","invert":false},{"type":"Split","pattern":{"Regex":"x+"},"behavior":"Removed","invert":false},{"type":"Split","pattern":{"String":"a"},"behavior":"Isolated","invert":true},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]}""",
        }),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void VariantMatchesHuggingFace(string variant)
    {
        TokenizerOracle.Require();
        var (baseName, replace) = VariantJson[variant];
        var root = JsonNode.Parse(File.ReadAllText(TokenizerOracle.TokenizerPath(baseName)))!.AsObject();
        foreach (var (key, json) in replace)
        {
            var target = key.StartsWith("model.", StringComparison.Ordinal) ? root["model"]!.AsObject() : root;
            target[key.StartsWith("model.", StringComparison.Ordinal) ? key[6..] : key] = json == "null" ? null : N(json);
        }
        CheckAgainstHuggingFace(variant, root, TokenizerCorpus.Fixed().Concat(TokenizerCorpus.Random(7, 400)).ToList());
    }

    /// <summary>
    /// Added-token options the npm files do not use: lstrip, rstrip, single_word, and normalized matching (through
    /// Qwen3's NFC normalizer), on special and non-special tokens.
    /// </summary>
    [Fact]
    public void AddedTokenOptionsMatchHuggingFace()
    {
        TokenizerOracle.Require();
        var root = JsonNode.Parse(File.ReadAllText(TokenizerOracle.TokenizerPath("qwen3")))!.AsObject();
        var added = root["added_tokens"]!.AsArray();
        void Set(string content, string field, bool value)
        {
            added.Single(t => (string)t!["content"]! == content)![field] = value;
        }
        Set("<|im_start|>", "lstrip", true);
        Set("<|im_end|>", "rstrip", true);
        Set("<tool_call>", "single_word", true);
        Set("</tool_call>", "lstrip", true);
        Set("</tool_call>", "rstrip", true);
        Set("<think>", "normalized", true);
        Set("<|endoftext|>", "single_word", true);
        Set("<|endoftext|>", "normalized", true);
        var rng = new Random(11);
        string[] pieces = ["<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<think>", "<|endoftext|>", " ", "  ", "\n", "\t", "a", "word", "_", "1", ".", "é", "e\u0301", "\u2461", "\u200d", "\u0903", "\u00a0"];
        var texts = TokenizerCorpus.Fixed().Concat(Enumerable.Range(0, 500).Select(_ =>
            string.Concat(Enumerable.Range(0, rng.Next(1, 12)).Select(_ => pieces[rng.Next(pieces.Length)])))).ToList();
        CheckAgainstHuggingFace("added-token-options", root, texts);
    }

    /// <summary>HF ignores the ids written in added_tokens and numbers new tokens after the vocabulary; so must we.</summary>
    [Fact]
    public void AddedTokenIdsAreAssignedLikeHuggingFace()
    {
        TokenizerOracle.Require();
        var root = JsonNode.Parse(File.ReadAllText(TokenizerOracle.TokenizerPath("llama2")))!.AsObject();
        var added = root["added_tokens"]!.AsArray();
        added.Add(N("""{"id":40000,"content":"<extra_a>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}"""));
        added.Add(N("""{"id":35000,"content":"<extra_b>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":false}"""));
        added.Add(N("""{"id":7,"content":"<extra_a>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}"""));
        added.Add(N("""{"id":9,"content":"▁the","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}"""));
        CheckAgainstHuggingFace("added-token-ids", root, ["x<extra_a>y<extra_b>", "<extra_b><extra_a> the cat", "the▁the"]);
    }

    /// <summary>continuing_subword_prefix and end_of_word_suffix (WordPiece-style BPE files), with unk fusing.</summary>
    [Theory]
    [InlineData("prefix", """{"[UNK]":0,"a":1,"b":2,"c":3,"##a":4,"##b":5,"##c":6,"ab":7,"abc":8,"##bc":9}""", """[["a","##b"],["ab","##c"],["##b","##c"]]""", "\"##\"", "null")]
    [InlineData("suffix", """{"[UNK]":0,"a":1,"b":2,"c":3,"a</w>":4,"b</w>":5,"c</w>":6,"ab":7,"ab</w>":8,"bc</w>":9}""", """[["a","b"],["a","b</w>"],["b","c</w>"]]""", "null", "\"</w>\"")]
    public void SubwordPrefixAndSuffixMatchHuggingFace(string name, string vocab, string merges, string prefix, string suffix)
    {
        TokenizerOracle.Require();
        var root = N("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],\"normalizer\":null,"
            + "\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"post_processor\":null,\"decoder\":null,\"model\":{\"type\":\"BPE\",\"dropout\":null,"
            + "\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":" + prefix + ",\"end_of_word_suffix\":" + suffix + ",\"fuse_unk\":true,\"byte_fallback\":false,"
            + "\"ignore_merges\":false,\"vocab\":" + vocab + ",\"merges\":" + merges + "}}").AsObject();
        var rng = new Random(5);
        string[] pieces = ["a", "b", "c", "x", "y", "ab", "bc", "abc", " ", " "];
        var texts = Enumerable.Range(0, 300).Select(_ => string.Concat(Enumerable.Range(0, rng.Next(1, 15)).Select(_ => pieces[rng.Next(pieces.Length)]))).ToList();
        CheckAgainstHuggingFace(name, root, texts);
    }

    private static void CheckAgainstHuggingFace(string variant, JsonObject root, List<string> texts)
    {
        using var dir = TestEnvironment.TempDir();
        var path = dir.File("tokenizer.json");
        File.WriteAllText(path, root.ToJsonString(), new UTF8Encoding(false));

        var tokenizer = Tokenizer.Load(path);
        var expected = TokenizerOracle.Run(path, texts.Select(TokenizerOracle.TextRequest).ToList());
        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            var e = expected[i];
            foreach (bool special in new[] { false, true })
            {
                var enc = tokenizer.Encode(texts[i], special);
                var wantIds = TokenizerOracle.Ints(e.GetProperty(special ? "ids_special" : "ids"));
                var wantOffsets = TokenizerOracle.Pairs(e.GetProperty(special ? "offsets_special" : "offsets"));
                var gotOffsets = enc.GetCodePointOffsets(texts[i]).Select(o => (o.Start, o.End)).ToArray();
                if (!enc.Ids.SequenceEqual(wantIds))
                    failures.Add($"#{i} special={special} ids for {TokenizerOracle.JsonString(texts[i])}\n  want {string.Join(",", wantIds)}\n  got  {string.Join(",", enc.Ids)}");
                else if (!gotOffsets.SequenceEqual(wantOffsets))
                    failures.Add($"#{i} special={special} offsets for {TokenizerOracle.JsonString(texts[i])}\n  want {string.Join(",", wantOffsets)}\n  got  {string.Join(",", gotOffsets)}");
            }
            var idsSpecial = TokenizerOracle.Ints(e.GetProperty("ids_special"));
            var want = e.GetProperty("decode_special").GetString()!;
            var got = tokenizer.Decode(idsSpecial);
            if (want != got) failures.Add($"#{i} decode\n  want {TokenizerOracle.JsonString(want)}\n  got  {TokenizerOracle.JsonString(got)}");
        }
        Assert.True(failures.Count == 0, $"{variant}: {failures.Count} mismatches over {texts.Count} texts:\n" + string.Join("\n", failures.Take(6)));
    }
}
