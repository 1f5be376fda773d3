using SharpTune.Text.Jinja;
using SharpTune.Text.Templates;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Jinja;

/// <summary>The template layer: sources, built-ins, content spans.</summary>
public class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You recommend films."),
        new("user", "I watched:\n1. Heat (1995)\n2. Ronin (1998)"),
        new("assistant", "  Try Collateral (2004).\n"),
    ];

    [Theory]
    [InlineData("chatml")]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    [InlineData("llama2")]
    [InlineData("mistral")]
    [InlineData("completion")]
    public void AssistantContentSpanPointsAtTheAnswer(string name)
    {
        var t = ChatTemplate.Builtin(name);
        var r = t.RenderWithSpans(Conversation);
        var answer = Conversation[2].Content!;
        var spans = r.ContentSpans.Where(s => s.MessageIndex == 2).ToList();
        Assert.NotEmpty(spans);
        foreach (var s in spans)
            Assert.Equal(answer.Substring(s.ContentOffset, s.Length), r.Text.Substring(s.Start, s.Length));
        // The span covers the answer as the template kept it (templates may trim it).
        var kept = string.Concat(spans.Select(s => r.Text.Substring(s.Start, s.Length)));
        Assert.Contains(kept, answer);
        Assert.True(kept.Length >= answer.Trim().Length);
    }

    [Theory]
    [InlineData("qwen3", "qwen3.jinja")]
    [InlineData("llama3", "llama3.jinja")]
    [InlineData("llama2", "llama2-chat.jinja")]
    public void BuiltinsAreTheModelsOwnTemplates(string builtin, string file) =>
        Assert.Equal(File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "templates", file)), ChatTemplate.Builtin(builtin).Source);

    [Fact]
    public void SpansFollowContentThroughSplitAndStrip()
    {
        // Qwen3 splits a reasoning block off the content: the answer's span starts inside the content.
        var content = "<think>\nweighing options\n</think>\n\nWatch Heat (1995).";
        var r = ChatTemplate.Builtin("qwen3").RenderWithSpans([new("user", "Next?"), new("assistant", content)]);
        var answer = Assert.Single(r.ContentSpans, s => s.MessageIndex == 1 && r.Text.Substring(s.Start, s.Length) == "Watch Heat (1995).");
        Assert.Equal(content.IndexOf("Watch", StringComparison.Ordinal), answer.ContentOffset);
        Assert.Contains(r.ContentSpans, s => s.MessageIndex == 1 && r.Text.Substring(s.Start, s.Length) == "weighing options");
        Assert.Contains(r.ContentSpans, s => s.MessageIndex == 0 && r.Text.Substring(s.Start, s.Length) == "Next?");
    }

    [Fact]
    public void SpansFollowContentThroughMacrosAndBlocks()
    {
        var t = ChatTemplate.FromString("{% macro turn(m) %}<{{ m.role }}>{{ m.content | trim }}</>{% endmacro %}{% for m in messages %}{% set body %}{{ turn(m) }}{% endset %}{{ body }}{% endfor %}");
        var r = t.RenderWithSpans([new("user", " hi "), new("assistant", "yo")]);
        Assert.Equal("<user>hi</><assistant>yo</>", r.Text);
        Assert.Equal([new ContentSpan(0, 6, 2, 1), new ContentSpan(1, 22, 2, 0)], r.ContentSpans);
    }

    [Fact]
    public void MistralBuiltinPlacesSystemBeforeFirstInst()
    {
        var text = ChatTemplate.Builtin("mistral").Render(
            [new("system", "S"), new("user", "U"), new("assistant", "A"), new("user", "U2"), new("assistant", "A2")]);
        Assert.Equal("<s>S\n\n[INST] U [/INST]A</s>[INST] U2 [/INST]A2</s>", text);
    }

    [Fact]
    public void CompletionBuiltinIsPromptThenAnswer()
    {
        Assert.Equal("The prompt. The answer.", ChatTemplate.Builtin("completion").Render([new("user", "The prompt."), new("assistant", " The answer.")]));
    }

    [Fact]
    public void TokenizerConfigStringAndNamedList()
    {
        using var dir = TestEnvironment.TempDir();
        var plain = dir.File("a.json");
        File.WriteAllText(plain, """{"bos_token": "<s>", "eos_token": {"content": "</s>"}, "pad_token": "<pad>", "chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}{{ pad_token }}{{ unk_token is defined }}"}""");
        Assert.Equal("<s>hi</s><pad>False", ChatTemplate.FromTokenizerConfig(plain).Render([new("user", "hi")]));
        var named = dir.File("b.json");
        File.WriteAllText(named, """{"chat_template": [{"name": "default", "template": "D{{ messages|length }}"}, {"name": "tool_use", "template": "T"}]}""");
        Assert.Equal("D1", ChatTemplate.FromTokenizerConfig(named).Render([new("user", "x")]));
        Assert.Equal("T", ChatTemplate.FromTokenizerConfig(named, "tool_use").Render([new("user", "x")]));
        var e = Assert.Throws<UserException>(() => ChatTemplate.FromTokenizerConfig(named, "rag"));
        Assert.Contains("tool_use", e.Message);
        var none = dir.File("c.json");
        File.WriteAllText(none, "{}");
        Assert.Contains("built-in", Assert.Throws<UserException>(() => ChatTemplate.FromTokenizerConfig(none)).Message);
    }

    [Fact]
    public void UnknownBuiltinAndMissingFileAreUserErrors()
    {
        Assert.Throws<UserException>(() => ChatTemplate.Builtin("vicuna"));
        Assert.Throws<UserException>(() => ChatTemplate.Resolve("/no/such/file.jinja"));
    }

    [Fact]
    public void OptionsOverrideSpecialTokens()
    {
        var t = ChatTemplate.FromString("{{ bos_token }}|{{ eos_token }}|{{ bos_token is defined }}", bosToken: "<s>");
        Assert.Equal("<s>||True", t.Render([]));
        Assert.Equal("B|E|True", t.Render([], new ChatRenderOptions { BosToken = "B", EosToken = "E" }));
    }

    [Fact]
    public void SyntaxErrorNamesTheFile()
    {
        using var dir = TestEnvironment.TempDir();
        var p = dir.File("bad.jinja");
        File.WriteAllText(p, "{% for m in messages %}");
        var e = Assert.Throws<JinjaSyntaxException>(() => ChatTemplate.FromFile(p));
        Assert.Contains("bad.jinja", e.Message);
    }
}
