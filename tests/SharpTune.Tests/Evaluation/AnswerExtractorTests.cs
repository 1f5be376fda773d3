using SharpTune.Evaluation;

namespace SharpTune.Tests.Evaluation;

public class AnswerExtractorTests
{
    private static readonly AnswerExtractor YesNo = new(LabelSet.Parse("Yes,No"));

    [Theory]
    // plain, case, punctuation after the first word
    [InlineData("Yes", "Yes")]
    [InlineData("No", "No")]
    [InlineData("yes", "Yes")]
    [InlineData("NO", "No")]
    [InlineData("Yes.", "Yes")]
    [InlineData("No, because the user dislikes horror.", "No")]
    [InlineData("Yes! Definitely.", "Yes")]
    [InlineData("  \n\tNo", "No")]
    // think blocks: closed (removed, even when they mention the other label), several, empty, a block the prompt opened
    [InlineData("<think>\nThe user rated horror low, so No?\n</think>\n\nYes", "Yes")]
    [InlineData("<think>\n\n</think>\n\nNo", "No")]
    [InlineData("<think>Yes</think><think>or No</think> No.", "No")]
    [InlineData("<think>a</think>Answer: <think>b, Yes</think> No", "No")]
    [InlineData("the user likes comedies, so Yes\n</think>\n\nNo", "No")]
    // verbose prefixes (case-insensitive), combined with markdown
    [InlineData("Answer: Yes", "Yes")]
    [InlineData("answer:No", "No")]
    [InlineData("Final answer: No", "No")]
    [InlineData("FINAL ANSWER: yes.", "Yes")]
    [InlineData("Prediction: Yes", "Yes")]
    [InlineData("The answer is No.", "No")]
    [InlineData("The answer is: Yes", "Yes")]
    [InlineData("My answer is yes", "Yes")]
    [InlineData("**Answer:** **Yes**", "Yes")]
    [InlineData("> **No**", "No")]
    [InlineData("`Yes`", "Yes")]
    [InlineData("\"No\"", "No")]
    [InlineData("'yes'", "Yes")]
    [InlineData("_No_", "No")]
    [InlineData("*Final answer:* No", "No")]
    // step 3 before step 4: the leading label wins even when the other one follows
    [InlineData("Yes. No other movie fits better.", "Yes")]
    [InlineData("No - yes, it is a comedy, but the user hates them", "No")]
    // step 4: exactly one label anywhere
    [InlineData("Sure! The user will like it: Yes.", "Yes")]
    [InlineData("Based on the history, I would say no.", "No")]
    [InlineData("I think the answer is yes", "Yes")]
    [InlineData("Recommendation: **Yes**", "Yes")]
    [InlineData("Sure! Yes, and yes again.", "Yes")]
    // letters of other languages around a label: not a whole word; separated by punctuation: a word
    [InlineData("Noé would say yes", "Yes")]
    [InlineData("非常Yes好 No", "No")]
    [InlineData("答案：Yes", "Yes")]
    [InlineData("«No»", "No")]
    [InlineData("Нет, No", "No")]
    public void ExtractsTheLabel(string output, string expected)
    {
        var x = YesNo.Extract(output);
        Assert.Equal(expected, x.Answer);
        Assert.Equal(UnparseableReason.None, x.Reason);
    }

    [Theory]
    [InlineData("<think>\nThe user likes action movies, so Yes", UnparseableReason.ThinkUnclosed)]
    [InlineData("<think>a</think> <think>Yes", UnparseableReason.ThinkUnclosed)]
    [InlineData("Yes <think>hmm", UnparseableReason.ThinkUnclosed)]
    [InlineData("Maybe yes, maybe no.", UnparseableReason.Ambiguous)]
    [InlineData("It could be Yes or No.", UnparseableReason.Ambiguous)]
    [InlineData("", UnparseableReason.NoLabel)]
    [InlineData("   ", UnparseableReason.NoLabel)]
    [InlineData("I cannot tell.", UnparseableReason.NoLabel)]
    [InlineData("Yesterday was fine", UnparseableReason.NoLabel)]
    [InlineData("Noé", UnparseableReason.NoLabel)]
    [InlineData("non", UnparseableReason.NoLabel)]
    [InlineData("Nope, nobody knows", UnparseableReason.NoLabel)]
    [InlineData("Yesss", UnparseableReason.NoLabel)]
    [InlineData("Noë", UnparseableReason.NoLabel)]
    [InlineData("No\u0301", UnparseableReason.NoLabel)] // N, o and a combining acute accent: "Nó", not "No"
    [InlineData("Sí", UnparseableReason.NoLabel)]
    [InlineData("Ja/Nein", UnparseableReason.NoLabel)]
    [InlineData("yesNo", UnparseableReason.NoLabel)]
    [InlineData("No2", UnparseableReason.NoLabel)]
    [InlineData("<think>Yes</think>", UnparseableReason.NoLabel)]
    [InlineData("The answer is unclear", UnparseableReason.NoLabel)]
    public void ReportsWhyAnAnswerIsUnparseable(string output, UnparseableReason reason)
    {
        var x = YesNo.Extract(output);
        Assert.Null(x.Answer);
        Assert.Equal(reason, x.Reason);
    }

    [Fact]
    public void WorksForOtherLabelSets()
    {
        var abcd = new AnswerExtractor(LabelSet.Parse("A,B,C,D"));
        Assert.Equal("B", abcd.Extract("B) Paris").Answer);
        Assert.Equal("C", abcd.Extract("The answer is c.").Answer);
        Assert.Equal(UnparseableReason.NoLabel, abcd.Extract("Apple").Reason);
        Assert.Equal(UnparseableReason.Ambiguous, abcd.Extract("Either A or D").Reason);
        var sentiment = new AnswerExtractor(LabelSet.Parse("positive,negative,neutral"));
        Assert.Equal("negative", sentiment.Extract("Sentiment: Negative").Answer);
        // a label that starts another: the longer one that leads wins
        var overlap = new AnswerExtractor(LabelSet.Parse("No,No way"));
        Assert.Equal("No way", overlap.Extract("no way!").Answer);
        Assert.Equal("No", overlap.Extract("No, really").Answer);
    }

    [Theory]
    [InlineData("Yes", "at least two labels")]
    [InlineData(",No", "label 1 is empty")]
    [InlineData("Yes,yes", "'yes' is given twice")]
    [InlineData("Yes,,No", "label 2 is empty")]
    public void BadLabelSetsAreUserErrors(string labels, string message)
    {
        var e = Assert.Throws<UserException>(() => LabelSet.Parse(labels));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("--labels: ", e.Message);
    }
}
