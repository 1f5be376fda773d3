using System.Security.Cryptography;
using System.Text;
using SharpTune.Data.MovieLens;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Data;

/// <summary>The real GroupLens files in ../shared/data (skipped only when absent; never copied into the repository).</summary>
public class MovieLensRealDataTests
{
    public static TheoryData<string, string, string, char> Sets => new()
    {
        { "ml-latest-small", "ratings.csv", "movies.csv", ',' },
        { "ml-100k", "u.data", "u.item", '\t' },
    };

    [Theory]
    [MemberData(nameof(Sets))]
    public void SamplesBeforeSplitAreRatingsBeyondTheHistoryPerUser(string set, string ratingsFile, string moviesFile, char separator)
    {
        var dir = TestEnvironment.RequireShared(Path.Combine("data", set));
        var ratings = Path.Combine(dir, ratingsFile);
        using var tmp = TestEnvironment.TempDir();
        var s = MovieLensPreparer.Prepare(new MovieLensPrepareOptions { RatingsPath = ratings, MoviesPath = Path.Combine(dir, moviesFile), OutputDirectory = tmp.Path });

        // Independent count with plain string splitting.
        var lines = File.ReadAllLines(ratings).Where(l => l.Length > 0).Skip(separator == ',' ? 1 : 0).ToList();
        var perUser = lines.GroupBy(l => l.Split(separator)[0]).Select(g => g.Count()).ToList();
        long expected = perUser.Where(n => n > 15).Sum(n => (long)(n - 15));
        Assert.Equal(expected, s.Samples);
        Assert.Equal(lines.Count, s.Inputs[0].RowsRead);
        Assert.Equal(0, s.Inputs[0].RowsRejected + s.Inputs[1].RowsRejected);
        Assert.Equal(perUser.Count, s.Users);
        Assert.Equal(perUser.Count(n => n > 15), s.UsersKept);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(ratings))), s.Inputs[0].Sha256);
        Assert.Equal(s.Samples, s.Splits.Where(x => x.Name != "eval").Sum(x => x.Samples));
        Assert.Equal(s.Splits[0].Samples, MovieLensTestFiles.ReadArray(Path.Combine(tmp.Path, "train.json")).Count);
        Assert.Equal(s.Splits[2].Samples, File.ReadLines(Path.Combine(tmp.Path, "test_raw.jsonl")).Count());
        Assert.Equal(150, s.Splits[3].Samples);
    }

    [Fact]
    public void Ml100kTitlesAreDecodedFromLatin1()
    {
        var dir = TestEnvironment.RequireShared(Path.Combine("data", "ml-100k"));
        using var tmp = TestEnvironment.TempDir();
        MovieLensPreparer.Prepare(new MovieLensPrepareOptions
        {
            RatingsPath = Path.Combine(dir, "u.data"), MoviesPath = Path.Combine(dir, "u.item"), OutputDirectory = tmp.Path,
            ValRatio = 0, TestRatio = 0,
        });
        var text = File.ReadAllText(Path.Combine(tmp.Path, "train.json"), Encoding.UTF8);
        Assert.Contains("Misérables, Les (1995)", text);
        Assert.DoesNotContain("\uFFFD", text);
    }
}
