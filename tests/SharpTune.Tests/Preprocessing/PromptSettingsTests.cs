using System.Text.Json;
using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Preprocessing;

public class PromptSettingsTests
{
    private static PromptSettings Sample() => new()
    {
        Template = "qwen3",
        TemplateSource = "{{ messages }}\n",
        DefaultSystem = "Be brief ≈ é",
        TemplateKwargs = new Dictionary<string, object?> { ["tools_hint"] = "x", ["depth"] = JsonSerializer.SerializeToElement(3), ["flag"] = true },
        ThinkBlock = ThinkBlockPlacement.Answer,
        TrainOnEot = false,
        CompletionEos = false,
    };

    [Fact]
    public void FileRoundTripsEveryFieldAndIsWrittenAtomically()
    {
        using var tmp = TestEnvironment.TempDir();
        var path = PromptSettingsFile.Write(tmp.Path, Sample());
        Assert.Equal(tmp.File(PromptSettingsFile.FileName), path);
        Assert.Single(Directory.GetFiles(tmp.Path)); // no temporary file left beside it
        var back = PromptSettingsFile.Read(tmp.Path);
        Assert.Equal(Sample(), back);
        Assert.True(back.TemplateKwargs["flag"] is true); // booleans come back as bools, as the template engine compares them
        var json = File.ReadAllText(path);
        Assert.Contains("\"think_block\": \"answer\"", json);
        Assert.Contains("Be brief ≈ é", json);
        Assert.Equal(["template", "template_source", "default_system", "template_kwargs", "think_block", "train_on_eot", "completion_eos"], PromptSettingsFile.FieldNames);
    }

    [Fact]
    public void ARunsFileRecordsEnableThinkingCutoffTruncationAndLabelsAndReadsBack()
    {
        using var tmp = TestEnvironment.TempDir();
        var run = new RunPromptSettings { Prompt = Sample(), CutoffLen = 448, Truncation = TruncationMode.History, Labels = ["Yes", "No"] };
        var path = PromptSettingsFile.Write(tmp.Path, run);
        Assert.Single(Directory.GetFiles(tmp.Path));
        Assert.Equal(run, PromptSettingsFile.ReadRun(path));
        Assert.Equal(Sample(), PromptSettingsFile.Read(path));   // the prompt settings alone, as every other reader takes them
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal(["template", "template_source", "default_system", "template_kwargs", "enable_thinking", "think_block", "train_on_eot", "completion_eos",
            "cutoff_len", "truncation", "labels"], json.Select(kv => kv.Key));
        Assert.True(json["enable_thinking"]!.GetValue<bool>());   // think_block answer
        Assert.Equal(448, json["cutoff_len"]!.GetValue<int>());
        Assert.Equal("history", json["truncation"]!.GetValue<string>());
        Assert.Equal(["Yes", "No"], json["labels"]!.AsArray().Select(l => l!.GetValue<string>()));

        // Not recorded: null, and null back.
        var bare = new RunPromptSettings { Prompt = new PromptSettings() };
        PromptSettingsFile.Write(path, bare);
        Assert.Contains("\"labels\": null", File.ReadAllText(path));
        Assert.Contains("\"enable_thinking\": false", File.ReadAllText(path));
        Assert.Equal(bare, PromptSettingsFile.ReadRun(path));
    }

    [Fact]
    public void AFileWithoutTheRunFieldsStillLoads()
    {
        // As written before enable_thinking, cutoff_len, truncation and labels existed (and as ToJson(PromptSettings) still writes).
        using var tmp = TestEnvironment.TempDir();
        var path = tmp.File(PromptSettingsFile.FileName);
        File.WriteAllText(path, """
            {
              "template": "chatml",
              "template_source": null,
              "default_system": "You rate movies.",
              "template_kwargs": {},
              "think_block": "prompt",
              "train_on_eot": true,
              "completion_eos": true
            }
            """);
        var run = PromptSettingsFile.ReadRun(path);
        Assert.Equal(new PromptSettings { Template = "chatml", DefaultSystem = "You rate movies." }, run.Prompt);
        Assert.Null(run.CutoffLen);
        Assert.Null(run.Truncation);
        Assert.Null(run.Labels);
    }

    [Theory]
    [InlineData("\"enable_thinking\": true", "field enable_thinking: true contradicts think_block prompt")]
    [InlineData("\"enable_thinking\": \"no\"", "field enable_thinking: expected true or false")]
    [InlineData("\"cutoff_len\": 1", "field cutoff_len: expected an integer >= 2")]
    [InlineData("\"cutoff_len\": 2.5", "field cutoff_len: expected an integer >= 2")]
    [InlineData("\"truncation\": \"right\"", "field truncation: expected left, history, drop, error or null, got 'right'")]
    [InlineData("\"labels\": []", "field labels: expected a non-empty array of non-empty strings")]
    [InlineData("\"labels\": [\"Yes\", 1]", "field labels: expected a non-empty array of non-empty strings")]
    [InlineData("\"labels\": \"Yes,No\"", "field labels: expected a non-empty array of non-empty strings")]
    public void BadRunFieldsNameTheFileAndField(string field, string message)
    {
        using var tmp = TestEnvironment.TempDir();
        var path = tmp.File(PromptSettingsFile.FileName);
        var json = PromptSettingsFile.ToJson(new PromptSettings()).TrimEnd().TrimEnd('}') + ", " + field + "}";
        File.WriteAllText(path, json);
        var e = Assert.Throws<UserException>(() => PromptSettingsFile.ReadRun(path));
        Assert.StartsWith(path + ": " + message, e.Message);
        Assert.Throws<UserException>(() => PromptSettingsFile.Read(path));   // every reader checks them
    }

    [Theory]
    [InlineData("\"extra\": 1", "unknown field(s) extra")]
    [InlineData(null, "missing field(s) completion_eos")]
    [InlineData("\"completion_eos\": \"yes\"", "field completion_eos")]
    public void UnknownMissingOrMistypedFieldsNameTheFile(string? replaceLast, string message)
    {
        using var tmp = TestEnvironment.TempDir();
        var path = PromptSettingsFile.Write(tmp.Path, new PromptSettings());
        var lines = File.ReadAllLines(path).ToList();
        int at = lines.FindIndex(l => l.Contains("\"completion_eos\""));
        if (replaceLast is null) { lines.RemoveAt(at); lines[at - 1] = lines[at - 1].TrimEnd(','); }
        else lines[at] = replaceLast.StartsWith("\"extra\"") ? lines[at] + ", " + replaceLast : "  " + replaceLast;
        File.WriteAllLines(path, lines);
        var e = Assert.Throws<UserException>(() => PromptSettingsFile.Read(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void FindReadsTheFolderOrItsLatestCheckpoint()
    {
        using var tmp = TestEnvironment.TempDir();
        foreach (var (step, system) in new[] { (5, "five"), (40, "forty"), (10, "ten") })
        {
            Directory.CreateDirectory(tmp.File($"run/checkpoint-{step}"));
            PromptSettingsFile.Write(tmp.File($"run/checkpoint-{step}"), new PromptSettings { DefaultSystem = system });
        }
        Assert.Equal("forty", PromptSettingsFile.Find(tmp.File("run")).DefaultSystem);
        PromptSettingsFile.Write(tmp.File("run/" + PromptSettingsFile.FileName), new PromptSettings { DefaultSystem = "final" });
        Assert.Equal("final", PromptSettingsFile.Find(tmp.File("run")).DefaultSystem);
        Assert.Equal("ten", PromptSettingsFile.Find(tmp.File("run/checkpoint-10")).DefaultSystem);
        Directory.CreateDirectory(tmp.File("empty"));
        Assert.Contains("no prompt_settings.json", Assert.Throws<UserException>(() => PromptSettingsFile.Find(tmp.File("empty"))).Message);
    }

    [Fact]
    public void TheCacheEntryHoldsTheSettingsItRenderedWith()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = tmp.File("train.jsonl");
        File.WriteAllText(data, "{\"instruction\": \"Q\", \"input\": \"\", \"output\": \"Yes\"}\n");
        var options = new PreprocessOptions { Prompt = new PromptSettings { DefaultSystem = "Sys", ThinkBlock = ThinkBlockPlacement.Answer } };
        var r = PreprocessPipeline.Run(new PreprocessInputs
        {
            DataPath = data, TokenizerJson = "{}"u8.ToArray(), TokenizerConfigJson = [], TemplateText = "fake template text",
            Renderer = new FakeChatMl(), Tokenizer = new FakeCharTokenizer(), Options = options,
        }, new PreprocessCache(tmp.File("cache")), rebuild: false);
        var saved = PromptSettingsFile.Read(r.EntryPath);
        Assert.Equal(options.Prompt with { TemplateSource = "fake template text" }, saved);
        var entry = PromptSettingsFile.ReadRun(r.EntryPath);   // with the cutoff_len and truncation its samples were cut with; no labels
        Assert.Equal((1024, TruncationMode.Left), (entry.CutoffLen!.Value, entry.Truncation!.Value));
        Assert.Null(entry.Labels);

        // Inference built from the saved settings renders the training prompt prefix of the same record.
        var record = SftDatasetReader.Read(data)[0];
        var training = new PromptBuilder(new FakeChatMl(), options.Prompt).RenderTraining(record);
        var inference = new PromptBuilder(new FakeChatMl(), saved).InferencePrompt(record);
        Assert.Equal(training.Text[..training.Answers[^1].Start], inference);
        Assert.Contains("Sys", inference);
    }
}
