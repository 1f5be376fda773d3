using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Numerics;
using SharpTune.Data;
using SharpTune.Evaluation;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Evaluation;

/// <summary>
/// eval's metrics against scikit-learn (tests/oracles/python/classification_metrics.py, Debian's python3-sklearn) on
/// random predictions with unparseable answers, ties and saturated probabilities, to 1e-12.
/// </summary>
public class ClassificationMetricsOracleTests
{
    private const string Python = "/usr/bin/python3";
    private const double Tolerance = 1e-12;
    private static string Script => Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "classification_metrics.py");

    private static JsonElement Oracle(string predictions, string labels, string positive, int resamples, ulong seed)
    {
        TestEnvironment.RequireOracle(File.Exists(Python), Python + " (python3)");
        var probe = ProcessRunner.Run(Python, ["-c", "import sklearn"]);
        TestEnvironment.RequireOracle(probe.Code == 0, "python3-sklearn (scikit-learn)");
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Script, predictions, labels, positive, $"{resamples}", $"{seed}"]);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    /// <summary>Random predictions: references over <paramref name="labels"/> (the last one absent when <paramref name="missingClass"/>), answers mostly right, some wrong, some null.</summary>
    internal static string RandomPredictions(string path, string[] labels, int n, ulong seed, string scoreMode, bool missingClass = false, double unparseable = 0.08)
    {
        var rng = new SplitMix64(seed);
        var sb = new StringBuilder();
        int present = missingClass ? labels.Length - 1 : labels.Length;
        for (int i = 0; i < n; i++)
        {
            int reference = rng.Next(present);
            double u = rng.NextDouble();
            string? answer = u < unparseable ? null : u < 0.7 ? labels[reference] : labels[rng.Next(present)];
            var r = new PredictionRecord
            {
                Index = i, Output = answer ?? "I am not sure", HasAnswer = true, Answer = answer, Label = labels[reference],
                Correct = answer == labels[reference], Extra = [new("user_id", $"{rng.Next(7) + 1}")],
            };
            // p correlated with the reference; rounded to 2 decimals so that ties occur; sometimes exactly 0 or 1
            double signal = reference == 0 ? 0.62 : 0.38;
            double p = Math.Round(Math.Clamp(signal + 0.35 * (rng.NextDouble() - 0.5) * 2, 0, 1), 2);
            if (rng.Next(40) == 0) p = rng.Next(2);
            if (scoreMode == "p") r = r with { P = p };
            else if (scoreMode == "scores")
                r = r with { Scores = [new(labels[0], Math.Log(p + 1e-3) - 0.1), new(labels[1], Math.Log(1 - p + 1e-3) - 0.1)] };
            sb.Append(r.ToJsonLine()).Append('\n');
        }
        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(false));
        return path;
    }

    private static void Near(double expected, double actual, string what)
    {
        if (!(Math.Abs(expected - actual) <= Tolerance)) Assert.Fail($"{what}: scikit-learn {expected:R}, ours {actual:R}");
    }

    private static void Compare(JsonElement oracle, ClassificationResult ours, bool scores, bool intervals)
    {
        Assert.Equal(oracle.GetProperty("n").GetInt64(), ours.N);
        Assert.Equal(oracle.GetProperty("unparseable").GetInt64(), ours.Unparseable);
        Near(oracle.GetProperty("accuracy").GetDouble(), ours.Accuracy, "accuracy");
        Near(oracle.GetProperty("macro_f1").GetDouble(), ours.MacroF1, "macro F1");
        for (int i = 0; i < ours.Labels.Count; i++)
        {
            var c = ours.PerClass[i];
            var o = oracle.GetProperty("per_class").GetProperty(c.Label);
            Near(o.GetProperty("precision").GetDouble(), c.Precision, $"precision {c.Label}");
            Near(o.GetProperty("recall").GetDouble(), c.Recall, $"recall {c.Label}");
            Near(o.GetProperty("f1").GetDouble(), c.F1, $"F1 {c.Label}");
            Assert.Equal(o.GetProperty("support").GetInt64(), c.Support);
            var row = oracle.GetProperty("confusion").GetProperty(c.Label);
            for (int j = 0; j < ours.Labels.Count; j++) Assert.Equal(row.GetProperty(ours.Labels[j]).GetInt64(), ours.Confusion[i, j]);
            Assert.Equal(row.GetProperty("unparseable").GetInt64(), ours.Confusion[i, ours.Labels.Count]);
        }
        if (scores)
        {
            Assert.NotNull(ours.Scores);
            var auc = oracle.GetProperty("roc_auc");
            if (auc.ValueKind == JsonValueKind.Null) Assert.Null(ours.Scores!.RocAuc);
            else Near(auc.GetDouble(), ours.Scores!.RocAuc!.Value, "ROC AUC");
            Near(oracle.GetProperty("log_loss").GetDouble(), ours.Scores!.LogLoss!.Value, "log loss");
            Near(oracle.GetProperty("best_threshold").GetDouble(), ours.Scores!.BestThreshold!.Value, "best threshold");
            Near(oracle.GetProperty("best_threshold_accuracy").GetDouble(), ours.Scores!.BestThresholdAccuracy!.Value, "best threshold accuracy");
        }
        else Assert.Null(ours.Scores);
        if (intervals)
        {
            var iv = oracle.GetProperty("intervals");
            Near(iv.GetProperty("accuracy")[0].GetDouble(), ours.AccuracyInterval!.Low, "accuracy interval low");
            Near(iv.GetProperty("accuracy")[1].GetDouble(), ours.AccuracyInterval!.High, "accuracy interval high");
            Near(iv.GetProperty("macro_f1")[0].GetDouble(), ours.MacroF1Interval!.Low, "macro F1 interval low");
            Near(iv.GetProperty("macro_f1")[1].GetDouble(), ours.MacroF1Interval!.High, "macro F1 interval high");
        }
    }

    private static ClassificationResult Ours(string path, string labels, string positive, int resamples, ulong seed) =>
        PredictionEvaluator.Evaluate(PredictionReader.ReadFile(path), path, new EvaluationOptions
        {
            Labels = LabelSet.Parse(labels), Positive = positive, Bootstrap = new BootstrapOptions(resamples, seed),
        }).Overall;

    [Theory]
    [InlineData(1UL, 400, "p")]
    [InlineData(2UL, 600, "scores")]
    [InlineData(3UL, 37, "p")]
    public void BinaryMetricsWithScoresEqualScikitLearn(ulong seed, int n, string scoreMode)
    {
        using var d = TestEnvironment.TempDir();
        var path = RandomPredictions(d.File("p.jsonl"), ["Yes", "No"], n, seed, scoreMode);
        Compare(Oracle(path, "Yes,No", "Yes", 100, seed), Ours(path, "Yes,No", "Yes", 100, seed), scores: true, intervals: true);
        // the other label as positive: AUC, log loss and threshold change, the rest does not
        if (scoreMode == "p") return;
        Compare(Oracle(path, "Yes,No", "No", 0, 0), Ours(path, "Yes,No", "No", 0, 0), scores: true, intervals: false);
    }

    [Theory]
    [InlineData(4UL, false)]
    [InlineData(5UL, true)]
    public void MultiClassMetricsEqualScikitLearn(ulong seed, bool missingClass)
    {
        using var d = TestEnvironment.TempDir();
        var path = RandomPredictions(d.File("p.jsonl"), ["A", "B", "C", "D"], 500, seed, "none", missingClass);
        Compare(Oracle(path, "A,B,C,D", "A", 100, seed), Ours(path, "A,B,C,D", "A", 100, seed), scores: false, intervals: true);
    }

    [Fact]
    public void AClassNeverAnsweredAndOneClassOnlyEqualScikitLearn()
    {
        using var d = TestEnvironment.TempDir();
        // every answer Yes or null: precision of No is 0/0 (0); all references Yes: AUC undefined
        var lines = Enumerable.Range(0, 50).Select(i => new PredictionRecord
        {
            Index = i, HasAnswer = true, Answer = i % 5 == 0 ? null : "Yes", Label = i % 3 == 0 ? "No" : "Yes", P = (i % 10) / 10.0,
        }.ToJsonLine());
        var path = d.File("p.jsonl");
        File.WriteAllLines(path, lines);
        Compare(Oracle(path, "Yes,No", "Yes", 50, 9), Ours(path, "Yes,No", "Yes", 50, 9), scores: true, intervals: true);
        File.WriteAllLines(path, lines.Select(l => l.Replace("\"label\":\"No\"", "\"label\":\"Yes\"")));
        Compare(Oracle(path, "Yes,No", "Yes", 0, 0), Ours(path, "Yes,No", "Yes", 0, 0), scores: true, intervals: false);
    }
}
