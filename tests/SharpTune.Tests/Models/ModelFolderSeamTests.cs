using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class ModelFolderSeamTests
{
    [Fact]
    public void TheFolderHoldsTokenizerChatTemplateAndGenerationDefaults()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("m"))).Code);
        using (var folder = ModelFolder.Open(dir.File("m")))
        {
            Assert.Equal(folder.Config.EosTokenIds, folder.EosTokenIds); // no generation_config.json: config.json's
            Assert.NotNull(folder.Tokenizer);
            Assert.Equal(11, folder.Tokenizer!.EosId);
            Assert.Equal([0, 1], folder.Tokenizer.Encode("ab", addSpecialTokens: false));
            var chat = folder.ChatRenderer(new PromptSettings { Template = "chatml" });
            Assert.StartsWith("<|im_start|>user\nab<|im_end|>", chat.Render([new("user", "ab")], addGenerationPrompt: false, new Dictionary<string, object?>()));
        }
        File.WriteAllText(dir.File("m/generation_config.json"), "{\"eos_token_id\": [11, 13], \"do_sample\": false}");
        using (var folder = ModelFolder.Open(dir.File("m")))
            Assert.Equal([11, 13], folder.EosTokenIds);
        File.WriteAllText(dir.File("m/generation_config.json"), "{\"eos_token_id\": \"x\"}");
        using (var folder = ModelFolder.Open(dir.File("m")))
            Assert.Contains("generation_config.json: eos_token_id: expected an id or a list of ids", Assert.Throws<UserException>(() => folder.EosTokenIds).Message);
        File.Delete(dir.File("m/tokenizer.json"));
        using (var folder = ModelFolder.Open(dir.File("m")))
            Assert.Null(folder.Tokenizer);
    }

    [Fact]
    public void ARecordedTemplateSourceWinsOverTheFoldersTemplate()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        var jinja = dir.File("mine.jinja");
        File.WriteAllText(jinja, "{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}");
        var resolved = TextStack.Open(tok, new PromptSettings { Template = jinja });
        var recorded = new PromptSettings { Template = jinja, TemplateSource = resolved.Template.Source };
        File.Delete(jinja); // the run folder outlives the file
        var again = TextStack.Open(tok, recorded);
        Assert.Equal("[user] hi</s>", again.Renderer.Render([new("user", "hi")], false, new Dictionary<string, object?>()));
        Assert.Equal("[user] hi</s>", TextStack.Open(tok, new PromptSettings { TemplateSource = resolved.Template.Source }).Renderer.Render([new("user", "hi")], false, new Dictionary<string, object?>()));
    }
}
