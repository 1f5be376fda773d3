using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Synthetic;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Data;

public partial class SyntheticMovieLensTests
{
    [Fact]
    public void SameSeedSameBytesOtherSeedOtherData()
    {
        using var d = TestEnvironment.TempDir();
        SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.File("a"), Users = 50, Movies = 200 });
        SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.File("b"), Users = 50, Movies = 200 });
        SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.File("c"), Users = 50, Movies = 200, Seed = 2 });
        foreach (var f in new[] { "ratings.csv", "movies.csv" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(d.File("a"), f)), File.ReadAllBytes(Path.Combine(d.File("b"), f)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(d.File("a"), f)), File.ReadAllBytes(Path.Combine(d.File("c"), f)));
        }
    }

    [Fact]
    public void LooksLikeMovieLens()
    {
        using var d = TestEnvironment.TempDir();
        var r = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.Path });
        var lines = File.ReadAllLines(r.RatingsPath);
        Assert.Equal("userId,movieId,rating,timestamp", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(r.Ratings, rows.Count);
        var ratings = rows.Select(x => double.Parse(x[2], CultureInfo.InvariantCulture)).ToList();
        Assert.All(ratings, x => Assert.True(x >= 0.5 && x <= 5.0 && x * 2 == Math.Floor(x * 2)));
        double atLeast4 = ratings.Count(x => x >= 4.0) / (double)ratings.Count;
        Assert.InRange(atLeast4, 0.44, 0.52); // MovieLens: about 48%
        Assert.True(ratings.Distinct().Count() == 10, "all ten half-star values occur");
        var perUser = rows.GroupBy(x => x[0]).Select(g => g.Count()).ToList();
        Assert.Equal(600, perUser.Count);
        Assert.True(perUser.Min() >= 20);
        Assert.True(perUser.Max() > 4 * perUser.Average(), "a long tail of heavy raters");
        // Popularity skew: the top 5% of movies take a large share of the ratings.
        var byMovie = rows.GroupBy(x => x[1]).Select(g => g.Count()).OrderDescending().ToList();
        Assert.True(byMovie.Take(100).Sum() > 0.2 * rows.Count);
        // Titles carry a year; some need CSV quoting (commas, quotes) and some are non-ASCII.
        var movies = File.ReadAllText(r.MoviesPath);
        Assert.Matches(@"\n\d+,""[^""\n]*, [^""\n]*\(\d{4}\)"",", movies);
        Assert.Contains("\"\"", movies);
        Assert.Matches("[é-ë]", movies);
    }

    [GeneratedRegex(@"rating ≈ (\d\.\d)\)")]
    private static partial Regex HistoryRating();

    /// <summary>
    /// The task must be learnable: the rule "Yes when the user's mean history rating ≥ t", with t chosen on train,
    /// must clearly beat always answering train's majority class, on the held-out test users. Computed from the
    /// written records' text, so it checks what a model will actually see.
    /// </summary>
    [Fact]
    public void MeanHistoryRuleClearlyBeatsTheMajorityClass()
    {
        using var d = TestEnvironment.TempDir();
        var data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.File("data"), Seed = 13 });
        MovieLensPreparer.Prepare(new MovieLensPrepareOptions { RatingsPath = data.RatingsPath, MoviesPath = data.MoviesPath, OutputDirectory = d.File("out"), Seed = 13 });
        static (double Mean, bool Yes) Features(JsonElement r) =>
            (HistoryRating().Matches(r.GetProperty("input").GetString()!).Average(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)),
             r.GetProperty("output").GetString() == "Yes");
        var train = MovieLensTestFiles.ReadArray(Path.Combine(d.File("out"), "train.json")).Select(Features).ToList();
        var test = MovieLensTestFiles.ReadLines(Path.Combine(d.File("out"), "test_raw.jsonl")).Select(Features).ToList();
        static double Accuracy(List<(double Mean, bool Yes)> s, double t) => s.Count(x => (x.Mean >= t) == x.Yes) / (double)s.Count;
        var t = Enumerable.Range(0, 61).Select(i => 2.0 + i * 0.05).MaxBy(t => Accuracy(train, t));
        bool majority = train.Count(x => x.Yes) * 2 >= train.Count;
        double rule = Accuracy(test, t), baseline = test.Count(x => x.Yes == majority) / (double)test.Count;
        TestContext.Current.SendDiagnosticMessage($"mean-history rule t={t:0.00}: test accuracy {rule:0.000}; majority class: {baseline:0.000}");
        Assert.True(rule >= baseline + 0.08, $"rule {rule:0.000} vs majority {baseline:0.000}");
        Assert.True(Accuracy(train, t) >= 0.65);
    }
}
