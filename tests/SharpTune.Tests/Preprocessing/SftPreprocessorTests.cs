using SharpTune.Data.Sft;
using SharpTune.Preprocessing;

namespace SharpTune.Tests.Preprocessing;

public class SftPreprocessorTests
{
    private const string History =
        "Predict.\n\nUser's last 4 watched movies:\n1. Alpha (2001) (rating ≈ 3.0)\n2. Beta (1995) (rating ≈ 4.5)\n3. Gamma (1995) (rating ≈ 3.5)\n4. Delta (1990) (rating ≈ 2.0)\n\nCandidate movie:\nOmega (1986)\n\nAnswer Yes or No.";

    private static SftRecord Record(string answer = "No", string? system = "Sys", int index = 0, params (string, string)[] earlier)
    {
        var turns = new List<SftTurn>();
        foreach (var (u, a) in earlier) { turns.Add(new("user", u)); turns.Add(new("assistant", a)); }
        turns.Add(new("user", History));
        turns.Add(new("assistant", answer));
        return new SftRecord { Source = $"data.json[{index}]", Index = index, Kind = SftRecordKind.Conversation, System = system, Turns = turns };
    }

    private static string Supervised(FakeCharTokenizer enc, int[] ids, int[] labels) =>
        enc.Decode(ids.Where((_, i) => labels[i] != LabelMasker.IgnoreIndex).ToArray(), skipSpecialTokens: false);

    [Fact]
    public void OnlyTheAnswerAndItsEndOfTurnAreSupervised()
    {
        var enc = new FakeCharTokenizer();
        var p = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions());
        var s = p.ProcessOne(Record());
        Assert.Empty(s.Events);
        Assert.Equal("No<|im_end|>", Supervised(enc, s.Ids, s.Labels));
        // The inference prompt ends with the empty think block (think_block=prompt) and equals the training prefix.
        var prompt = p.Builder.InferencePrompt(Record());
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", prompt);
        Assert.Equal(enc.EncodeWithOffsets(prompt).Ids, s.Ids[..s.FinalAnswerStart]);
    }

    [Fact]
    public void ThinkBlockAnswerSupervisesTheBlockAndTrainOnEotFalseDropsTheEndToken()
    {
        var enc = new FakeCharTokenizer();
        var p = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { Prompt = new PromptSettings { ThinkBlock = ThinkBlockPlacement.Answer, TrainOnEot = false } });
        var s = p.ProcessOne(Record());
        Assert.Equal("<think>\n\n</think>\n\nNo", Supervised(enc, s.Ids, s.Labels));
        Assert.Throws<UserException>(() => new PromptBuilder(new FakeChatMl(), new PromptSettings { TemplateKwargs = new Dictionary<string, object?> { ["enable_thinking"] = true } }));
    }

    [Fact]
    public void MultiTurnSupervisesEveryAnswerUnlessMaskHistory()
    {
        var enc = new FakeCharTokenizer();
        var record = Record("Yes", null, 0, ("hi", "  hello there "));
        var all = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions()).ProcessOne(record);
        Assert.Equal("hello there<|im_end|>Yes<|im_end|>", Supervised(enc, all.Ids, all.Labels));
        var last = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { MaskHistory = true }).ProcessOne(record);
        Assert.Equal("Yes<|im_end|>", Supervised(enc, last.Ids, last.Labels));
        var everything = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { TrainOnPrompt = true }).ProcessOne(record);
        Assert.DoesNotContain(LabelMasker.IgnoreIndex, everything.Labels);
    }

    [Fact]
    public void DefaultSystemAppliesInTrainingAndInferenceAlike()
    {
        var p = new SftPreprocessor(new FakeChatMl(), new FakeCharTokenizer(), new PreprocessOptions { Prompt = new PromptSettings { DefaultSystem = "Default sys" } });
        var r = Record(system: null);
        Assert.StartsWith("<|im_start|>system\nDefault sys<|im_end|>", p.Builder.RenderTraining(r).Text);
        Assert.StartsWith("<|im_start|>system\nDefault sys<|im_end|>", p.Builder.InferencePrompt(r));
        Assert.StartsWith("<|im_start|>system\nSys<|im_end|>", p.Builder.InferencePrompt(Record()));
    }

    [Fact]
    public void RenderMismatchFailsWithBothSidesOrIsCountedWhenAllowed()
    {
        var enc = new FakeCharTokenizer();
        var bad = new FakeChatMl(injectIntoGenerationPrompt: "<|im_start|>user\nextra<|im_end|>\n");
        var e = Assert.Throws<UserException>(() => new SftPreprocessor(bad, enc, new PreprocessOptions()).ProcessOne(Record()));
        Assert.Contains("data.json[0]: render mismatch", e.Message);
        Assert.Contains("at token ", e.Message);
        Assert.Contains("training has \"assistan", e.Message);
        Assert.Contains("inference prompt has \"user\\nex", e.Message);
        var (ds, report) = new SftPreprocessor(bad, enc, new PreprocessOptions { AllowRenderMismatch = true }).Process([Record()]);
        Assert.Equal(1, report.RenderMismatches);
        Assert.Equal(1, ds.Count);
        Assert.Equal("render-mismatch", Assert.Single(report.Events).Action);
    }

    [Fact]
    public void RenderMismatchErrorNamesTheSwitchAsTheUserGaveTheOptions()
    {
        var enc = new FakeCharTokenizer();
        var bad = new FakeChatMl(injectIntoGenerationPrompt: "<|im_start|>user\nextra<|im_end|>\n");
        string Message(PreprocessOptions o) => Assert.Throws<UserException>(() => new SftPreprocessor(bad, enc, o).ProcessOne(Record())).Message;
        // The CLI binds flags: the error names the flag, not the YAML key.
        var cli = PreprocessSettingsBinder.Bind(_ => null, k => "--" + k.Replace('_', '-'));
        Assert.EndsWith(" — add --allow-render-mismatch to count these instead of failing", Message(cli));
        Assert.EndsWith(" — set allow_render_mismatch: true to count these instead of failing", Message(PreprocessSettingsBinder.Bind(_ => null)));
        // The wording is not part of the cache key.
        Assert.Equal(PreprocessPipeline.CanonicalOptions(cli, null), PreprocessPipeline.CanonicalOptions(new PreprocessOptions(), null));
    }

    [Fact]
    public void LeftTruncationKeepsTheAnswerAndBosAndCountsIt()
    {
        var enc = new FakeCharTokenizer(withBos: true);
        var renderer = new PrefixRenderer("<s>", new FakeChatMl());
        var full = new SftPreprocessor(renderer, enc, new PreprocessOptions()).ProcessOne(Record());
        int cutoff = full.Ids.Length - 30;
        var (ds, report) = new SftPreprocessor(renderer, enc, new PreprocessOptions { CutoffLen = cutoff }).Process([Record()]);
        Assert.Equal(1, report.Truncated);
        var ids = ds.InputIds(0).ToArray();
        Assert.Equal(cutoff, ids.Length);
        Assert.Equal(1, ids[0]); // BOS kept
        Assert.Equal("No<|im_end|>", Supervised(enc, ids, ds.Labels(0)));
        Assert.Equal(full.Ids[^(cutoff - 1)..], ids[1..]);
        var ev = Assert.Single(report.Events);
        Assert.Equal((full.Ids.Length, cutoff), (ev.OriginalLength, ev.FinalLength));
        Assert.Contains("dropped 30 tokens from the start (after BOS)", ev.Detail);
    }

    [Fact]
    public void AnswerThatCannotFitIsDroppedAndCounted()
    {
        var enc = new FakeCharTokenizer();
        var (ds, report) = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { CutoffLen = 10 }).Process([Record("a long answer that cannot fit")]);
        Assert.Equal(0, ds.Count);
        Assert.Equal(1, report.Dropped);
        Assert.Contains("the answer alone is", report.Events[0].Detail);
    }

    [Fact]
    public void HistoryTruncationDropsOldestMoviesRenumbersAndKeepsTheAnswer()
    {
        var enc = new FakeCharTokenizer();
        var full = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions()).ProcessOne(Record());
        var p = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { CutoffLen = full.Ids.Length - 40, Truncation = TruncationMode.History });
        var (ds, report) = p.Process([Record()]);
        var text = enc.Decode(ds.InputIds(0), skipSpecialTokens: false);
        Assert.Contains("User's last 2 watched movies:\n1. Gamma (1995) (rating ≈ 3.5)\n2. Delta (1990)", text);
        Assert.DoesNotContain("Alpha", text);
        Assert.StartsWith("<|im_start|>system\nSys", text);
        Assert.Equal("No<|im_end|>", Supervised(enc, ds.InputIds(0).ToArray(), ds.Labels(0)));
        Assert.Contains("removed 2 history item(s)", Assert.Single(report.Events).Detail);
    }

    [Fact]
    public void DropAndErrorModes()
    {
        var enc = new FakeCharTokenizer();
        var (ds, report) = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { CutoffLen = 50, Truncation = TruncationMode.Drop })
            .Process([Record(index: 0), Record(index: 1)]);
        Assert.Equal((0, 2), (ds.Count, report.Dropped));
        var e = Assert.Throws<UserException>(() => new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions { CutoffLen = 50, Truncation = TruncationMode.Error }).Process([Record()]));
        Assert.Contains("data.json[0]: sample is", e.Message);
    }

    [Fact]
    public void CompletionAndTextRecordsAppendEos()
    {
        var enc = new FakeCharTokenizer();
        var p = new SftPreprocessor(new FakeChatMl(), enc, new PreprocessOptions());
        var c = p.ProcessOne(new SftRecord { Source = "c", Index = 0, Kind = SftRecordKind.Completion, Prompt = "Q: 2+2?\nA:", Completion = " 4" });
        Assert.Equal(" 4</s>", Supervised(enc, c.Ids, c.Labels));
        var t = p.ProcessOne(new SftRecord { Source = "t", Index = 0, Kind = SftRecordKind.Text, Completion = "abc" });
        Assert.Equal("abc</s>", Supervised(enc, t.Ids, t.Labels));
    }

    private sealed class PrefixRenderer(string prefix, IChatRenderer inner) : IChatRenderer
    {
        public bool IsCompletion => false;
        public string Render(IReadOnlyList<RenderMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs) =>
            prefix + inner.Render(messages, addGenerationPrompt, kwargs);
    }
}
