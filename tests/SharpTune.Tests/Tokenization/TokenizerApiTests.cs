using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Tokenization;

/// <summary>Public API behaviour: batch encoding is thread-safe and equals one-by-one encoding; token/id lookups; offsets units.</summary>
public sealed class TokenizerApiTests
{
    [Fact]
    public void EncodeBatchInParallelEqualsSequentialEncode()
    {
        TokenizerOracle.Require();
        var tok = Tokenizer.Load(TokenizerOracle.TokenizerPath("qwen3"));
        var texts = TokenizerCorpus.Random(31, 1500);
        var batch = tok.EncodeBatch(texts, addSpecialTokens: true, maxDegreeOfParallelism: 4);
        tok.ClearCache();
        for (int i = 0; i < texts.Count; i++)
        {
            var one = tok.Encode(texts[i]);
            Assert.Equal(one.Ids, batch[i].Ids);
            Assert.Equal(one.Offsets, batch[i].Offsets);
        }
    }

    [Fact]
    public void TokenIdLookupsAndOffsetUnits()
    {
        TokenizerOracle.Require();
        var tok = Tokenizer.Load(TokenizerOracle.TokenizerPath("llama2"));
        Assert.Equal(1, tok.TokenToId("<s>"));
        Assert.Equal("<s>", tok.IdToToken(1));
        Assert.Null(tok.TokenToId("no such token at all"));
        Assert.Null(tok.IdToToken(-5));
        Assert.True(tok.IsSpecial(1));
        Assert.Equal(1, tok.SpecialTokensAdded);
        // "😀x": UTF-16 offsets count the emoji as 2 units; code-point offsets as 1.
        const string text = "\ud83d\ude00x";
        var enc = tok.Encode(text, addSpecialTokens: false);
        Assert.Equal(text.Length, enc.Offsets[^1].End);
        Assert.Equal(2, enc.GetCodePointOffsets(text)[^1].End);
    }
}
