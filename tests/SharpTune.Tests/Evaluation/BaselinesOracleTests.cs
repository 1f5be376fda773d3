using System.Text.Json;
using SharpTune.Data.MovieLens;
using SharpTune.Evaluation;
using SharpTune.Evaluation.Baselines;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Evaluation;

/// <summary>
/// The baselines on the shared ml-latest-small against tests/oracles/python/movielens_baselines.py, an independent
/// computation of the same definitions (exact thresholds and counts); matrix factorization: beats the majority class
/// and gives the same bytes on a second run.
/// </summary>
public class BaselinesOracleTests
{
    private const string Python = "/usr/bin/python3";
    private static string Script => Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "movielens_baselines.py");

    [Fact]
    public void MlLatestSmallBaselinesMatchTheOracle()
    {
        var data = TestEnvironment.RequireShared(Path.Combine("data", "ml-latest-small"));
        TestEnvironment.RequireOracle(File.Exists(Python), Python + " (python3)");
        TestEnvironment.RequireOracle(ProcessRunner.Run(Python, ["-c", "import sklearn"]).Code == 0, "python3-sklearn (scikit-learn)");
        using var tmp = TestEnvironment.TempDir();
        var ratings = Path.Combine(data, "ratings.csv");
        MovieLensPreparer.Prepare(new MovieLensPrepareOptions { RatingsPath = ratings, MoviesPath = Path.Combine(data, "movies.csv"), OutputDirectory = tmp.Path });

        var options = new BaselineOptions { Bootstrap = new BootstrapOptions(0) };
        var report = MovieLensBaselines.Run(tmp.Path, options);
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Script, ratings, tmp.Path]);
        Assert.True(code == 0, stderr);
        var oracle = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(oracle.GetProperty("train_samples").GetInt64(), report.TrainSamples);
        Assert.Equal(oracle.GetProperty("test_samples").GetInt64(), report.TestSamples);
        // the fallback of item_mean is exercised: some test candidates have no train rating
        Assert.True(oracle.GetProperty("unseen_test_movies").GetInt32() > 0);

        var results = report.Results.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(["majority", "user_history_mean", "item_mean", "matrix_factorization"], report.Results.Select(kv => kv.Key));
        foreach (var name in new[] { "majority", "user_history_mean", "item_mean" })
        {
            var o = oracle.GetProperty(name);
            var r = results[name];
            Assert.Equal(o.GetProperty("n").GetInt64(), r.N);
            Assert.Equal(o.GetProperty("accuracy").GetDouble(), r.Accuracy, 1e-12);
            Assert.Equal(o.GetProperty("macro_f1").GetDouble(), r.MacroF1, 1e-12);
            for (int i = 0; i < 2; i++)
            {
                var c = o.GetProperty("per_class").GetProperty(r.Labels[i]);
                Assert.Equal(c.GetProperty("precision").GetDouble(), r.PerClass[i].Precision, 1e-12);
                Assert.Equal(c.GetProperty("recall").GetDouble(), r.PerClass[i].Recall, 1e-12);
                Assert.Equal(c.GetProperty("f1").GetDouble(), r.PerClass[i].F1, 1e-12);
                for (int j = 0; j < 2; j++)
                    Assert.Equal(o.GetProperty("confusion").GetProperty(r.Labels[i]).GetProperty(r.Labels[j]).GetInt64(), r.Confusion[i, j]);
            }
            if (name == "majority") continue;
            Assert.Equal(o.GetProperty("threshold").GetDouble(), r.Threshold); // exact: the same value of the same statistic
            Assert.Equal(o.GetProperty("roc_auc").GetDouble(), r.Scores!.RocAuc!.Value, 1e-12);
        }

        var mf = results["matrix_factorization"];
        Assert.True(mf.Accuracy > results["majority"].Accuracy + 0.05, $"MF {mf.Accuracy} vs majority {results["majority"].Accuracy}");
        Assert.True(mf.MacroF1 > results["majority"].MacroF1 + 0.2);
        var again = MovieLensBaselines.Run(tmp.Path, options);
        Assert.Equal(EvaluationJson.Serialize(report.Results), EvaluationJson.Serialize(again.Results));
        // another seed gives another (still deterministic) model
        var other = MovieLensBaselines.Run(tmp.Path, options with { MatrixFactorization = new MatrixFactorizationOptions { Seed = 2 } });
        Assert.NotEqual(mf.Scores!.RocAuc, other.Results[3].Value.Scores!.RocAuc);
    }
}
