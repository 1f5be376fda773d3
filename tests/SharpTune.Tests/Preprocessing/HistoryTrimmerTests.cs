using SharpTune.Data.Sft;
using SharpTune.Preprocessing;

namespace SharpTune.Tests.Preprocessing;

public class HistoryTrimmerTests
{
    private const string MovieLensInput =
        "Predict.\n\nUser's last 3 watched movies:\n1. Pearl Harbor (2001) (rating ≈ 3.0)\n2. Heat (1995) (rating ≈ 4.5)\n3. Babe (1995) (rating ≈ 3.5)\n\nCandidate movie:\nMoney Pit, The (1986)\n\nShould we recommend this movie to the user? Answer Yes or No.";

    [Fact]
    public void DropsTheOldestMovieRenumbersAndUpdatesTheCount()
    {
        Assert.True(HistoryTrimmer.TryDropOldestListItem(MovieLensInput, out var shorter, out var removed));
        Assert.Equal("Pearl Harbor (2001) (rating ≈ 3.0)", removed);
        Assert.Equal(
            "Predict.\n\nUser's last 2 watched movies:\n1. Heat (1995) (rating ≈ 4.5)\n2. Babe (1995) (rating ≈ 3.5)\n\nCandidate movie:\nMoney Pit, The (1986)\n\nShould we recommend this movie to the user? Answer Yes or No.",
            shorter);
        Assert.True(HistoryTrimmer.TryDropOldestListItem(shorter, out var shortest, out _));
        Assert.Contains("User's last 1 watched movies:\n1. Babe (1995)", shortest);
        Assert.False(HistoryTrimmer.TryDropOldestListItem(shortest, out _, out _)); // a one-item list is left alone
    }

    [Fact]
    public void DropsEarliestTurnPairsBeforeListItemsAndNeverTheAnswer()
    {
        var r = new SftRecord
        {
            Source = "t", Index = 0, Kind = SftRecordKind.Conversation,
            Turns = [new("user", "old q"), new("assistant", "old a"), new("user", MovieLensInput), new("assistant", "No")],
        };
        var s1 = HistoryTrimmer.DropOldest(r)!;
        Assert.Equal(2, s1.Record.Turns.Count);
        var s2 = HistoryTrimmer.DropOldest(s1.Record)!;
        Assert.Contains("last 2 watched", s2.Record.Turns[0].Content);
        Assert.Equal("No", s2.Record.Turns[1].Content);
        var s3 = HistoryTrimmer.DropOldest(s2.Record)!;
        Assert.Null(HistoryTrimmer.DropOldest(s3.Record));
    }

    [Fact]
    public void TextWithoutAListCannotBeTrimmed()
    {
        Assert.False(HistoryTrimmer.TryDropOldestListItem("no list here\n1. only one", out _, out _));
        Assert.False(HistoryTrimmer.TryDropOldestListItem("1.no space\n2.no space", out _, out _));
    }
}
