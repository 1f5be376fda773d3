using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Data;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Cli;

public class PrepareCommandsTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void PrepareMovieLensPrintsTheSummaryTable()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), MovieLensPreparerTests.ManyUsers(30));
        var (code, output, err) = Run("prepare", "movielens", "--ratings", f.Ratings, "--movies", f.Movies, "--out", f.Out,
            "--history-len", "3", "--split", "temporal", "--eval-size", "0");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Contains("split       samples", output);
        Assert.Matches(@"\ntrain +\d+ +\d+ +\d+ +\d+\.\d  train\.json\n", output);
        Assert.Contains("--split temporal", output);
        Assert.True(File.Exists(Path.Combine(f.Out, "summary.json")));
    }

    [Theory]
    [InlineData("--split", "random", "error: --split: expected one of user, temporal, got 'random'")]
    [InlineData("--format", "1m", "error: --format: expected latest or 100k, got '1m'")]
    [InlineData("--history-len", "0", "error: --history-len: expected an integer >= 1, got 0")]
    [InlineData("--seed", "-3", "error: --seed: expected a non-negative integer, got '-3'")]
    public void BadFlagsExitOneWithOneLine(string flag, string value, string message)
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), "1,1,4.0,1\n");
        var (code, _, err) = Run("prepare", "movielens", "--ratings", f.Ratings, "--movies", f.Movies, "--out", f.Out, flag, value);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal(message, err.TrimEnd('\n'));
    }

    [Fact]
    public void BadRowExitsOneNamingFileAndLine()
    {
        using var f = new MovieLensTestFiles().Write(MovieLensTestFiles.PlainMovies(), "1,1,4.0,1\n1,1,9.0,2\n");
        var (code, _, err) = Run("prepare", "movielens", "--ratings", f.Ratings, "--movies", f.Movies, "--out", f.Out);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal($"error: {f.Ratings}:3: rating 9.0 is outside 0.5–5.0 (use --skip-bad-rows to skip and count bad rows)", err.TrimEnd('\n'));
    }

    [Fact]
    public void SyntheticMovieLensVerbWritesBothFiles()
    {
        using var d = TestEnvironment.TempDir();
        var (code, output, _) = Run("prepare", "synthetic-movielens", "--out", d.Path, "--users", "30", "--movies", "100", "--ratings-per-user-min", "5");
        Assert.Equal(0, code);
        Assert.StartsWith($"wrote {d.File("ratings.csv")} (", output);
        Assert.True(File.Exists(d.File("movies.csv")));
        var (bad, _, err) = Run("prepare", "synthetic-movielens", "--out", d.Path, "--movies", "100", "--ratings-per-user-min", "80");
        Assert.Equal(CliApp.UserError, bad);
        Assert.Equal("error: --ratings-per-user-min: expected at most half of --movies (50), got 80", err.TrimEnd('\n'));
    }
}
