using SharpTune.Data.MovieLens;

namespace SharpTune.Tests.Data;

public class MovieLensBadInputTests
{
    public static TheoryData<string, string, string, string> BadRatings => new()
    {
        // ratings rows (after the header), expected message (without the --skip-bad-rows hint), reason key, file
        { "1,1,4.0\n", "ratings.csv:2: expected 4 fields (userId,movieId,rating,timestamp), got 3", "wrong_field_count", "ratings" },
        { "1,1,4.0,5,6\n", "ratings.csv:2: expected 4 fields (userId,movieId,rating,timestamp), got 5", "wrong_field_count", "ratings" },
        { "x,1,4.0,5\n", "ratings.csv:2: userId 'x' is not a number", "unparsable_number", "ratings" },
        { "1,1,four,5\n", "ratings.csv:2: rating 'four' is not a number", "unparsable_number", "ratings" },
        { "1,1,4.0,5s\n", "ratings.csv:2: timestamp '5s' is not a number", "unparsable_number", "ratings" },
        { "1,1,5.5,5\n", "ratings.csv:2: rating 5.5 is outside 0.5–5.0", "rating_out_of_range", "ratings" },
        { "1,1,0.0,5\n", "ratings.csv:2: rating 0.0 is outside 0.5–5.0", "rating_out_of_range", "ratings" },
        { "1,77,4.0,5\n", "ratings.csv:2: movieId 77 has no title in the movies file", "movie_without_title", "ratings" },
    };

    [Theory]
    [MemberData(nameof(BadRatings))]
    public void BadRatingRowStopsWithFileLineAndProblem(string row, string message, string reason, string file)
    {
        _ = reason; _ = file;
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), row);
        var e = Assert.Throws<UserException>(() => f.Prepare());
        Assert.Equal(f.Ratings.Replace("ratings.csv", "") + message + " (use --skip-bad-rows to skip and count bad rows)", e.Message);
        Assert.False(Directory.Exists(f.Out));
    }

    [Theory]
    [MemberData(nameof(BadRatings))]
    public void SkipBadRowsCountsThemByReason(string row, string message, string reason, string file)
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), "1,1,4.0,1\n" + row + "1,2,4.0,2\n1,3,2.0,3\n");
        var s = f.Prepare(o => o with { HistoryLength = 1, SkipBadRows = true });
        var input = s.Inputs.Single(i => i.Role == file);
        Assert.Equal(4, input.RowsRead);
        Assert.Equal(1, input.RowsRejected);
        Assert.Equal(KeyValuePair.Create(reason, 1L), Assert.Single(input.RejectedByReason));
        Assert.Equal(f.Ratings.Replace("ratings.csv", "") + message.Replace(":2:", ":3:"), Assert.Single(s.RejectedExamples));
        Assert.Equal(3, s.RatingsAccepted);
        Assert.Contains($"\"{reason}\": 1", File.ReadAllText(Path.Combine(f.Out, "summary.json")));
    }

    [Theory]
    [InlineData("5,,Drama\n", "movies.csv:2: movieId 5 has an empty title", "empty_title")]
    [InlineData("5,Five (2000)\n", "movies.csv:2: expected 3 fields (movieId,title,genres), got 2", "wrong_field_count")]
    [InlineData("five,Five (2000),Drama\n", "movies.csv:2: movieId 'five' is not an integer", "unparsable_number")]
    [InlineData("1,Dup (2000),Drama\n", "movies.csv:2: movieId 1 appears more than once", "duplicate_movie_id")]
    public void BadMovieRows(string row, string message, string reason)
    {
        // The bad row comes first; movie 1 follows (for the duplicate case it is the second '1').
        using var f = new MovieLensTestFiles().Write(row + MovieLensTestFiles.PlainMovies(), "1,1,4.0,1\n1,2,4.0,2\n");
        var dir = f.Movies.Replace("movies.csv", "");
        if (reason == "duplicate_movie_id") message = message.Replace(":2:", ":3:");
        var e = Assert.Throws<UserException>(() => f.Prepare());
        Assert.StartsWith(dir + message, e.Message);
        var s = f.Prepare(o => o with { SkipBadRows = true, HistoryLength = 1 });
        Assert.Equal(KeyValuePair.Create(reason, 1L), Assert.Single(s.Inputs.Single(i => i.Role == "movies").RejectedByReason));
    }

    [Theory]
    [InlineData("movies")]
    [InlineData("ratings")]
    public void MissingFileIsAUserError(string which)
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), "1,1,4.0,1\n");
        var path = which == "movies" ? f.Movies : f.Ratings;
        File.Delete(path);
        var e = Assert.Throws<UserException>(() => f.Prepare(o => o with { Format = MovieLensFormat.Latest }));
        Assert.Equal($"{path}: file not found", e.Message);
    }

    [Fact]
    public void OutputPathThatIsAFileIsAUserError()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), "1,1,4.0,1\n");
        File.WriteAllText(f.Out, "x");
        Assert.Equal($"--out: {f.Out} is a file; expected a directory", Assert.Throws<UserException>(() => f.Prepare()).Message);
    }

    [Fact]
    public void OnlyHeadersAreRefusedNotAnEmptyOutput()
    {
        using var f = new MovieLensTestFiles().Write("", "");
        var e = Assert.Throws<UserException>(() => f.Prepare());
        Assert.StartsWith($"{f.Movies}: no movies (0 data rows read", e.Message);
        Assert.False(File.Exists(Path.Combine(f.Out, "train.json")));
        using var g = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), "");
        Assert.StartsWith($"{g.Ratings}: no ratings (0 data rows read", Assert.Throws<UserException>(() => g.Prepare()).Message);
    }

    [Fact]
    public void WrongHeaderIsAUserErrorEvenWhenSkipping()
    {
        using var f = new MovieLensTestFiles();
        File.WriteAllText(f.Movies, "id,name,genres\n1,A (2000),Drama\n");
        File.WriteAllText(f.Ratings, MovieLensTestFiles.RatingsHeader + "1,1,4.0,1\n");
        var e = Assert.Throws<UserException>(() => f.Prepare(o => o with { SkipBadRows = true }));
        Assert.Equal($"{f.Movies}:1: wrong header 'id,name,genres'; expected 'movieId,title,genres'", e.Message);
    }

    [Fact]
    public void UndetectableFormatAsksForFormat()
    {
        using var f = new MovieLensTestFiles();
        File.WriteAllText(f.Movies, MovieLensTestFiles.MoviesHeader);
        File.WriteAllText(f.Ratings, "user,movie,rating,time\n");
        var e = Assert.Throws<UserException>(() => f.Prepare());
        Assert.StartsWith($"{f.Ratings}:1: cannot tell the format", e.Message);
        Assert.EndsWith("pass --format", e.Message);
    }

    [Theory]
    [InlineData(0, 0.05, 0.1, 150, "--history-len")]
    [InlineData(15, 0.5, 0.5, 150, "--val-ratio + --test-ratio")]
    [InlineData(15, -0.1, 0.1, 150, "--val-ratio")]
    [InlineData(15, 0.05, 1.0, 150, "--test-ratio")]
    [InlineData(15, 0.05, 0.1, -1, "--eval-size")]
    public void BadOptionsNameTheOption(int history, double val, double test, int eval, string option)
    {
        var o = new MovieLensPrepareOptions { RatingsPath = "r", MoviesPath = "m", OutputDirectory = "o", HistoryLength = history, ValRatio = val, TestRatio = test, EvalSize = eval };
        Assert.StartsWith(option, Assert.Throws<UserException>(o.Validate).Message);
    }
}
