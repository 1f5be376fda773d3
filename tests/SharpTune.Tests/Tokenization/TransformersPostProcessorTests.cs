using System.Text.Json.Nodes;
using SharpTune.Tests.Support;
using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Tokenization;

/// <summary>
/// A Llama- or Gemma-class tokenizer_config.json decides BOS/EOS around a text as transformers'
/// <c>update_post_processor()</c> does; other classes keep tokenizer.json's post-processor.
/// </summary>
public sealed class TransformersPostProcessorTests
{
    private const string Text = "Hello world";

    // Mistral-7B's vocabulary: tokenizer.json adds <s> (id 1) itself; </s> is id 2.
    private static int[] Encode(string tokenizerClass, bool? addBos, bool? addEos, bool addSpecialTokens = true, bool pair = false)
    {
        TokenizerOracle.Require();
        using var dir = new TempDir();
        var source = TokenizerOracle.TokenizerPath("llama2");
        File.Copy(source, dir.File("tokenizer.json"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(source)!, "tokenizer_config.json")))!.AsObject();
        config["tokenizer_class"] = tokenizerClass;
        config.Remove("add_bos_token");
        config.Remove("add_eos_token");
        if (addBos is { } b) config["add_bos_token"] = b;
        if (addEos is { } e) config["add_eos_token"] = e;
        File.WriteAllText(dir.File("tokenizer_config.json"), config.ToJsonString());
        var tokenizer = Tokenizer.Load(dir.File("tokenizer.json"));
        return pair ? tokenizer.EncodePair(Text, Text, addSpecialTokens).Ids : tokenizer.Encode(Text, addSpecialTokens).Ids;
    }

    private static int[] Plain()
    {
        var ids = Tokenizer.FromJson(File.ReadAllBytes(TokenizerOracle.TokenizerPath("llama2")), "llama2").Encode(Text, addSpecialTokens: false).Ids;
        Assert.NotEmpty(ids);
        Assert.DoesNotContain(1, ids);
        return ids;
    }

    [Theory]
    [InlineData("LlamaTokenizerFast")]
    [InlineData("LlamaTokenizer")]
    [InlineData("GemmaTokenizerFast")]
    [InlineData("CodeLlamaTokenizer")]
    public void AddBosTokenFalseDropsTheBosThatTokenizerJsonAdds(string cls)
    {
        Assert.Equal(Plain(), Encode(cls, addBos: false, addEos: null));
        Assert.Equal([1, .. Plain()], Encode(cls, addBos: true, addEos: null));
        Assert.Equal([1, .. Plain()], Encode(cls, addBos: null, addEos: null)); // transformers' default: add_bos_token=True
    }

    [Fact]
    public void AddEosTokenAppendsEosToSingleAndEachPairSequence()
    {
        Assert.Equal([1, .. Plain(), 2], Encode("LlamaTokenizerFast", addBos: true, addEos: true));
        Assert.Equal([.. Plain(), 2], Encode("LlamaTokenizerFast", addBos: false, addEos: true));
        Assert.Equal([1, .. Plain(), 2, 1, .. Plain(), 2], Encode("LlamaTokenizerFast", addBos: true, addEos: true, pair: true));
        Assert.Equal(Plain(), Encode("LlamaTokenizerFast", addBos: true, addEos: true, addSpecialTokens: false));
    }

    [Fact]
    public void OtherClassesKeepTokenizerJsonsPostProcessor()
    {
        // PreTrainedTokenizerFast (Llama 3, Mistral's own) and Qwen2Tokenizer never rebuild it: add_bos_token is ignored.
        Assert.Equal([1, .. Plain()], Encode("PreTrainedTokenizerFast", addBos: false, addEos: true));
        Assert.Equal([1, .. Plain()], Encode("Qwen2Tokenizer", addBos: false, addEos: null));
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("gemma3")]
    public void TheNpmLlamaAndGemmaConfigsGiveTheSameIdsAsTheirTokenizerJson(string name)
    {
        // Their tokenizer_config.json says what their tokenizer.json does, so the rebuilt template changes nothing.
        TokenizerOracle.Require();
        var path = TokenizerOracle.TokenizerPath(name);
        var withConfig = Tokenizer.Load(path);
        var jsonOnly = Tokenizer.FromJson(File.ReadAllBytes(path), name);
        foreach (var text in new[] { Text, "", " leading space", "a\nb" })
        {
            Assert.Equal(jsonOnly.Encode(text).Ids, withConfig.Encode(text).Ids);
            Assert.Equal(jsonOnly.EncodePair(text, "x").Ids, withConfig.EncodePair(text, "x").Ids);
        }
        Assert.Contains("from tokenizer_config.json", withConfig.DescribePipeline().Single(c => c.Component == "post_processor").Description);
    }

    [Fact]
    public void AddBosWithoutABosTokenNamesTheConfig()
    {
        TokenizerOracle.Require();
        using var dir = new TempDir();
        File.Copy(TokenizerOracle.TokenizerPath("llama2"), dir.File("tokenizer.json"));
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": true}""");
        var e = Assert.Throws<UserException>(() => Tokenizer.Load(dir.File("tokenizer.json")));
        Assert.Contains("tokenizer_config.json: add_bos_token is true but bos_token is not set", e.Message);
    }
}
