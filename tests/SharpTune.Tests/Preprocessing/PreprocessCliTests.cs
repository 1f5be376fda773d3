using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Support;
using SharpTune.Tests.Tokenization;

namespace SharpTune.Tests.Preprocessing;

public class PreprocessCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    private static string Qwen3Dir()
    {
        TokenizerOracle.Require();
        return Path.GetDirectoryName(TokenizerOracle.TokenizerPath("qwen3"))!;
    }

    private static string Data(TempDir tmp)
    {
        var path = tmp.File("train.jsonl");
        File.WriteAllText(path,
            "{\"instruction\": \"Is 2 even?\", \"input\": \"\", \"output\": \"Yes\", \"system\": \"Answer Yes or No.\"}\n" +
            "{\"instruction\": \"Is 3 even?\", \"input\": \"\", \"output\": \"No\"}\n");
        return path;
    }

    [Fact]
    public void PreprocessWritesACacheEntryAndReusesIt()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = Data(tmp);
        var args = new[] { "preprocess", "--data", data, "--tokenizer", Qwen3Dir(), "--cache-dir", tmp.File("cache"), "--json" };
        var (code, output, err) = Run(args);
        Assert.True(code == 0, err);
        var first = JsonDocument.Parse(output).RootElement;
        Assert.False(first.GetProperty("from_cache").GetBoolean());
        Assert.Equal(2, first.GetProperty("kept").GetInt32());
        Assert.Equal(4, first.GetProperty("supervised_tokens").GetInt64()); // Yes/No + <|im_end|> each
        var second = JsonDocument.Parse(Run(args).Out).RootElement;
        Assert.True(second.GetProperty("from_cache").GetBoolean());
        Assert.Equal(first.GetProperty("key").GetString(), second.GetProperty("key").GetString());
        var third = JsonDocument.Parse(Run([.. args, "--cutoff-len", "512"]).Out).RootElement;
        Assert.NotEqual(first.GetProperty("key").GetString(), third.GetProperty("key").GetString());
    }

    [Fact]
    public void FlagsGoThroughTheBinderAndTheEntryRecordsThePromptSettings()
    {
        using var tmp = TestEnvironment.TempDir();
        var args = new[] { "preprocess", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--cache-dir", tmp.File("cache"), "--json",
            "--default-system", "Be brief.", "--enable-thinking", "true", "--template-kwarg", "custom=\"v\"" };
        var (code, output, err) = Run(args);
        Assert.True(code == 0, err);
        var entry = JsonDocument.Parse(output).RootElement.GetProperty("entry").GetString()!;
        var saved = SharpTune.Preprocessing.PromptSettingsFile.Read(entry);
        Assert.Equal("Be brief.", saved.DefaultSystem);
        Assert.Equal(SharpTune.Preprocessing.ThinkBlockPlacement.Answer, saved.ThinkBlock);
        Assert.Equal("v", saved.TemplateKwargs["custom"]);
        Assert.Contains("<|im_start|>", saved.TemplateSource); // the folder's chat_template, recorded

        (code, _, err) = Run([.. args, "--think-block", "prompt"]);
        Assert.Equal(1, code);
        Assert.Contains("--enable-thinking: true contradicts --think-block: prompt", err);
    }

    [Fact]
    public void StatsJsonHasTheDocumentedKeys()
    {
        using var tmp = TestEnvironment.TempDir();
        var (code, output, err) = Run("stats", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--cutoff-len", "10", "--json");
        Assert.True(code == 0, err);
        var o = JsonDocument.Parse(output).RootElement;
        Assert.Equal(["count", "min", "max", "mean", "p50", "p90", "p95", "p99", "p100", "over_cutoff"], o.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, o.GetProperty("count").GetInt32());
        Assert.Equal(2, o.GetProperty("over_cutoff").GetInt32());
        var (_, text, _) = Run("stats", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--show-examples", "1");
        Assert.Contains("[[Yes<|im_end|>]]", text);
    }

    [Fact]
    public void InspectMaskingPassesCleanDataAndFlagsATemplateThatHidesTheEndOfTurn()
    {
        using var tmp = TestEnvironment.TempDir();
        var (code, output, _) = Run("inspect-masking", "--data", Data(tmp), "--tokenizer", Qwen3Dir());
        Assert.Equal(0, code);
        Assert.Contains("2 sample(s): 0 flagged", output);

        var template = tmp.File("odd.jinja");
        File.WriteAllText(template, "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}{% if m.role == 'assistant' %} (end){% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
        (code, output, _) = Run("inspect-masking", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--template", template);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("FLAGGED: answer 1 is not followed by a supervised end-of-turn token", output);
    }

    [Fact]
    public void InspectMaskingCountsTruncatedSamplesAsPreprocessDoes()
    {
        using var tmp = TestEnvironment.TempDir();
        // Sample 1 (with a system prompt) is longer than sample 2; a cutoff between them cuts only sample 1, from the start.
        var full = JsonDocument.Parse(Run("stats", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--json").Out).RootElement;
        int cutoff = full.GetProperty("max").GetInt32() - 3;
        Assert.True(cutoff >= full.GetProperty("min").GetInt32());
        var (code, output, err) = Run("inspect-masking", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--cutoff-len", cutoff.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, err + output);
        Assert.Contains($"2 sample(s): 0 flagged, 0 dropped, 1 truncated to cutoff_len {cutoff} (1 cut from the start, losing their system prompt and oldest turns)", output);
        Assert.Contains($"(truncated {cutoff + 3} -> {cutoff} tokens: dropped 3 tokens from the start", output);
        var pre = JsonDocument.Parse(Run("preprocess", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--cache-dir", tmp.File("cache"), "--json",
            "--cutoff-len", cutoff.ToString(System.Globalization.CultureInfo.InvariantCulture)).Out).RootElement;
        Assert.Equal(1, pre.GetProperty("truncated").GetInt32());
        (_, output, _) = Run("inspect-masking", "--data", Data(tmp), "--tokenizer", Qwen3Dir());
        Assert.Contains("2 sample(s): 0 flagged, 0 dropped, 0 truncated to cutoff_len 1024", output);
    }

    [Fact]
    public void ReportAndManifestKeepNonAsciiAndTheReportBlockIsSnakeCase()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = tmp.File("é.jsonl");
        File.WriteAllText(data, "{\"instruction\": \"Is 2 ≈ 2.0001 true? Café au lait.\", \"input\": \"\", \"output\": \"Yes\", \"system\": \"Answer Yes or No ≈ quickly.\"}\n");
        var (code, output, err) = Run("preprocess", "--data", data, "--tokenizer", Qwen3Dir(), "--cache-dir", tmp.File("cache"), "--json", "--cutoff-len", "12");
        Assert.True(code == 0, err);
        var entry = JsonDocument.Parse(output).RootElement.GetProperty("entry").GetString()!;
        var line = Assert.Single(File.ReadAllLines(Path.Combine(entry, "report.jsonl")));
        Assert.Contains("≈", line);
        Assert.DoesNotContain("\\u", line);
        var manifest = File.ReadAllText(Path.Combine(entry, "manifest.json"));
        Assert.Contains("é.jsonl", manifest);
        var report = JsonDocument.Parse(manifest).RootElement.GetProperty("report");
        Assert.Equal(["records", "kept", "truncated", "dropped", "render_mismatches", "supervised_tokens", "masked_tokens"], report.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, report.GetProperty("truncated").GetInt32());
        // The entry is read back from the snake_case block (from cache, same counts).
        var again = JsonDocument.Parse(Run("preprocess", "--data", data, "--tokenizer", Qwen3Dir(), "--cache-dir", tmp.File("cache"), "--json", "--cutoff-len", "12").Out).RootElement;
        Assert.True(again.GetProperty("from_cache").GetBoolean());
        Assert.Equal(1, again.GetProperty("truncated").GetInt32());
    }

    [Fact]
    public void BadInputIsAOneLineUserError()
    {
        using var tmp = TestEnvironment.TempDir();
        File.WriteAllText(tmp.File("bad.jsonl"), "{\"instruction\": \"x\"}\n");
        var (code, _, err) = Run("preprocess", "--data", tmp.File("bad.jsonl"), "--tokenizer", Qwen3Dir(), "--cache-dir", tmp.File("cache"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("cannot tell the record format", err);
        (code, _, err) = Run("preprocess", "--data", Data(tmp), "--tokenizer", Qwen3Dir(), "--truncation", "middle");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--truncation: expected one of left, history, drop, error", err);
        Assert.False(Directory.Exists(tmp.File("cache")));
    }
}
