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
    public void DemoGeneratesPreparesAndPrintsWhereTheFilesAre()
    {
        using var d = TestEnvironment.TempDir();
        var (code, output, err) = Run("demo", "--out", d.Path);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        // Every stage announces itself in order as [i/n]; the stage list grows as the pipeline does.
        var stages = SharpTune.Cli.Commands.DemoCommand.Stages;
        int at = -1;
        for (int i = 0; i < stages.Count; i++)
        {
            int next = output.IndexOf($"[{i + 1}/{stages.Count}] {stages[i].Name}:", StringComparison.Ordinal);
            Assert.True(next > at, $"stage {stages[i].Name} not announced in order");
            at = next;
        }
        Assert.Contains("  masking: all 150 eval samples supervise exactly the answer + <|im_end|>", output);
        Assert.Matches(@"train\.json: [\d,]+ samples, 0 truncated, 0 dropped, 0 render mismatches", output);
        // The training stage lowers the eval loss of the randomly initialized model well below chance (ln vocab).
        var before = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"eval before: loss (\d+\.\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var after = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"eval after:  loss (\d+\.\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(after < before / 4, $"eval loss {before} -> {after}");
        Assert.Matches(@"\neval +150 ", output);
        Assert.Contains($"in {Path.Combine(d.Path, "data")}\n", output);
        foreach (var file in new[] { "train.json", "eval.json", "test_raw.jsonl", "summary.json" })
            Assert.Contains($"  {Path.Combine(d.Path, "dataset", file)}\n", output);
        foreach (var file in new[] { "data/ratings.csv", "data/movies.csv", "dataset/train.json", "dataset/eval.json", "dataset/test_raw.jsonl", "dataset/summary.json",
                     "tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json", "model/config.json", "model/model.safetensors",
                     "train/checkpoint-40/model.safetensors", "train/checkpoint-40/optimizer.safetensors", "train/checkpoint-40/trainer_state.json",
                     "train/checkpoint-40/prompt_settings.json", "train/model.safetensors", "train/config.json", "train/tokenizer.json", "train/prompt_settings.json",
                     "train/trainer_log.jsonl", "train/trainer_state.json", "train/all_results.json" })
            Assert.True(File.Exists(Path.Combine(d.Path, file)), file);
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
