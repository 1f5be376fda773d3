using System.Text;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Synthetic;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Data;

/// <summary>
/// Byte-for-byte parity with tests/oracles/python/movielens_records.py, an independent implementation of the
/// record spec with Python's csv module and json.dumps(ensure_ascii=False).
/// </summary>
public class MovieLensOracleTests
{
    private const string Python = "/usr/bin/python3";
    private static string Script => Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "movielens_records.py");

    private static string[] Oracle(string format, string ratings, string movies, int history, double threshold, string mode, double testRatio = 0)
    {
        TestEnvironment.RequireOracle(File.Exists(Python), Python + " (python3)");
        var (code, stdout, stderr) = ProcessRunner.Run(Python,
            [Script, format, ratings, movies, $"{history}", threshold.ToString(System.Globalization.CultureInfo.InvariantCulture), mode,
             testRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(code == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    // train.json is "[\n  rec,\n  rec\n]\n": one record a line.
    private static string[] TrainLines(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "train.json"), Encoding.UTF8)
            .Where(l => l is not ("[" or "]" or "[]"))
            .Select(l => l[2..].TrimEnd(','))
            .ToArray();

    private static void AssertSameLines(string[] expected, string[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i]) Assert.Fail($"record {i} differs\noracle: {expected[i]}\nours:   {actual[i]}");
    }

    private static void CheckAll(string format, string ratings, string movies, int history, double threshold)
    {
        using var tmp = TestEnvironment.TempDir();
        MovieLensPreparer.Prepare(new MovieLensPrepareOptions
        {
            RatingsPath = ratings, MoviesPath = movies, OutputDirectory = tmp.Path, HistoryLength = history,
            RatingThreshold = threshold, ValRatio = 0, TestRatio = 0,
        });
        AssertSameLines(Oracle(format, ratings, movies, history, threshold, "all"), TrainLines(tmp.Path));
    }

    private static void CheckTemporal(string format, string ratings, string movies)
    {
        using var tmp = TestEnvironment.TempDir();
        MovieLensPreparer.Prepare(new MovieLensPrepareOptions
        {
            RatingsPath = ratings, MoviesPath = movies, OutputDirectory = tmp.Path, HistoryLength = 10,
            Split = SplitMode.Temporal, ValRatio = 0, TestRatio = 0.3,
        });
        AssertSameLines(Oracle(format, ratings, movies, 10, 4.0, "temporal", 0.3),
            File.ReadAllLines(Path.Combine(tmp.Path, "test_raw.jsonl"), Encoding.UTF8));
    }

    [Fact]
    public void SyntheticRecordsMatchTheOracle()
    {
        using var d = TestEnvironment.TempDir();
        var data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.Path, Users = 120, Movies = 800, Seed = 5 });
        CheckAll("latest", data.RatingsPath, data.MoviesPath, 15, 4.0);
        CheckAll("latest", data.RatingsPath, data.MoviesPath, 3, 3.5);
        CheckTemporal("latest", data.RatingsPath, data.MoviesPath);
    }

    [Fact]
    public void MlLatestSmallRecordsMatchTheOracle()
    {
        var dir = TestEnvironment.RequireShared(Path.Combine("data", "ml-latest-small"));
        CheckAll("latest", Path.Combine(dir, "ratings.csv"), Path.Combine(dir, "movies.csv"), 15, 4.0);
        CheckTemporal("latest", Path.Combine(dir, "ratings.csv"), Path.Combine(dir, "movies.csv"));
    }

    [Fact]
    public void Ml100kRecordsMatchTheOracle()
    {
        var dir = TestEnvironment.RequireShared(Path.Combine("data", "ml-100k"));
        CheckAll("100k", Path.Combine(dir, "u.data"), Path.Combine(dir, "u.item"), 15, 4.0);
        CheckTemporal("100k", Path.Combine(dir, "u.data"), Path.Combine(dir, "u.item"));
    }
}
