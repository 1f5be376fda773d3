using SharpTune.Training.Reporting;

namespace SharpTune.Tests.Training.Reporting;

public class TrainingMonitorsTests
{
    private static StepLogged Log(long step, double loss, double? acc = 0.8, double? entropy = 1.0, double epoch = 1) =>
        new(step, 100, epoch, loss, acc, entropy, 5e-5, 1.0, step * 1000, 500, TimeSpan.FromSeconds(step));

    [Fact]
    public void EachOverfittingKindFiresOnceAtTheStepItIsFirstCrossed()
    {
        var m = new OverfitMonitor();
        Assert.Empty(m.Observe(Log(10, 0.9)));
        Assert.Empty(m.Observe(Log(20, 0.3))); // not below 0.3
        var w = Assert.Single(m.Observe(Log(30, 0.29)));
        Assert.Equal(TrainingWarningKinds.OverfitLoss, w.Kind);
        Assert.Equal(30, w.Step);
        Assert.Equal("overfitting: training loss 0.29 fell below 0.3 at step 30 (epoch 1.00)", w.Message);
        Assert.Empty(m.Observe(Log(40, 0.1))); // same kind again: silent

        var two = m.Observe(Log(50, 0.1, acc: 0.95, entropy: 0.4));
        Assert.Equal([TrainingWarningKinds.OverfitTokenAccuracy, TrainingWarningKinds.OverfitEntropy], two.Select(x => x.Kind));
        Assert.Equal("overfitting: token accuracy 0.95 rose above 0.9 at step 50 (epoch 1.00)", two[0].Message);
        Assert.Equal("overfitting: entropy 0.4 fell below 0.5 at step 50 (epoch 1.00)", two[1].Message);

        Assert.Empty(m.Observe(Log(60, 0.1, epoch: 5.0))); // 5 is not above 5
        var e = Assert.Single(m.Observe(Log(70, 0.1, epoch: 5.25)));
        Assert.Equal("overfitting: epoch 5.25 rose above 5 at step 70 (epoch 5.25)", e.Message);
        Assert.Equal(4, m.Warnings.Count);
        Assert.True(m.Triggered);
    }

    [Fact]
    public void ThresholdsAreConfigurableAndNullDisablesAKind()
    {
        var m = new OverfitMonitor(new OverfitThresholds { LossBelow = 0.6, TokenAccuracyAbove = null, EntropyBelow = 0.9, EpochAbove = 1 });
        Assert.Empty(m.Observe(Log(10, 0.7, acc: 0.99, entropy: 0.95, epoch: 0.5)));
        var w = m.Observe(Log(20, 0.55, acc: 0.99, entropy: 0.85, epoch: 1.5));
        Assert.Equal([TrainingWarningKinds.OverfitLoss, TrainingWarningKinds.OverfitEntropy, TrainingWarningKinds.OverfitEpoch], w.Select(x => x.Kind));
        Assert.Contains("fell below 0.6 at step 20", w[0].Message);
    }

    [Fact]
    public void MissingOrNonFiniteMetricsAreNotCrossings()
    {
        var m = new OverfitMonitor();
        Assert.Empty(m.Observe(Log(10, double.NaN, acc: null, entropy: null)));
        Assert.False(m.Triggered);
    }

    [Fact]
    public void BadThresholdsAreUserErrors()
    {
        var e = Assert.Throws<UserException>(() => new OverfitMonitor(new OverfitThresholds { TokenAccuracyAbove = 1.5 }));
        Assert.Equal("overfitting thresholds: token accuracy threshold must be in 0–1, got 1.5", e.Message);
        Assert.Throws<UserException>(() => new OverfitMonitor(new OverfitThresholds { LossBelow = -1 }));
        Assert.Throws<UserException>(() => new DriftMonitor(-5));
    }

    private static EvaluationCompleted Eval(long step, double? teacher, double? generative) =>
        new(step, 1, 0.7, 0.8, 1.0, teacher, generative is { } g ? new GenerativeEvalSummary(150, g, 0.5, 0.02) : null, TimeSpan.FromSeconds(3));

    [Fact]
    public void DriftWarnsOnceWhenTheGapExceedsTheMargin()
    {
        var d = new DriftMonitor();
        Assert.Null(d.Observe(Eval(10, 0.80, 0.70))); // exactly 10 points: within the margin
        Assert.Null(d.Observe(Eval(20, 0.90, null))); // no generative evaluation at this step
        var w = d.Observe(Eval(30, 0.92, 0.71));
        Assert.NotNull(w);
        Assert.Equal(TrainingWarningKinds.Drift, w.Kind);
        Assert.Equal(30, w.Step);
        Assert.StartsWith("drift: teacher-forced first-answer-token accuracy 92.0% and generative accuracy 71.0% differ by 21.0 points (margin 10) at step 30", w.Message);
        Assert.Null(d.Observe(Eval(40, 0.95, 0.50))); // once per run
        Assert.Same(w, d.Warning);
    }

    [Fact]
    public void DriftMarginIsConfigurableAndWorksBothWays()
    {
        var d = new DriftMonitor(marginPoints: 3);
        var w = d.Observe(Eval(10, 0.60, 0.64)); // generative above teacher-forced by 4 points
        Assert.NotNull(w);
        Assert.Contains("differ by 4.0 points (margin 3)", w.Message);
    }
}
