using SharpTune.Data.MovieLens;
using SharpTune.Data.Synthetic;
using SharpTune.Evaluation;
using SharpTune.Evaluation.Baselines;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Evaluation;

public class PredictionRecordTests
{
    [Fact]
    public void WhatInferWritesEvalReadsBack()
    {
        var r = new PredictionRecord
        {
            Index = 12, Output = "<think>\n\n</think>\n\nYes — «sûr»", HasAnswer = true, Answer = "Yes", Label = "No", Correct = false,
            FinishReason = "eos", PromptTokens = 431, GeneratedTokens = 9, Scores = [new("Yes", -0.25), new("No", -1.5)],
            P = 0.7772998611746911, Prompt = "<|im_start|>user\nHi<|im_end|>\n",
            Extra = [new("user_id", "7"), new("movie_id", "318"), new("title", "\"Money Pit, The (1986)\"")],
        };
        var line = r.ToJsonLine();
        Assert.StartsWith("{\"index\":12,\"output\":\"<think>\\n\\n</think>\\n\\nYes — «sûr»\",\"answer\":\"Yes\",\"label\":\"No\",\"correct\":false,", line);
        Assert.EndsWith(",\"user_id\":7,\"movie_id\":318,\"title\":\"Money Pit, The (1986)\"}", line);
        var back = PredictionReader.Parse(line, "x:1");
        Assert.Equal(line, back.ToJsonLine());
        Assert.Equal(r.P, back.P);
        Assert.Equal("Money Pit, The (1986)", back.FieldText("title"));
        Assert.Equal("7", back.FieldText("user_id"));
        Assert.Null(back.FieldText("absent"));

        // "answer": null is kept apart from an absent answer
        var unparseable = PredictionReader.Parse("{\"output\": \"hm\", \"answer\": null, \"label\": \"Yes\"}", "x:2");
        Assert.True(unparseable.HasAnswer);
        Assert.Null(unparseable.Answer);
        Assert.Contains("\"answer\":null", unparseable.ToJsonLine());
        Assert.False(PredictionReader.Parse("{\"output\": \"hm\"}", "x:3").HasAnswer);
    }

    [Theory]
    [InlineData("{\"index\": -1}", "x:1: \"index\" must be a non-negative integer, got -1")]
    [InlineData("{\"label\": 3}", "x:1: \"label\" must be a string or null, got 3")]
    [InlineData("{\"scores\": {\"Yes\": \"high\"}}", "x:1: \"scores.Yes\" must be a finite number, got \"high\"")]
    [InlineData("{\"correct\": \"yes\"}", "x:1: \"correct\" must be true, false or null, got \"yes\"")]
    [InlineData("\"Yes\"", "x:1: expected a JSON object, got a string")]
    public void FieldsOfTheWrongTypeNameTheLine(string line, string message) =>
        Assert.Equal(message, Assert.Throws<UserException>(() => PredictionReader.Parse(line, "x:1")).Message);

    [Fact]
    public void BootstrapIntervalsDependOnlyOnTheSeed()
    {
        var labels = LabelSet.Parse("Yes,No");
        int[] refs = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1];
        int[] preds = [0, 1, 1, -1, 0, 1, 1, 1, 0, 0, -1, 1];
        var a = ClassificationMetrics.Compute(labels, refs, preds, bootstrap: new BootstrapOptions(300, 5));
        var b = ClassificationMetrics.Compute(labels, refs, preds, bootstrap: new BootstrapOptions(300, 5));
        var c = ClassificationMetrics.Compute(labels, refs, preds, bootstrap: new BootstrapOptions(300, 6));
        Assert.Equal(a.AccuracyInterval, b.AccuracyInterval);
        Assert.Equal(a.MacroF1Interval, b.MacroF1Interval);
        Assert.NotEqual(a.AccuracyInterval, c.AccuracyInterval);
        Assert.True(a.AccuracyInterval!.Low < a.Accuracy && a.Accuracy < a.AccuracyInterval.High);
        Assert.Null(ClassificationMetrics.Compute(labels, refs, preds, bootstrap: new BootstrapOptions(0)).AccuracyInterval);
    }

    [Fact]
    public void BaselinesRunOnATemporalSplitWhereTestUsersAreInTrain()
    {
        using var d = TestEnvironment.TempDir();
        var data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.File("data"), Users = 60, Movies = 200, Seed = 4 });
        var summary = MovieLensPreparer.Prepare(new MovieLensPrepareOptions
        {
            RatingsPath = data.RatingsPath, MoviesPath = data.MoviesPath, OutputDirectory = d.File("prepared"), Split = SplitMode.Temporal, TestRatio = 0.2,
        });
        var report = MovieLensBaselines.Run(d.File("prepared"), new BaselineOptions { Bootstrap = new BootstrapOptions(0), MatrixFactorization = new MatrixFactorizationOptions { Epochs = 10 } });
        Assert.Equal(summary.Splits.Single(s => s.Name == "test").Samples, report.TestSamples);
        Assert.Equal(summary.Splits.Single(s => s.Name == "train").Samples, report.TrainSamples);
        var r = report.Results.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(summary.Splits.Single(s => s.Name == "test").Yes, r["majority"].PerClass[0].Support);
        // the synthetic label is learnable from the history (docs/data.md): the history mean beats the majority class
        Assert.True(r["user_history_mean"].Accuracy > r["majority"].Accuracy);
        Assert.All(report.Results, kv => Assert.Equal(report.TestSamples, kv.Value.N));
    }
}
