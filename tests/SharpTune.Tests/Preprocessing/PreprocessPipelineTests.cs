using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Preprocessing;

public class PreprocessPipelineTests
{
    private static PreprocessInputs Inputs(string data, PreprocessOptions? options = null, string template = "chatml-fake") => new()
    {
        DataPath = data,
        TokenizerJson = "{\"model\": {}}"u8.ToArray(),
        TokenizerConfigJson = "{}"u8.ToArray(),
        TemplateText = template,
        Renderer = new FakeChatMl(),
        Tokenizer = new FakeCharTokenizer(),
        Options = options ?? new PreprocessOptions(),
    };

    [Fact]
    public void SecondRunLoadsFromCacheAndAnyChangeRebuilds()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = tmp.File("train.jsonl");
        File.WriteAllText(data, """
            {"instruction": "Q1", "input": "", "output": "Yes"}
            {"instruction": "Q2 is a much longer question than the first one", "input": "ctx", "output": "No"}
            """);
        var cache = new PreprocessCache(tmp.File("cache"));
        var first = PreprocessPipeline.Run(Inputs(data), cache, rebuild: false);
        Assert.False(first.FromCache);
        Assert.Equal(2, first.Dataset.Count);
        var second = PreprocessPipeline.Run(Inputs(data), cache, rebuild: false);
        Assert.True(second.FromCache);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal(first.Dataset.InputIds(1).ToArray(), second.Dataset.InputIds(1).ToArray());
        Assert.Equal(first.Report, second.Report);
        Assert.False(PreprocessPipeline.Run(Inputs(data), cache, rebuild: true).FromCache);

        // A corrupted entry is reported and rebuilt, then served again.
        var bin = Path.Combine(first.EntryPath, "data.bin");
        var bytes = File.ReadAllBytes(bin);
        bytes[40] ^= 0xFF;
        File.WriteAllBytes(bin, bytes);
        var messages = new List<string>();
        var rebuilt = PreprocessPipeline.Run(Inputs(data), cache, rebuild: false, messages.Add);
        Assert.False(rebuilt.FromCache);
        Assert.Contains(messages, m => m.Contains("checksum"));
        Assert.Equal(first.Dataset.InputIds(1).ToArray(), rebuilt.Dataset.InputIds(1).ToArray());
        Assert.True(PreprocessPipeline.Run(Inputs(data), cache, rebuild: false).FromCache);

        Assert.NotEqual(first.Key, PreprocessPipeline.Run(Inputs(data, new PreprocessOptions { CutoffLen = 50 }), cache, false).Key);
        Assert.NotEqual(first.Key, PreprocessPipeline.Run(Inputs(data, template: "other"), cache, false).Key);
        Assert.NotEqual(first.Key, PreprocessPipeline.Run(Inputs(data, new PreprocessOptions { Prompt = new PromptSettings { TemplateKwargs = new Dictionary<string, object?> { ["x"] = 1 } } }), cache, false).Key);
        File.AppendAllText(data, "\n");
        Assert.NotEqual(first.Key, PreprocessPipeline.Run(Inputs(data), cache, false).Key);
    }

    [Fact]
    public void TruncationEventsAreWrittenToTheEntrysReport()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = tmp.File("train.jsonl");
        File.WriteAllText(data, """
            {"instruction": "short", "input": "", "output": "Yes"}
            {"instruction": "a question long enough to need truncation at this cutoff", "input": "", "output": "No"}
            """);
        var r = PreprocessPipeline.Run(Inputs(data, new PreprocessOptions { CutoffLen = 60 }), new PreprocessCache(tmp.File("cache")), false);
        Assert.Equal(1, r.Report.Truncated);
        var line = Assert.Single(File.ReadAllLines(Path.Combine(r.EntryPath, "report.jsonl")));
        Assert.Contains("\"index\":1", line);
        Assert.Contains("\"action\":\"truncated\"", line);
    }
}
