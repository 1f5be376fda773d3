using SharpTune.Cli.Commands;
using SharpTune.Evaluation;
using SharpTune.Evaluation.Baselines;

namespace SharpTune.Tests.Demo;

/// <summary>The demo's verdict on the model against the baselines, on both sides of the 3-point goal.</summary>
public sealed class DemoStandingTests
{
    private static ClassificationResult Result(double accuracy) => new()
    {
        N = 1000, Labels = ["Yes", "No"], Accuracy = accuracy, MacroF1 = accuracy, Unparseable = 0, PerClass = [], Confusion = new long[2, 3],
        AccuracyInterval = new ConfidenceInterval(accuracy - 0.02, accuracy + 0.02),
    };

    private static BaselineReport Baselines => new()
    {
        Prepared = "dataset", TrainSamples = 5000, TestSamples = 1000,
        Results = [new("majority", Result(0.586)), new("user_history_mean", Result(0.684)), new("item_mean", Result(0.55)), new("matrix_factorization", Result(0.66))],
    };

    [Fact]
    public void BelowMajorityPlusThreePointsTheDemoSaysItDidNotReachTheGoal()
    {
        var lines = DemoCommand.Standing(Result(0.61), Baselines);
        Assert.Contains("  vs majority: 58.6% (+2.4 points)", lines);
        Assert.Contains("  vs user_history_mean: 68.4% (-7.4 points)", lines);
        Assert.Contains("  vs matrix_factorization: 66.0% (-5.0 points)", lines);
        Assert.StartsWith("result: did not reach the goal of 3 points above the majority class (61.6% needed, 61.0% reached)", lines[^1]);
        Assert.DoesNotContain(lines, l => l.Contains("beats", StringComparison.Ordinal));
    }

    [Fact]
    public void AtMajorityPlusThreePointsOrMoreTheDemoSaysItBeatsTheMajorityClass()
    {
        var lines = DemoCommand.Standing(Result(0.62), Baselines);
        Assert.Equal("result: the fine-tuned model beats the majority class by +3.4 points (goal: at least 3 points)", lines[^1]);
        Assert.StartsWith("model (generative, 1,000 test records): accuracy 62.0% (95% interval 60.0%–64.0%)", lines[0]);
    }

    [Fact]
    public void QuickSettingsAreSmallerThanTheFullOnesInEverySize()
    {
        var (f, q) = (DemoSettings.Full, DemoSettings.Quick);
        Assert.True(q.Users < f.Users && q.MaxSteps < f.MaxSteps && q.GenerativeEvalSamples < f.GenerativeEvalSamples && q.BehaviourSteps < f.BehaviourSteps
                    && q.BehaviourRecords < f.BehaviourRecords && q.EvalSize < f.EvalSize);
    }
}
