using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Jinja;

/// <summary><c>sharptune template render</c>.</summary>
public class TemplateCliTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(stdin));
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void RendersEachLineAndReportsRaisingCases()
    {
        var input = """
            {"messages": [{"role": "user", "content": "héllo"}, {"role": "assistant", "content": "A"}], "add_generation_prompt": false}
            {"messages": [{"role": "user", "content": "q"}], "add_generation_prompt": true, "kwargs": {"enable_thinking": false}}
            {"messages": [{"role": "tool", "content": "x"}]}
            """;
        var (code, output, err) = Run(input, "template", "render", "--template", "mistral");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("<s>[INST] héllo [/INST]A</s>", JsonDocument.Parse(lines[0]).RootElement.GetProperty("text").GetString());
        Assert.Equal("<s>[INST] q [/INST]", JsonDocument.Parse(lines[1]).RootElement.GetProperty("text").GetString());
        Assert.Contains("unsupported role", JsonDocument.Parse(lines[2]).RootElement.GetProperty("error").GetString());
        Assert.Contains("2 rendered, 1 raised", err);
    }

    [Fact]
    public void QwenThinkingKwarg()
    {
        var (code, output, _) = Run("""{"messages": [{"role": "user", "content": "q"}], "add_generation_prompt": true, "kwargs": {"enable_thinking": false}}""",
            "template", "render", "--template", "qwen3");
        Assert.Equal(0, code);
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", JsonDocument.Parse(output).RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void BosEosOverride()
    {
        var (code, output, _) = Run("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}""",
            "template", "render", "--template", "llama2", "--bos-token", "<B>", "--eos-token", "<E>");
        Assert.Equal(0, code);
        Assert.Equal("<B>[INST] q [/INST] a <E>", JsonDocument.Parse(output).RootElement.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"messages": "x"}""")]
    [InlineData("""{"messages": [{"content": "no role"}]}""")]
    [InlineData("""{"messages": [], "add_generation_prompt": "yes"}""")]
    public void BadInputIsAUserErrorNamingTheLine(string line)
    {
        var (code, _, err) = Run(line, "template", "render", "--template", "chatml");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("stdin line 1", err);
    }

    [Fact]
    public void NeedsExactlyOneTemplateSource()
    {
        Assert.Equal(CliApp.UserError, Run("", "template", "render").Code);
        Assert.Equal(CliApp.UserError, Run("", "template", "render", "--template", "chatml", "--tokenizer-config", "x.json").Code);
    }

    [Fact]
    public void AbsentContentStaysUndefinedAndContentListsPassThrough()
    {
        using var tmp = TestEnvironment.TempDir();
        var path = tmp.File("t.jinja");
        File.WriteAllText(path, "{% for m in messages %}{{ m.content is defined }}:{% if m.content is string %}{{ m.content }}{% elif m.content %}{{ m.content[0].text }}{% endif %};{% endfor %}");
        var (code, output, _) = Run("""{"messages": [{"role": "assistant", "tool_calls": []}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}]}""" + "\n",
            "template", "render", "--template", path);
        Assert.Equal(0, code);
        Assert.Equal("{\"text\":\"False:;True:hi;\"}\n", output);
    }
}
