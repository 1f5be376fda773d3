using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Tests.Jinja;
using SharpTune.Tests.Support;
using SharpTune.Tests.Tokenization;
using SharpTune.Tests.Training.Configuration;
using SharpTune.Text.Templates;

namespace SharpTune.Tests.Preprocessing;

/// <summary>
/// LLaMA-Factory's glaive_toolcall_en_demo (ShareGPT function_call / observation turns and a tools column) through the
/// real Qwen3 chat template: rendered as jinja2 renders it with transformers' variables, and masked so that only
/// the assistant turns, tool calls included, are supervised.
/// </summary>
public class ToolCallPreprocessingTests
{
    private static IReadOnlyList<SftRecord> Glaive()
    {
        var (d, file) = DatasetDescription.Load(Path.Combine(TrainConfigTests.DataDir, "dataset_info.json"), "glaive_toolcall_en_demo");
        return SftDatasetReader.Read(file, d);
    }

    private static string QwenConfig => Path.Combine(Path.GetDirectoryName(TokenizerOracle.TokenizerPath("qwen3"))!, "tokenizer_config.json");

    [Fact]
    public void ShareGptFunctionCallsBecomeToolCallsAndObservationsToolMessages()
    {
        var records = Glaive();
        Assert.Null(records[0].Tools); // "[]" is no tools
        var r = records[1];
        Assert.Equal(["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"], r.Turns.Select(t => t.Role));
        var call = Assert.Single(r.Turns[1].ToolCalls!);
        Assert.Equal("calculate_area", call.Name);
        Assert.Equal("""{"shape": "rectangle", "dimensions": [5, 3]}""", call.Arguments.GetRawText());
        Assert.Equal("", r.Turns[1].Content);
        Assert.Equal(2, r.Tools!.Count);
        Assert.Equal("function", r.Tools[0].GetProperty("type").GetString()); // wrapped as transformers' templates expect
        Assert.Equal("calculate_area", r.Tools[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public void Qwen3RendersToolsExactlyAsJinja2AndSupervisesOnlyAssistantTurns()
    {
        TokenizerOracle.Require();
        TestEnvironment.RequireOracle(JinjaOracle.Available, "python3 with jinja2");
        var stack = TextStack.Open(TokenizerOracle.TokenizerPath("qwen3"));
        var enc = stack.Tokenizer;
        var options = new PreprocessOptions { CutoffLen = 4096 };
        var p = new SftPreprocessor(stack.Renderer, enc, options);
        var r = Glaive()[1];
        var render = p.Builder.RenderTraining(r);

        // jinja2 with the variables apply_chat_template passes: messages as dicts, tools, enable_thinking.
        var msgs = new JsonArray();
        foreach (var t in r.Turns)
        {
            var o = new JsonObject { ["role"] = t.Role, ["content"] = t.Content };
            if (t.ToolCalls is not null)
                o["tool_calls"] = new JsonArray(t.ToolCalls.Select(c => (JsonNode)new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = JsonNode.Parse(c.Arguments.GetRawText()) } }).ToArray());
            msgs.Add(o);
        }
        var vars = new JsonObject
        {
            ["messages"] = msgs, ["tools"] = new JsonArray(r.Tools!.Select(x => JsonNode.Parse(x.GetRawText())).ToArray()), ["documents"] = null,
            ["add_generation_prompt"] = false, ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>", ["enable_thinking"] = false,
        };
        var oracle = JinjaOracle.Render([new JsonObject { ["template"] = stack.Template.Source, ["vars"] = vars }.ToJsonString()]);
        Assert.True(oracle[0].Text == render.Text, JinjaOracle.Diff(oracle[0].Text ?? oracle[0].Error!, render.Text));
        Assert.Contains("<tool_call>\n{\"name\": \"calculate_area\", \"arguments\": {\"shape\": \"rectangle\", \"dimensions\": [5, 3]}}\n</tool_call>", render.Text);
        Assert.Contains("# Tools", render.Text);

        var s = p.ProcessOne(r);
        Assert.Empty(s.Events);
        var runs = new List<string>();
        for (int t = 0; t < s.Labels.Length; t++)
        {
            if (s.Labels[t] == LabelMasker.IgnoreIndex) continue;
            int start = t;
            while (t < s.Labels.Length && s.Labels[t] != LabelMasker.IgnoreIndex) t++;
            runs.Add(enc.Decode(s.Ids[start..t], skipSpecialTokens: false));
        }
        Assert.Equal(
        [
            "<tool_call>\n{\"name\": \"calculate_area\", \"arguments\": {\"shape\": \"rectangle\", \"dimensions\": [5, 3]}}\n</tool_call><|im_end|>",
            "The area of the rectangle with length 5 units and breadth 3 units is 15 square units.<|im_end|>",
            "<tool_call>\n{\"name\": \"calculate_area\", \"arguments\": {\"shape\": \"circle\", \"dimensions\": [4]}}\n</tool_call><|im_end|>",
            "The area of the circle with radius 4 units is approximately 50.24 square units.<|im_end|>",
        ], runs);
        Assert.Null(MaskingInspector.Inspect(r, s.Ids, s.Labels, enc, options).Problem);
        // Every record of the fixture preprocesses and passes the masking check.
        var (ds, report) = p.Process(Glaive());
        Assert.Equal(2, report.Kept);
        for (int i = 0; i < ds.Count; i++)
            Assert.Null(MaskingInspector.Inspect(Glaive()[i], ds.InputIds(i).ToArray(), ds.Labels(i), enc, options).Problem);
    }

    [Fact]
    public void ContentPartsAndAbsentKeysMatchJinja2()
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "python3 with jinja2");
        const string source = "{% for m in messages %}[{{ m.role }}|{{ m.content is defined }}|{% if m.content is string %}{{ m.content }}{% elif m.content is defined and m.content is not none %}{% for p in m.content %}{{ p.text }};{% endfor %}{% endif %}]{% endfor %}";
        var json = """[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "assistant"}, {"role": "assistant", "content": null}, {"role": "user", "content": "c"}]""";
        using var doc = JsonDocument.Parse(json);
        var messages = doc.RootElement.EnumerateArray().Select((m, i) => ChatMessage.FromJson(m, $"m{i}")).ToList();
        var ours = ChatTemplate.FromString(source).Render(messages);
        var theirs = JinjaOracle.Render([new JsonObject { ["template"] = source, ["vars"] = new JsonObject { ["messages"] = JsonNode.Parse(json) } }.ToJsonString()])[0].Text;
        Assert.Equal("[user|True|a;b;][assistant|False|][assistant|True|][user|True|c]", theirs);
        Assert.Equal(theirs, ours);
        // In data records, text parts are joined into the turn's content.
        var d = DatasetDescription.For(SftFormat.Messages);
        using var rec = JsonDocument.Parse("""{"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}, {"role": "assistant", "content": "z"}]}""");
        Assert.Equal("xy", SftRecordParser.Parse(rec.RootElement, d, "r", 0).Turns[0].Content);
        using var bad = JsonDocument.Parse("""{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "u"}]}, {"role": "assistant", "content": "z"}]}""");
        Assert.Contains("has type 'image_url'; only text parts are supported", Assert.Throws<UserException>(() => SftRecordParser.Parse(bad.RootElement, d, "r", 0)).Message);
    }

    [Fact]
    public void HistoryTruncationDropsAWholeToolExchange()
    {
        var r = Glaive()[1];
        var step = HistoryTrimmer.DropOldest(r)!;
        Assert.Equal("earliest exchange (4 turns)", step.Removed);
        Assert.Equal(["user", "assistant", "tool", "assistant"], step.Record.Turns.Select(t => t.Role));
        Assert.StartsWith("What about a circle", step.Record.Turns[0].Content);
    }

    [Theory]
    [InlineData("alpaca", "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nhi\n\n### Response:\nHello<|im_end|>\n\n")]
    [InlineData("default", "Human: hi<|im_end|>\nAssistant:Hello<|im_end|>\n")]
    public void LlamaFactoryAlpacaAndDefaultTemplatesSuperviseTheAnswerAndEos(string template, string expected)
    {
        TokenizerOracle.Require();
        var stack = TextStack.Open(TokenizerOracle.TokenizerPath("qwen3"), template);
        var enc = stack.Tokenizer;
        var p = new SftPreprocessor(stack.Renderer, enc, new PreprocessOptions());
        var r = new SftRecord { Source = "r", Index = 0, Kind = SftRecordKind.Conversation, Turns = [new("user", "hi"), new("assistant", "Hello")] };
        var s = p.ProcessOne(r);
        Assert.Empty(s.Events);
        Assert.Equal(expected, enc.Decode(s.Ids, skipSpecialTokens: false));
        Assert.Equal("Hello<|im_end|>", enc.Decode(s.Ids.Where((_, k) => s.Labels[k] != LabelMasker.IgnoreIndex).ToArray(), skipSpecialTokens: false));
    }
}
