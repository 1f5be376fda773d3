using System.Text;
using SharpTune.Text.Tokenization;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary>Bad tokenizer files and bad inputs give clear user errors naming file and field, or HF's replacement behaviour.</summary>
public sealed class TokenizerBadInputTests
{
    // A tiny valid byte-level BPE: bytes 'a', 'b', merge "a b".
    internal static string TinyJson(string? model = null, string normalizer = "null", string preTokenizer = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":true}",
        string decoder = "{\"type\":\"ByteLevel\"}", string post = "null", string extra = "")
    {
        var vocab = new StringBuilder();
        for (int b = 0; b < 256; b++)
        {
            if (b > 0) vocab.Append(',');
            vocab.Append(TokenizerOracle.JsonString(ByteLevelAlphabet.ByteToChar((byte)b).ToString())).Append(':').Append(b);
        }
        vocab.Append(",\"ab\":256");
        model ??= "{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"vocab\":{" + vocab + "},\"merges\":[\"a b\"]}";
        return "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null" + extra + ",\"added_tokens\":[{\"id\":257,\"content\":\"<|x|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
            + "\"normalizer\":" + normalizer + ",\"pre_tokenizer\":" + preTokenizer + ",\"post_processor\":" + post + ",\"decoder\":" + decoder + ",\"model\":" + model + "}";
    }

    private static UserException Fails(string json) => Assert.Throws<UserException>(() => Tokenizer.FromJson(Encoding.UTF8.GetBytes(json), "t.json"));

    [Fact]
    public void TinyTokenizerWorks()
    {
        var t = Tokenizer.FromJson(Encoding.UTF8.GetBytes(TinyJson()), "t.json");
        Assert.Equal([256, 99, 257], t.Encode("abc<|x|>").Ids);
        Assert.Equal("abc<|x|>", t.Decode([256, 99, 257]));
        Assert.Equal("abc", t.Decode([256, 99, 257], skipSpecialTokens: true));
    }

    [Fact]
    public void MalformedOrTruncatedJson()
    {
        var json = TinyJson();
        Assert.Contains("t.json: not valid JSON", Fails(json[..(json.Length / 2)]).Message);
        Assert.Contains("t.json: not valid JSON", Fails("{\"model\": ").Message);
        Assert.Contains("expected a JSON object", Fails("[1,2]").Message);
        Assert.Contains("model: missing", Fails("{}").Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        var e = Assert.Throws<UserException>(() => Tokenizer.Load("/nonexistent/tokenizer.json"));
        Assert.Contains("/nonexistent/tokenizer.json", e.Message);
    }

    [Fact]
    public void UnknownOrUnsupportedComponentsAreNamed()
    {
        Assert.Contains("normalizer.type: normalizer 'BertNormalizer' is not supported", Fails(TinyJson(normalizer: "{\"type\":\"BertNormalizer\"}")).Message);
        Assert.Contains("pre_tokenizer.type: pre-tokenizer 'Bogus'", Fails(TinyJson(preTokenizer: "{\"type\":\"Bogus\"}")).Message);
        Assert.Contains("decoder.type: decoder 'WordPiece'", Fails(TinyJson(decoder: "{\"type\":\"WordPiece\"}")).Message);
        Assert.Contains("post_processor.type: post-processor 'RobertaProcessing'", Fails(TinyJson(post: "{\"type\":\"RobertaProcessing\"}")).Message);
        Assert.Contains("model 'WordPiece' is not supported", Fails(TinyJson(model: "{\"type\":\"WordPiece\",\"vocab\":{}}")).Message);
        Assert.Contains("model 'Unigram' is not supported", Fails(TinyJson(model: "{\"type\":\"Unigram\",\"vocab\":[]}")).Message);
        Assert.Contains("truncation", Fails(TinyJson().Replace("\"truncation\":null", "\"truncation\":{\"max_length\":5}")).Message);
        Assert.Contains("after ByteLevel", Fails(TinyJson(preTokenizer: "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"ByteLevel\"},{\"type\":\"Digits\"}]}")).Message);
    }

    [Fact]
    public void BadModelContents()
    {
        Assert.Contains("model.merges[0]: names 'zz', which is not in model.vocab",
            Fails(TinyJson().Replace("\"merges\":[\"a b\"]", "\"merges\":[\"zz b\"]")).Message);
        Assert.Contains("model.merges[0]: makes 'ba', which is not in model.vocab",
            Fails(TinyJson().Replace("\"merges\":[\"a b\"]", "\"merges\":[\"b a\"]")).Message);
        Assert.Contains("model.merges[0]: expected", Fails(TinyJson().Replace("\"merges\":[\"a b\"]", "\"merges\":[\"ab\"]")).Message);
        Assert.Contains("model.merges[0]: expected", Fails(TinyJson().Replace("\"merges\":[\"a b\"]", "\"merges\":[[\"a\"]]")).Message);
        Assert.Contains("model.dropout", Fails(TinyJson().Replace("\"dropout\":null", "\"dropout\":0.1")).Message);
        Assert.Contains("model.vocab[\"ab\"]", Fails(TinyJson().Replace("\"ab\":256", "\"ab\":\"x\"")).Message);
        Assert.Contains("added_tokens[0].content", Fails(TinyJson().Replace("\"content\":\"<|x|>\"", "\"content\":5")).Message);
    }

    [Fact]
    public void DecodeRejectsUnknownIds()
    {
        var t = Tokenizer.FromJson(Encoding.UTF8.GetBytes(TinyJson()), "t.json");
        Assert.Contains("id 9999 at position 1", Assert.Throws<UserException>(() => t.Decode([97, 9999])).Message);
        Assert.Contains("id -1 at position 0", Assert.Throws<UserException>(() => t.Decode([-1])).Message);
    }

    [Fact]
    public void LoneSurrogatesEncodeAsReplacementCharacter()
    {
        var t = Tokenizer.FromJson(Encoding.UTF8.GetBytes(TinyJson()), "t.json");
        var lone = t.Encode("a\ud800b");
        var replaced = t.Encode("a\ufffdb");
        Assert.Equal(replaced.Ids, lone.Ids);
        Assert.Equal(replaced.Offsets, lone.Offsets);
        Assert.Equal("a\ufffdb", t.Decode(lone.Ids));
    }

    [Fact]
    public void InvalidUtf8InDecodedBytesBecomesReplacementCharacters()
    {
        var t = Tokenizer.FromJson(Encoding.UTF8.GetBytes(TinyJson()), "t.json");
        // 0xF0 0x9F alone is a truncated 4-byte sequence: one U+FFFD (maximal subpart), like Rust's from_utf8_lossy.
        int f0 = t.TokenToId(ByteLevelAlphabet.ByteToChar(0xF0).ToString())!.Value, x9f = t.TokenToId(ByteLevelAlphabet.ByteToChar(0x9F).ToString())!.Value;
        Assert.Equal("a\ufffdb", t.Decode([97, f0, x9f, 98]));
    }
}
