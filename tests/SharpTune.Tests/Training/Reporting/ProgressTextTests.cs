using SharpTune.Training.Reporting;

namespace SharpTune.Tests.Training.Reporting;

public class ProgressTextTests
{
    [Theory]
    [InlineData(0, "0:00:00")]
    [InlineData(7.9, "0:00:07")]
    [InlineData(3725, "1:02:05")]
    [InlineData(86400, "1 day, 0:00:00")]
    [InlineData(2 * 86400 + 3600 * 3 + 61, "2 days, 3:01:01")]
    public void TimedeltaWritesAsPythonsStrOfTimedelta(double seconds, string expected) =>
        Assert.Equal(expected, ProgressText.Timedelta(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(5e-05, "5.00e-05")]
    [InlineData(1.2367e-4, "1.24e-04")]
    [InlineData(0.001, "1.00e-03")]
    [InlineData(0, "0.00e+00")]
    [InlineData(2e-6, "2.00e-06")]
    public void LearningRateIsPythonsTwoDigitExponentForm(double lr, string expected) =>
        Assert.Equal(expected, ProgressText.LearningRate(lr));

    [Fact]
    public void PlainStepLineHasEveryFieldInInvariantFormat()
    {
        var e = new StepLogged(30, 120, 0.75, 1.23456, 0.61234, 1.5, 4.5e-5, 0.98765, 61440, 2048.04, TimeSpan.FromSeconds(90));
        // 20 steps done since the resume at step 10 took 90 s: 90 remaining steps × 4.5 s.
        Assert.Equal(
            "step=30/120 epoch=0.75 loss=1.2346 token_accuracy=0.6123 entropy=1.5000 lr=4.50e-05 grad_norm=0.9877 tokens_per_s=2048.0 elapsed=0:01:30 remaining=0:06:45",
            ProgressText.PlainLine(e, startStep: 10));
    }

    [Fact]
    public void PlainLinesOfTheOtherEvents()
    {
        Assert.Equal("step=5/10 epoch=0.50 loss=2.0000 lr=1.00e-04 tokens_per_s=10.0 elapsed=0:00:05 remaining=0:00:05",
            ProgressText.PlainLine(new StepLogged(5, 10, 0.5, 2, null, null, 1e-4, null, 50, 10, TimeSpan.FromSeconds(5)), 0));
        Assert.Equal("eval step=20 epoch=0.50 eval_loss=0.7000 eval_token_accuracy=0.8000 eval_entropy=1.0000 eval_first_token_accuracy=0.9000 eval_gen_accuracy=0.7500 eval_gen_f1=0.7400 eval_gen_unparseable_rate=0.0200 eval_gen_samples=150 time=0:00:03",
            ProgressText.PlainLine(new EvaluationCompleted(20, 0.5, 0.7, 0.8, 1.0, 0.9, new GenerativeEvalSummary(150, 0.75, 0.74, 0.02), TimeSpan.FromSeconds(3.5)), 0));
        Assert.Equal("checkpoint step=20 path=out/checkpoint-20 reason=save_steps",
            ProgressText.PlainLine(new CheckpointSaved(20, "out/checkpoint-20", "save_steps"), 0));
        Assert.Equal("checkpoint step=20 path=out/checkpoint-20 reason=save seconds=0.123",   // the write time, when measured
            ProgressText.PlainLine(new CheckpointSaved(20, "out/checkpoint-20", "save", 0.1234), 0));
        Assert.Equal("warning: drift: x", ProgressText.PlainLine(new TrainingWarning(20, TrainingWarningKinds.Drift, "drift: x"), 0));
        Assert.Equal("train: 120 steps, 3 epochs, output out", ProgressText.PlainLine(new TrainingStarted(0, 120, 3, "out"), 0));
        Assert.Equal("train: resuming at step 40 of 120 (3 epochs), output out", ProgressText.PlainLine(new TrainingStarted(40, 120, 3, "out"), 40));
        Assert.Equal("train: 12 steps, 1 epoch, output out", ProgressText.PlainLine(new TrainingStarted(0, 12, 1, "out"), 0));
        Assert.Equal("train: 12 steps, 0.5 epochs, output out", ProgressText.PlainLine(new TrainingStarted(0, 12, 0.5, "out"), 0));
        Assert.Equal("finished step=120 reason=completed elapsed=0:10:00 train_loss=0.8123",
            ProgressText.PlainLine(new TrainingFinished(120, "completed", TimeSpan.FromMinutes(10), 0.81234), 0));
    }

    [Fact]
    public void RemainingIsUnknownBeforeTheFirstStepOfThisProcess()
    {
        Assert.Null(ProgressText.Remaining(40, 40, 100, TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.FromSeconds(60), ProgressText.Remaining(40, 50, 110, TimeSpan.FromSeconds(10)));
    }
}
