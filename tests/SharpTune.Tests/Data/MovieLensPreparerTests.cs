using System.Text;
using SharpTune.Data.MovieLens;

namespace SharpTune.Tests.Data;

public class MovieLensPreparerTests
{
    private const string Question = "\n\nShould we recommend this movie to the user? Answer Yes or No.";

    // Everything into train (val and test ratios 0) so the records can be read back in timeline order.
    private static MovieLensPrepareOptions AllTrain(MovieLensPrepareOptions o) => o with { ValRatio = 0, TestRatio = 0, HistoryLength = 2 };

    [Fact]
    public void WindowsHistoryOldestFirstAndSortsByTimestampThenMovieId()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(),
            // user 7, listed out of order; movies 3 and 2 share a timestamp (movieId breaks the tie).
            "7,5,2.0,500\n7,3,4.0,300\n7,1,5.0,100\n7,2,3.5,300\n" +
            // user 2: exactly history-len ratings, so no sample.
            "2,1,4.0,1\n2,2,4.0,2\n");
        var s = f.Prepare(AllTrain);
        var train = f.Train;
        Assert.Equal(2, train.Count);
        // Timeline of user 7: 1 (t100), 2 (t300), 3 (t300), 5 (t500). Samples predict 3 and 5.
        Assert.Equal("User's last 2 watched movies:\n1. Movie 1 (2001) (rating ≈ 5.0)\n2. Movie 2 (2002) (rating ≈ 3.5)\n\nCandidate movie:\nMovie 3 (2003)" + Question,
            train[0].GetProperty("input").GetString());
        Assert.Equal("Yes", train[0].GetProperty("output").GetString());
        Assert.Equal("User's last 2 watched movies:\n1. Movie 2 (2002) (rating ≈ 3.5)\n2. Movie 3 (2003) (rating ≈ 4.0)\n\nCandidate movie:\nMovie 5 (2005)" + Question,
            train[1].GetProperty("input").GetString());
        Assert.Equal("No", train[1].GetProperty("output").GetString());
        Assert.Equal(2, s.Users);
        Assert.Equal(1, s.UsersKept);
        Assert.Equal(1, s.UsersSkipped);
        Assert.Equal(2, s.Samples);
    }

    [Fact]
    public void RecordHasTheExactFieldsOrderAndTexts()
    {
        using var f = new MovieLensTestFiles().Write(
            "1,Pearl Harbor (2001),Action\n2,\"Money Pit, The (1986)\",Comedy\n3,Amélie (2001),Romance\n",
            "1,1,3.0,10\n1,3,4.5,20\n1,2,1.0,30\n");
        f.Prepare(AllTrain);
        var text = File.ReadAllText(Path.Combine(f.Out, "train.json"), Encoding.UTF8);
        var expected =
            "[\n  {\"instruction\": \"Predict whether the user will like the candidate movie. Answer only with Yes or No.\", " +
            "\"input\": \"User's last 2 watched movies:\\n1. Pearl Harbor (2001) (rating ≈ 3.0)\\n2. Amélie (2001) (rating ≈ 4.5)\\n\\n" +
            "Candidate movie:\\nMoney Pit, The (1986)\\n\\nShould we recommend this movie to the user? Answer Yes or No.\", " +
            "\"output\": \"No\", \"system\": \"You are a movie recommendation assistant. Given a user's recent history and a candidate movie. " +
            "Please begin your analysis with 'Yes' or 'No'.\", \"history\": []}\n]\n";
        Assert.Equal(expected, text);
    }

    [Fact]
    public void TestRawCarriesIdsRatingAndTimestamp()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(),
            "3,1,4.0,10\n3,2,2.5,20\n3,4,3.5,30\n3,6,4.5,1700000000\n");
        f.Prepare(o => o with { HistoryLength = 2, Split = SplitMode.Temporal, ValRatio = 0, TestRatio = 0.5 });
        var line = File.ReadAllLines(Path.Combine(f.Out, "test_raw.jsonl")).Single();
        Assert.EndsWith("\"output\": \"Yes\", \"system\": \"" + MovieLensPrepareOptions.DefaultSystem +
                        "\", \"history\": [], \"user_id\": 3, \"movie_id\": 6, \"rating\": 4.5, \"timestamp\": 1700000000}", line);
        Assert.Single(f.Train);
    }

    [Theory]
    [InlineData(4.0, "No,Yes,Yes,No,Yes")]
    [InlineData(3.5, "Yes,Yes,Yes,No,Yes")]
    [InlineData(4.3, "No,No,Yes,No,Yes")]
    public void LabelIsYesWhenRatingReachesTheThreshold(double threshold, string expected)
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(),
            "1,1,3.0,1\n1,2,3.5,2\n1,3,4.0,3\n1,4,4.5,4\n1,5,0.5,5\n1,6,5.0,6\n");
        f.Prepare(o => AllTrain(o) with { HistoryLength = 1, RatingThreshold = threshold });
        Assert.Equal(expected, string.Join(',', f.Train.Select(r => r.GetProperty("output").GetString())));
    }

    [Fact]
    public void Ml100kLayoutIsDetectedAndReadAsLatin1()
    {
        using var f = new MovieLensTestFiles();
        var item = Encoding.Latin1.GetBytes(
            "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n" +
            "2|Misérables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0\n");
        File.WriteAllBytes(f.Movies, item);
        File.WriteAllText(f.Ratings, "5\t2\t3\t881250949\n5\t1\t5\t881250950\n");
        var s = f.Prepare(o => AllTrain(o) with { HistoryLength = 1 });
        Assert.Equal(MovieLensFormat.Ml100k, s.Format);
        Assert.Equal("User's last 1 watched movies:\n1. Misérables, Les (1995) (rating ≈ 3.0)\n\nCandidate movie:\nToy Story (1995)" + Question,
            f.Train.Single().GetProperty("input").GetString());
    }

    [Fact]
    public void SameSeedSameBytes()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), ManyUsers(40));
        var a = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), ManyUsers(40));
        using (a)
        {
            f.Prepare(o => o with { HistoryLength = 3, ValRatio = 0.2, TestRatio = 0.2, EvalSize = 5 });
            a.Prepare(o => o with { HistoryLength = 3, ValRatio = 0.2, TestRatio = 0.2, EvalSize = 5 });
            foreach (var name in new[] { "train.json", "eval.json", "test_raw.jsonl" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(f.Out, name)), File.ReadAllBytes(Path.Combine(a.Out, name)));
            // summary.json differs only in the input paths.
            Assert.Equal(File.ReadAllText(Path.Combine(f.Out, "summary.json")).Replace(f.Dir, "D"),
                         File.ReadAllText(Path.Combine(a.Out, "summary.json")).Replace(a.Dir, "D"));
        }
    }

    [Fact]
    public void EvalIsADeterministicSampleOfVal()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), ManyUsers(60));
        var s = f.Prepare(o => o with { HistoryLength = 3, ValRatio = 0.5, TestRatio = 0, EvalSize = 7 });
        var eval = f.Eval.Select(e => e.GetRawText()).ToList();
        Assert.Equal(7, eval.Count);
        Assert.Equal(7, s.Splits.Single(x => x.Name == "eval").Samples);
        // Every eval record is a val record: rerun with eval-size 0 (all of val) and compare.
        var all = f.Prepare(o => o with { HistoryLength = 3, ValRatio = 0.5, TestRatio = 0, EvalSize = 0 });
        var val = f.Eval.Select(e => e.GetRawText()).ToList();
        Assert.Equal(all.Splits.Single(x => x.Name == "val").Samples, val.Count);
        foreach (var e in eval) Assert.True(val.Remove(e), "an eval record that is not a val record: " + e); // multiset containment
        // Another seed picks another sample.
        f.Prepare(o => o with { HistoryLength = 3, ValRatio = 0.5, TestRatio = 0, EvalSize = 7, Seed = 99 });
        Assert.NotEqual(eval, f.Eval.Select(e => e.GetRawText()).ToList());
    }

    internal static string ManyUsers(int users)
    {
        // User u rates movies 1..(4 + u % 6) at times u*1000 + k; ratings cycle through half stars.
        var sb = new StringBuilder();
        for (int u = 1; u <= users; u++)
            for (int k = 1; k <= 4 + u % 6; k++)
                sb.Append($"{u},{k},{(1 + (u + k) % 10) * 0.5:0.0},{u * 1000 + k}\n");
        return sb.ToString();
    }

    [Fact]
    public void OutputsAreCompleteAndNoTemporaryFilesRemain()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), ManyUsers(10));
        f.Prepare(o => o with { HistoryLength = 1 });
        Assert.Equal(["dataset_info.json", "eval.json", "summary.json", "test_raw.jsonl", "train.json"],
            Directory.GetFiles(f.Out).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AFailedRunLeavesNoSummaryAndNoTemporaryFiles()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), ManyUsers(10));
        f.Prepare(o => o with { HistoryLength = 1 });
        Assert.True(File.Exists(Path.Combine(f.Out, "summary.json")));
        // Make the final rename of test_raw.jsonl fail: a directory is in its way.
        File.Delete(Path.Combine(f.Out, "test_raw.jsonl"));
        Directory.CreateDirectory(Path.Combine(f.Out, "test_raw.jsonl"));
        Assert.ThrowsAny<IOException>(() => f.Prepare(o => o with { HistoryLength = 1 }));
        Assert.False(File.Exists(Path.Combine(f.Out, "summary.json")));
        Assert.Empty(Directory.GetFiles(f.Out, ".*tmp*"));
    }
}
