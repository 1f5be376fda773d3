using System.Text;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Text.Templates;

namespace SharpTune.Tests.Cli;

/// <summary>
/// Error texts and checks of issue 15 that the file-error harness does not cover: unknown template names, invisible
/// characters in a wrong header, LoRA shape flags beside an adapter, and a u.item saved as UTF-8.
/// </summary>
public sealed class UserErrorTextTests
{
    private static readonly string BuiltinList = string.Join(", ", ChatTemplate.BuiltinNames);

    private static string OneErrorLine(int code, string err)
    {
        Assert.True(code == CliApp.UserError, $"exit {code}: {err}");
        return Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    public static TheoryData<string> TemplateVerbs() => ["template render", "preprocess", "stats", "inspect-masking", "generate"];

    [Theory]
    [MemberData(nameof(TemplateVerbs))]
    public void AnUnknownTemplateNameListsTheBuiltInNames(string verb)
    {
        using var dir = TestEnvironment.TempDir();
        string[] Args(string template) => verb switch
        {
            "template render" => ["template", "render", "--template", template],
            "generate" => ["generate", "--model", Model(dir), "--prompt", "abc", "--chat", "--template", template],
            _ => [verb, "--data", Data(dir), "--tokenizer", Tokenizer(dir), "--template", template, .. verb == "preprocess" ? new[] { "--cache-dir", dir.File("cache") } : []],
        };
        var (code, _, err) = TinyModelFiles.Cli(Args("nosuch"));
        Assert.Equal($"error: unknown template 'nosuch'; expected a .jinja file or one of: {BuiltinList}", OneErrorLine(code, err));
        (code, _, err) = TinyModelFiles.Cli(Args(dir.File("gone.jinja")));
        Assert.Equal($"error: {dir.File("gone.jinja")}: template file not found; expected a .jinja file or one of: {BuiltinList}", OneErrorLine(code, err));
        (code, _, err) = TinyModelFiles.Cli(Args(dir.Path));
        Assert.Equal($"error: {dir.Path}: is a directory; expected a .jinja template file or one of: {BuiltinList}", OneErrorLine(code, err));
    }

    [Fact]
    public void GenerateChatOnAFolderWithoutATemplateNamesTheTemplateOptionItHas()
    {
        using var dir = TestEnvironment.TempDir();
        var model = Model(dir);
        var (code, _, err) = TinyModelFiles.Cli("generate", "--model", model, "--prompt", "abc", "--chat", "--max-new-tokens", "1");
        var line = OneErrorLine(code, err);
        Assert.Contains("tokenizer_config.json has no chat_template; give --template", line);
        Assert.Contains("--template", CliApp.LeafHelp(SharpTune.Cli.CommandTree.Root().Subcommands.Single(c => c.Name == "generate"), ["sharptune", "generate"]));
        (code, var output, err) = TinyModelFiles.Cli("generate", "--model", model, "--prompt", "abc", "--chat", "--template", "chatml", "--system", "Be brief.", "--max-new-tokens", "1");
        Assert.True(code == 0, err);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("movieId,title,genres\r\r\n", @"'movieId,title,genres\r'")]
    [InlineData("\uFEFF\uFEFFmovieId,title,genres\n", @"'\uFEFFmovieId,title,genres'")]
    [InlineData("movieId,title,\u00A0genres\n", @"'movieId,title,\u00A0genres'")]
    [InlineData("movieId,title\tx,genres\n", @"'movieId,title\tx,genres'")]
    public void AWrongHeaderShowsItsInvisibleCharacters(string header, string shown)
    {
        using var dir = TestEnvironment.TempDir();
        File.WriteAllText(dir.File("ratings.csv"), "userId,movieId,rating,timestamp\n1,1,4.0,1\n", new UTF8Encoding(false));
        File.WriteAllText(dir.File("movies.csv"), header + "1,A (2000),Drama\n", new UTF8Encoding(false));
        var (code, _, err) = TinyModelFiles.Cli("prepare", "movielens", "--ratings", dir.File("ratings.csv"), "--movies", dir.File("movies.csv"), "--out", dir.File("out"));
        Assert.EndsWith($": wrong header {shown}; expected 'movieId,title,genres'", OneErrorLine(code, err));
    }

    [Theory]
    [InlineData("--lora-rank", "8")]
    [InlineData("--lora-alpha", "4")]
    [InlineData("--lora-targets", "q_proj")]
    [InlineData("--rslora", null)]
    public void LoraShapeFlagsBesideAnAdapterOrFullAreErrors(string flag, string? value)
    {
        using var dir = TestEnvironment.TempDir();
        string[] shape = value is null ? [flag] : [flag, value];
        string[] common = ["bench", "train-step", "--model", Model(dir), "--steps", "1", "--warmup", "0", "--batch", "1", "--seq", "4", "--supervised", "1"];
        var adapter = dir.File("adapter");
        Directory.CreateDirectory(adapter);
        var (code, _, err) = TinyModelFiles.Cli([.. common, "--adapter", adapter, .. shape]);
        Assert.Equal($"error: {flag}: the adapter {adapter} fixes the LoRA shape (its adapter_config.json); drop the option or leave out --adapter", OneErrorLine(code, err));
        (code, _, err) = TinyModelFiles.Cli([.. common, "--full", .. shape]);
        Assert.Equal($"error: {flag}: LoRA shape options do not apply to --full fine-tuning", OneErrorLine(code, err));
        (code, _, err) = TinyModelFiles.Cli([.. common, .. shape]);
        Assert.True(code == 0, err);
    }

    [Fact]
    public void AnMl100kItemFileSavedAsUtf8IsReadAsUtf8AndSaysSo()
    {
        using var dir = TestEnvironment.TempDir();
        var ratings = new StringBuilder();
        for (int u = 1; u <= 4; u++)
            for (int m = 1; m <= 4; m++) ratings.Append($"{u}\t{m}\t{(m % 2 == 0 ? 5 : 2)}\t{u * 100 + m}\n");
        File.WriteAllText(dir.File("u.data"), ratings.ToString());
        string Item(int id, string title) => $"{id}|{title}|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n";
        var items = Item(1, "Cérémonie, La (1995)") + Item(2, "Toy Story (1995)") + Item(3, "Heat (1995)") + Item(4, "Señorita (1996)");
        string Titles(string outDir) => File.ReadAllText(Path.Combine(outDir, "train.json")) + File.ReadAllText(Path.Combine(outDir, "test_raw.jsonl"));
        string[] Args(string movies, string outDir) => ["prepare", "movielens", "--format", "100k", "--ratings", dir.File("u.data"), "--movies", movies,
            "--out", outDir, "--history-len", "2", "--eval-size", "0", "--test-ratio", "0.25", "--val-ratio", "0"];

        // As GroupLens ships it: latin-1.
        File.WriteAllBytes(dir.File("latin1.item"), Encoding.Latin1.GetBytes(items));
        var (code, output, err) = TinyModelFiles.Cli(Args(dir.File("latin1.item"), dir.File("a")));
        Assert.True(code == 0, err);
        Assert.Contains("read as latin-1", output);
        Assert.Contains("Cérémonie", Titles(dir.File("a")));
        Assert.Equal("latin-1", MoviesEncoding(dir.File("a")));

        // Re-saved as UTF-8: detected, decoded as UTF-8 (no "CÃ©rÃ©monie"), and said.
        File.WriteAllBytes(dir.File("utf8.item"), new UTF8Encoding(false).GetBytes(items));
        (code, output, err) = TinyModelFiles.Cli(Args(dir.File("utf8.item"), dir.File("b")));
        Assert.True(code == 0, err);
        Assert.Contains($"note: {dir.File("utf8.item")} is valid UTF-8 with multi-byte characters, so it was read as UTF-8", output);
        Assert.Contains("Cérémonie", Titles(dir.File("b")));
        Assert.DoesNotContain("Ã", Titles(dir.File("b")));
        Assert.Equal("utf-8", MoviesEncoding(dir.File("b")));
    }

    [Fact]
    public void ChatSaysWhenItCapsContextAtMaxPositionEmbeddings()
    {
        using var dir = TestEnvironment.TempDir();
        var model = Model(dir);
        int max = SharpTune.Models.ModelConfigJson.Load(model).MaxPositionEmbeddings;
        var o = new StringWriter();
        var e = new StringWriter();
        string[] args = ["chat", "--model", model, "--template", "chatml", "--max-new-tokens", "1", "--context", $"{max + 1}"];
        int code = new CliApp(SharpTune.Cli.CommandTree.Root()).Run(args, o, e, new StringReader("abc\n"));
        Assert.True(code == 0, e.ToString());
        Assert.Contains($"warning: --context {max + 1} is past the model's max_position_embeddings {max} (config.json); conversations are limited to {max} tokens", e.ToString());
        e = new StringWriter();
        code = new CliApp(SharpTune.Cli.CommandTree.Root()).Run([.. args[..^1], $"{max}"], new StringWriter(), e, new StringReader("abc\n"));
        Assert.True(code == 0, e.ToString());
        Assert.DoesNotContain("warning:", e.ToString());
    }

    private static string MoviesEncoding(string outDir) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json"))).RootElement.GetProperty("inputs").GetProperty("movies").GetProperty("encoding").GetString()!;

    private static string Tokenizer(TempDir dir)
    {
        var path = dir.File("tok");
        return Directory.Exists(path) ? path : TinyModelFiles.WriteTokenizer(path);
    }

    private static string Data(TempDir dir)
    {
        var path = dir.File("data.jsonl");
        if (!File.Exists(path)) File.WriteAllText(path, "{\"text\": \"abcabc\"}\n");
        return path;
    }

    private static string Model(TempDir dir)
    {
        var path = dir.File("model");
        if (Directory.Exists(path)) return path;
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", Tokenizer(dir), path));
        Assert.True(code == 0, err);
        return path;
    }
}
