using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Tests.Preprocessing;

public class LabelMaskerTests
{
    // Tokens of "<s>[INST] q [/INST] Yes </s>" split by hand, with their character ranges.
    private static (int[] Ids, CharSpan[] Offsets, string Text) Sample()
    {
        const string text = "<s>[INST] q [/INST] Yes </s>";
        string[] pieces = ["<s>", "[INST]", " q", " [/INST]", " Yes", " ", "</s>"];
        var offsets = new List<CharSpan>();
        int at = 0;
        foreach (var p in pieces)
        {
            Assert.Equal(p, text.Substring(at, p.Length));
            offsets.Add(new CharSpan(at, at + p.Length));
            at += p.Length;
        }
        return ([1, 10, 11, 12, 13, 14, 2], offsets.ToArray(), text);
    }

    [Fact]
    public void SupervisesOverlappingTokensAndTheEndOfTurnAfterWhitespace()
    {
        var (ids, offsets, text) = Sample();
        var answer = new CharSpan(text.IndexOf("Yes", StringComparison.Ordinal), text.IndexOf("Yes", StringComparison.Ordinal) + 3);
        var labels = new int[ids.Length];
        int n = LabelMasker.Mask(ids, offsets, text, [answer], new HashSet<int> { 2 }, trainOnEot: true, labels);
        Assert.Equal([-100, -100, -100, -100, 13, 14, 2], labels);
        Assert.Equal(3, n);
        Assert.Equal(4, LabelMasker.FirstSupervised(labels));
    }

    [Fact]
    public void WithoutTrainOnEotOnlyTheAnswerIsSupervised()
    {
        var (ids, offsets, text) = Sample();
        var start = text.IndexOf("Yes", StringComparison.Ordinal);
        var labels = new int[ids.Length];
        int n = LabelMasker.Mask(ids, offsets, text, [new CharSpan(start, start + 3)], new HashSet<int> { 2 }, trainOnEot: false, labels);
        Assert.Equal([-100, -100, -100, -100, 13, -100, -100], labels);
        Assert.Equal(1, n);
    }

    [Fact]
    public void AnEndOfTurnAfterNonWhitespaceTextIsNotSupervised()
    {
        var (ids, offsets, text) = Sample();
        // Pretend the answer is " q": the next token is " [/INST]", not whitespace, so no end-of-turn is taken.
        var labels = new int[ids.Length];
        LabelMasker.Mask(ids, offsets, text, [new CharSpan(9, 11)], new HashSet<int> { 2 }, trainOnEot: true, labels);
        Assert.Equal([-100, -100, 11, -100, -100, -100, -100], labels);
        Assert.Equal(-1, LabelMasker.FirstSupervised(new int[] { -100, -100 }));
    }
}
