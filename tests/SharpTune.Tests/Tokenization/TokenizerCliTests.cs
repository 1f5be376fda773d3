using System.Text;
using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary><c>sharptune tokenizer encode|decode|info|train</c>, run in-process through the CLI app.</summary>
public sealed class TokenizerCliTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(stdin));
        return (code, o.ToString(), e.ToString());
    }

    private static string Tiny(TempDir dir)
    {
        var path = dir.File("tokenizer.json");
        File.WriteAllText(path, TokenizerBadInputTests.TinyJson(), new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void EncodeWritesIdsOffsetsAndTokens()
    {
        using var dir = TestEnvironment.TempDir();
        var (code, output, err) = Run("{\"text\":\"ab\\ud83d\\ude00c\"}\n\n{\"text\":\"<|x|>\"}\n", "tokenizer", "encode", "--tokenizer", Tiny(dir), "--offsets", "--tokens");
        Assert.True(code == 0, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal([256, 240, 159, 152, 128, 99], first.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        // Offsets are code points: the emoji is one, so 'c' is [3,4].
        Assert.Equal("[[0,2],[2,3],[2,3],[2,3],[2,3],[3,4]]", first.RootElement.GetProperty("offsets").GetRawText());
        Assert.Equal("ab", first.RootElement.GetProperty("tokens")[0].GetString());
        Assert.Equal("{\"ids\":[257]}", Run("{\"text\":\"<|x|>\"}", "tokenizer", "encode", "--tokenizer", Tiny(dir)).Out.Trim());
    }

    [Fact]
    public void DecodeWritesTextAndSkipsSpecialTokens()
    {
        using var dir = TestEnvironment.TempDir();
        var path = Tiny(dir);
        Assert.Equal("{\"text\":\"abc<|x|>\"}", Run("{\"ids\":[256,99,257]}", "tokenizer", "decode", "--tokenizer", path).Out.Trim());
        Assert.Equal("{\"text\":\"abc\"}", Run("{\"ids\":[256,99,257]}", "tokenizer", "decode", "--tokenizer", path, "--skip-special-tokens").Out.Trim());
    }

    [Fact]
    public void BadInputIsAOneLineUserError()
    {
        using var dir = TestEnvironment.TempDir();
        var path = Tiny(dir);
        var (code, _, err) = Run("{\"text\":\"a\"}\n{\"txt\":\"b\"}\n", "tokenizer", "encode", "--tokenizer", path);
        Assert.Equal(1, code);
        Assert.Contains("stdin line 2", err);
        (code, _, err) = Run("{\"ids\":[1,70000]}\n", "tokenizer", "decode", "--tokenizer", path);
        Assert.Equal(1, code);
        Assert.Contains("stdin line 1: id 70000", err);
        (code, _, err) = Run("not json\n", "tokenizer", "encode", "--tokenizer", path);
        Assert.Equal(1, code);
        Assert.Contains("stdin line 1: not valid JSON", err);
        (code, _, err) = Run("", "tokenizer", "encode", "--tokenizer", dir.File("missing.json"));
        Assert.Equal(1, code);
        Assert.Contains("missing.json", err);
    }

    [Fact]
    public void InfoDescribesThePipeline()
    {
        using var dir = TestEnvironment.TempDir();
        var (code, output, _) = Run("", "tokenizer", "info", Tiny(dir));
        Assert.Equal(0, code);
        Assert.Contains("model: BPE (byte-level)", output);
        Assert.Contains("vocab size: 258", output);
        Assert.Contains("\"<|x|>\"", output);
        Assert.Contains("pre_tokenizer: ByteLevel(add_prefix_space=False, use_regex=True", output);
    }

    [Fact]
    public void TrainWritesALoadableTokenizer()
    {
        using var dir = TestEnvironment.TempDir();
        var input = dir.File("train.jsonl");
        File.WriteAllLines(input, Enumerable.Range(0, 300).Select(i => JsonSerializer.Serialize(new { text = $"<|im_start|>user\nmovie {i % 17} is good, rating {i % 5}<|im_end|>" })));
        var outDir = Path.Combine(dir.Path, "tok");
        var (code, output, err) = Run("", "tokenizer", "train", "--input", input, "--vocab-size", "300", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Equal(Path.Combine(outDir, "tokenizer.json"), output.Trim());
        var (c2, encoded, e2) = Run("{\"text\":\"<|im_start|>user\\nmovie 3 is good<|im_end|>\"}", "tokenizer", "encode", "--tokenizer", output.Trim(), "--tokens");
        Assert.True(c2 == 0, e2);
        Assert.Contains("\"tokens\":[\"<|im_start|>\",\"user\",\"Ċ\",\"movie\"", encoded);
        Assert.Contains("no pair left", err); // 300 words of this text cannot fill 300 entries; the shortfall is reported
        (code, _, err) = Run("", "tokenizer", "train", "--input", input, "--vocab-size", "10", "--out", dir.File("tok2"));
        Assert.Equal(1, code);
        Assert.Contains("--vocab-size", err);
    }
}
