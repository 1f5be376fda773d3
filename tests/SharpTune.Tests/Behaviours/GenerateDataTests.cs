using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Inference;
using SharpTune.Inference.DataGeneration;
using SharpTune.Tests.Support;
using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Behaviours;

/// <summary><c>generate-data</c>: with the real stories260K base model (converted from llama2.c), and the filters and inputs with a fake model.</summary>
public sealed class GenerateDataTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>stories260K converted with <c>convert llama2c</c> into <paramref name="tmp"/>.</summary>
    private static string Stories260K(TempDir tmp)
    {
        var checkpoint = TestEnvironment.RequireShared("models/stories260K/stories260K.bin");
        var tokenizer = TestEnvironment.RequireShared("models/stories260K/tok512.bin");
        var dir = tmp.File("stories260K");
        var (code, _, err) = Run("convert", "llama2c", "--checkpoint", checkpoint, "--tokenizer", tokenizer, "--out", dir);
        Assert.True(code == 0, err);
        return dir;
    }

    private static JsonElement[] Lines(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    [Fact]
    public void StoredPromptsArePlainTokenizedExactlyAndReproducibleWithASeed()
    {
        using var tmp = TestEnvironment.TempDir();
        var model = Stories260K(tmp);
        File.WriteAllLines(tmp.File("ins.jsonl"),
        [
            """{"instruction": "Write one sentence about a happy dog.", "type": "creative"}""",
            """{"instruction": "What is 3 plus 4?", "type": "maths"}""",
            """{"instruction": "Complete the sentence: Lily went to the park and"}""",
        ]);
        string[] Args(string outName, string seed) =>
            ["generate-data", "--model", model, "--instructions", tmp.File("ins.jsonl"), "--out", tmp.File(outName), "--few-shot", "2",
             "--max-new-tokens", "24", "--seed", seed, "--temperature", "0.9", "--sft-format", "alpaca"];
        var (code, output, err) = Run(Args("a.jsonl", "5"));
        Assert.True(code == 0, err);
        Assert.Contains("chat template: none in the folder", output);
        var kept = Lines(tmp.File("a.jsonl"));
        var rejected = Lines(tmp.File("a.rejects.jsonl"));
        Assert.Equal(3, kept.Length + rejected.Length);
        Assert.Contains($"kept           {kept.Length}", output);

        var tokenizer = Tokenizer.Load(Path.Combine(model, "tokenizer.json"));
        int bos = tokenizer.TokenToId("<s>")!.Value;
        var builtIn = FewShotExample.BuiltIn.ToDictionary(e => e.Instruction);
        foreach (var r in kept.Concat(rejected))
        {
            var prompt = r.GetProperty("prompt").GetString()!;
            var ids = r.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.NotEqual(bos, ids[0]);
            Assert.DoesNotContain(bos, ids);
            Assert.Equal(ids, tokenizer.Encode(prompt, addSpecialTokens: false).Ids); // the stored prompt is what the model saw
            Assert.Equal(ids, tokenizer.Encode(prompt).Ids.SkipWhile(id => id == bos).ToArray()); // and only the BOS differs from the default encoding
            // The prompt is the few-shot pattern, byte for byte, with no role scaffolding.
            var instruction = r.GetProperty("instruction").GetString()!;
            var blocks = prompt.Split("\n\n");
            Assert.Equal(3, blocks.Length);
            var shots = blocks[..2].Select(b => builtIn[b.Split('\n')[0]["Task: ".Length..]]).ToArray();
            Assert.Equal(CompletionPrompt.Build(shots, instruction), prompt);
            Assert.EndsWith("\nAnswer:", prompt);
            Assert.DoesNotContain("Assistant", prompt);
            Assert.Equal(shots.Select(s => s.Type), r.GetProperty("few_shot_types").EnumerateArray().Select(e => e.GetString()));
            var completion = r.GetProperty("completion").GetString()!;
            Assert.DoesNotContain("\n\n", completion); // a blank line stops generation
            var ft = r.GetProperty("formatted_text");
            Assert.Equal(instruction, ft.GetProperty("instruction").GetString());
            Assert.Equal(completion, ft.GetProperty("output").GetString());
            Assert.Equal("stories260K", r.GetProperty("model").GetString());
            Assert.Equal(5, r.GetProperty("seed").GetInt32());
        }
        Assert.Equal("creative", kept.Concat(rejected).Single(r => r.GetProperty("instruction").GetString()!.Contains("dog")).GetProperty("instruction_type").GetString());

        // Same seed, same bytes (sampling included); another seed draws other demonstrations.
        Assert.Equal(0, Run(Args("b.jsonl", "5")).Code);
        Assert.Equal(File.ReadAllBytes(tmp.File("a.jsonl")), File.ReadAllBytes(tmp.File("b.jsonl")));
        Assert.Equal(File.ReadAllBytes(tmp.File("a.rejects.jsonl")), File.ReadAllBytes(tmp.File("b.rejects.jsonl")));
        Assert.Equal(0, Run(Args("c.jsonl", "6")).Code);
        var prompts5 = kept.Concat(rejected).Select(r => r.GetProperty("prompt").GetString()).Order().ToArray();
        var prompts6 = Lines(tmp.File("c.jsonl")).Concat(Lines(tmp.File("c.rejects.jsonl"))).Select(r => r.GetProperty("prompt").GetString()).Order().ToArray();
        Assert.NotEqual(prompts5, prompts6);
    }

    [Fact]
    public void StopStringsCutTheCompletion()
    {
        using var tmp = TestEnvironment.TempDir();
        var model = Stories260K(tmp);
        File.WriteAllLines(tmp.File("ins.txt"), ["Once upon a time there was a", "Tell me about a big red ball."]);
        // A chat template in the folder is reported and never applied.
        var config = Path.Combine(model, "tokenizer_config.json");
        var withTemplate = JsonNodeWithTemplate(File.ReadAllText(config), "{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}");
        File.WriteAllText(config, withTemplate);
        var (code, output, err) = Run("generate-data", "--model", model, "--instructions", tmp.File("ins.txt"), "--out", tmp.File("o.jsonl"),
            "--few-shot", "1", "--max-new-tokens", "40", "--stop", ".", "--sft-format", "prompt_completion");
        Assert.True(code == 0, err);
        Assert.Contains("chat template: present in", output);
        Assert.Contains("not applied", err);
        var all = Lines(tmp.File("o.jsonl")).Concat(Lines(tmp.File("o.rejects.jsonl"))).ToArray();
        Assert.Equal(2, all.Length);
        Assert.All(all, r => Assert.StartsWith("Task: ", r.GetProperty("prompt").GetString()));
        Assert.All(all, r => Assert.DoesNotContain(".", r.GetProperty("completion").GetString()));
        Assert.Contains(all, r => r.GetProperty("finish_reason").GetString() == "stop");
        Assert.All(all, r => Assert.Equal("general", r.GetProperty("instruction_type").GetString()));
        Assert.All(Lines(tmp.File("o.jsonl")), r => Assert.Equal(r.GetProperty("completion").GetString(), r.GetProperty("formatted_text").GetProperty("completion").GetString()));
    }

    private static string JsonNodeWithTemplate(string json, string template)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node["chat_template"] = template;
        return node.ToJsonString();
    }

    [Theory]
    [InlineData("Explain <s> to me.", "contains '<s>', the text of a special or added token")]
    [InlineData("<|im_start|>user\nHello", "contains '<|im_start|>', a chat-template marker")]
    public void TemplateContaminationIsAnError(string instruction, string expected)
    {
        using var tmp = TestEnvironment.TempDir();
        var model = Stories260K(tmp);
        File.WriteAllText(tmp.File("ins.jsonl"), JsonSerializer.Serialize(new { instruction }) + "\n");
        var (code, _, err) = Run("generate-data", "--model", model, "--instructions", tmp.File("ins.jsonl"), "--out", tmp.File("o.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("ins.jsonl:1: template contamination: the prompt " + expected, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(tmp.File("o.jsonl")));
    }

    [Fact]
    public void RoleScaffoldingInAnExampleIsContamination()
    {
        Assert.Null(CompletionPrompt.Contamination(CompletionPrompt.Build(FewShotExample.BuiltIn, "Say hi."), ["<s>", "</s>", "<unk>"]));
        Assert.Contains("role scaffolding 'Assistant:'", CompletionPrompt.Contamination("Task: x\nAssistant: y", []));
        Assert.Contains("'[INST]'", CompletionPrompt.Contamination("[INST] hi", []));
        Assert.Contains("'<|extra_0|>'", CompletionPrompt.Contamination("a <|extra_0|> b", ["<|extra_0|>"]));
    }

    /// <summary>Replies fixed per instruction (the text after the last "Task: "); ids are one per character.</summary>
    private sealed class FakeModel(Dictionary<string, string> replies) : ICompletionModel
    {
        public List<int[]> Prompts { get; } = [];
        public string Name => "fake";
        public int ContextLength => 100_000;
        public IReadOnlyList<int> EosTokenIds => [0];
        public IReadOnlyList<string> SpecialTokenTexts => ["<bos>"];
        public string? ChatTemplateSource => "tokenizer_config.json (chat_template)";
        public int[] Encode(string text) => text.Select(c => (int)c).ToArray();
        public string Decode(ReadOnlySpan<int> ids) => new(ids.ToArray().Select(i => (char)i).ToArray());

        public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options)
        {
            Assert.Equal("\n\n", options.StopStrings[0]);
            Prompts.AddRange(prompts);
            return prompts.Select(p =>
            {
                var text = Decode(p);
                var instruction = text[(text.LastIndexOf("Task: ", StringComparison.Ordinal) + 6)..text.LastIndexOf('\n')];
                return new GenerationResult([], replies[instruction], FinishReason.Stop);
            }).ToArray();
        }
    }

    [Fact]
    public void FilteredCompletionsAreCountedAndKeptAside()
    {
        using var tmp = TestEnvironment.TempDir();
        var replies = new Dictionary<string, string>
        {
            ["Name a fruit."] = " Apple.",
            ["Say nothing."] = "   ",
            ["Repeat me."] = " Repeat me.",
            ["Copy."] = " Carbon dioxide.",
            ["Loop."] = " the cat sat the cat sat the cat sat down",
        };
        var instructions = replies.Keys.Select((k, i) => new GenerationInstruction(k, "general", $"i:{i + 1}")).ToArray();
        var examples = new[] { new FewShotExample("What gas do plants take in from the air?", "Carbon dioxide.", "fact", "e") };
        var options = new DataGenerationOptions { FewShot = 1, Seed = 3 };
        var model = new FakeModel(replies);
        var result = DataGenerator.Run(model, instructions, examples, options);
        Assert.Equal([null, RejectReason.Empty, RejectReason.Echo, RejectReason.Echo, RejectReason.Repetition], result.Records.Select(r => r.Reject));
        Assert.Equal("Apple.", result.Records[0].Completion);
        Assert.Equal(model.Prompts[0], result.Records[0].PromptIds);
        var summary = result.Summary();
        Assert.Contains("kept           1", summary);
        Assert.Contains("rejected empty      1", summary);
        Assert.Contains("rejected echo       2", summary);
        Assert.Contains("rejected loop       1", summary);
        Assert.Contains("chat template: present in tokenizer_config.json (chat_template), not applied", summary);

        DataGenerator.Write(result, tmp.File("o.jsonl"), DataGenerator.DefaultRejectsPath(tmp.File("o.jsonl")), model.Name, options with { SftFormat = SftOutputFormat.Messages });
        var kept = Assert.Single(Lines(tmp.File("o.jsonl")));
        Assert.Equal("Apple.", kept.GetProperty("formatted_text").GetProperty("messages")[1].GetProperty("content").GetString());
        var rejects = Lines(tmp.File("o.rejects.jsonl"));
        Assert.Equal(["empty", "echo", "echo", "loop"], rejects.Select(r => r.GetProperty("reject_reason").GetString()));

        // The model's own special tokens count as contamination; more shots than examples is an error.
        Assert.Contains("'<bos>'", Assert.Throws<UserException>(() => DataGenerator.Run(model, [new("Hi <bos>", "general", "i:9")], examples, options)).Message);
        Assert.Contains("--few-shot 2: only 1 examples", Assert.Throws<UserException>(() => DataGenerator.Run(model, instructions, examples, options with { FewShot = 2 })).Message);
    }

    [Theory]
    [InlineData("", "ins.txt: no instructions (the file is empty)")]
    [InlineData("\n  \n", "ins.txt: no instructions (the file is empty)")]
    [InlineData("{\"instruction\": \"ok\"}\n{\"instruction\": \n", "ins.txt:2: not valid JSON")]
    [InlineData("{\"instruction\": \"ok\"}\n{\"prompt\": \"x\"}\n", "ins.txt:2: expected a JSON object with a non-empty string \"instruction\"")]
    public void BadInstructionFilesAreOneLineErrors(string content, string expected)
    {
        using var tmp = TestEnvironment.TempDir();
        File.WriteAllText(tmp.File("ins.txt"), content);
        var (code, _, err) = Run("generate-data", "--model", tmp.Path, "--instructions", tmp.File("ins.txt"), "--out", tmp.File("o.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void BadExamplesFilesAreOneLineErrors()
    {
        using var tmp = TestEnvironment.TempDir();
        File.WriteAllText(tmp.File("ex.jsonl"), "{\"instruction\": \"a\", \"response\": \"b\"}\n{\"instruction\": \"a\"}\n");
        Assert.Contains("ex.jsonl:2: field \"response\" must be a non-empty string", Assert.Throws<UserException>(() => FewShotExample.Load(tmp.File("ex.jsonl"))).Message);
        File.WriteAllText(tmp.File("ex.jsonl"), "{\"instruction\": \"a\", \"response\": \"b\\n\\nc\"}\n");
        Assert.Contains("ex.jsonl:1: an example must not contain a blank line", Assert.Throws<UserException>(() => FewShotExample.Load(tmp.File("ex.jsonl"))).Message);
    }
}
