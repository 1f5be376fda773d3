using SharpTune.Text;
using SharpTune.Text.Tokenization;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary>The byte-level BPE trainer: deterministic, well-formed, and its output loads in HF with the same ids.</summary>
public sealed class BpeTrainerTests
{
    private static readonly string[] ChatMl = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    private static List<string> TrainingTexts() =>
        TokenizerCorpus.Fixed().Concat(TokenizerCorpus.Random(99, 300))
            .Concat(Enumerable.Range(0, 200).Select(i => $"<|im_start|>user\nUser {i} rated Toy Story (1995) ≈ {i % 5}.5 and Heat (1995) {i % 4}.0. What next?<|im_end|>\n<|im_start|>assistant\nTry Casino (1995).<|im_end|>"))
            .ToList();

    [Fact]
    public void TrainingIsDeterministicAndFillsTheVocabulary()
    {
        var a = BpeTrainer.Train(TrainingTexts(), new BpeTrainerOptions(700, ChatMl));
        var b = BpeTrainer.Train(TrainingTexts(), new BpeTrainerOptions(700, ChatMl));
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(700, a.Vocab.Count + a.SpecialTokens.Count);
        Assert.Equal(a.Vocab.Count - 256, a.Merges.Count);
        Assert.Equal([("<|endoftext|>", 697), ("<|im_start|>", 698), ("<|im_end|>", 699)], a.SpecialTokens);
    }

    [Fact]
    public void WrittenTokenizerLoadsAndRoundTrips()
    {
        using var dir = TestEnvironment.TempDir();
        var trained = BpeTrainer.Train(TrainingTexts(), new BpeTrainerOptions(600, ChatMl));
        var path = TokenizerJsonWriter.Write(trained, dir.Path);
        var tok = Tokenizer.Load(path);
        Assert.Equal(600, tok.VocabSize);
        Assert.Equal(598, tok.TokenToId("<|im_start|>"));
        Assert.NotNull(tok.Config);
        Assert.Equal("<|im_end|>", tok.Config!.EosToken);
        Assert.Equal("<|endoftext|>", tok.Config.PadToken);
        Assert.NotNull(tok.Config.ChatTemplate());
        var config = TokenizerConfig.Load(dir.File("tokenizer_config.json"));
        Assert.False(config.AddBosToken);
        foreach (var text in TokenizerCorpus.Fixed())
        {
            var enc = tok.Encode(text);
            Assert.Equal(Tokenizer.ReplaceLoneSurrogates(text), tok.Decode(enc.Ids));
        }
    }

    [Fact]
    public void TrainedTokenizerGivesTheSameIdsInHuggingFace()
    {
        TokenizerOracle.Require();
        using var dir = TestEnvironment.TempDir();
        var trained = BpeTrainer.Train(TrainingTexts(), new BpeTrainerOptions(800, ChatMl));
        var path = TokenizerJsonWriter.Write(trained, dir.Path);
        var tok = Tokenizer.Load(path);
        var texts = TokenizerCorpus.Fixed().Concat(TokenizerCorpus.Random(5, 300)).ToList();
        var expected = TokenizerOracle.Run(path, texts.Select(TokenizerOracle.TextRequest).ToList());
        int tokens = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            var enc = tok.Encode(texts[i]);
            Assert.Equal(TokenizerOracle.Ints(expected[i].GetProperty("ids_special")), enc.Ids);
            Assert.Equal(TokenizerOracle.Pairs(expected[i].GetProperty("offsets_special")), enc.GetCodePointOffsets(texts[i]).Select(o => (o.Start, o.End)).ToArray());
            Assert.Equal(expected[i].GetProperty("decode_special").GetString(), tok.Decode(enc.Ids));
            tokens += enc.Count;
        }
        Assert.True(tokens > texts.Count);
    }

    [Fact]
    public void BadOptionsAreUserErrors()
    {
        var e = Assert.Throws<UserException>(() => BpeTrainer.Train(["abc"], new BpeTrainerOptions(100, ChatMl)));
        Assert.Contains("--vocab-size", e.Message);
        Assert.Throws<UserException>(() => BpeTrainer.Train(["abc"], new BpeTrainerOptions(300, ["<a>", "<a>"])));
    }
}
