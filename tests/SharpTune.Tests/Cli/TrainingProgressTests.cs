using SharpTune.Cli.Display;
using SharpTune.Training.Reporting;
using Spectre.Console;

namespace SharpTune.Tests.Cli;

public class TrainingProgressTests
{
    private static IEnumerable<TrainingEvent> Run() =>
    [
        new TrainingStarted(0, 40, 2, "out"),
        new StepLogged(20, 40, 1.0, 0.91234, 0.7712, 1.1, 5e-05, 0.5, 81920, 4096, TimeSpan.FromSeconds(20)),
        new EvaluationCompleted(20, 1.0, 0.7, 0.78, 1.2, 0.9, new GenerativeEvalSummary(150, 0.75, 0.74, 0.02), TimeSpan.FromSeconds(2)),
        new CheckpointSaved(20, "out/checkpoint-20", "save_steps"),
        new TrainingWarning(20, TrainingWarningKinds.Drift, "drift: [brackets] stay text"),
        new StepLogged(40, 40, 2.0, 0.25, 0.93, 0.45, 0, 0.4, 163840, 4096, TimeSpan.FromSeconds(40)),
        new TrainingFinished(40, "completed", TimeSpan.FromSeconds(41), 0.6),
    ];

    [Fact]
    public void PlainModeWritesOneLinePerEvent()
    {
        var w = new StringWriter();
        using (var p = TrainingProgress.PlainLines(w))
            foreach (var e in Run()) p.OnEvent(e);
        Assert.Equal(
        [
            "train: 40 steps, 2 epochs, output out",
            "step=20/40 epoch=1.00 loss=0.9123 token_accuracy=0.7712 entropy=1.1000 lr=5.00e-05 grad_norm=0.5000 tokens_per_s=4096.0 elapsed=0:00:20 remaining=0:00:20",
            "eval step=20 epoch=1.00 eval_loss=0.7000 eval_token_accuracy=0.7800 eval_entropy=1.2000 eval_first_token_accuracy=0.9000 eval_gen_accuracy=0.7500 eval_gen_f1=0.7400 eval_gen_unparseable_rate=0.0200 eval_gen_samples=150 time=0:00:02",
            "checkpoint step=20 path=out/checkpoint-20 reason=save_steps",
            "warning: drift: [brackets] stay text",
            "step=40/40 epoch=2.00 loss=0.2500 token_accuracy=0.9300 entropy=0.4500 lr=0.00e+00 grad_norm=0.4000 tokens_per_s=4096.0 elapsed=0:00:40 remaining=0:00:00",
            "finished step=40 reason=completed elapsed=0:00:41 train_loss=0.6000",
        ], w.ToString().TrimEnd('\n').Split('\n'));
    }

    // The output without ANSI control sequences (bold, cursor moves of the live redraw).
    private static string Plain(string ansi) => System.Text.RegularExpressions.Regex.Replace(ansi, "\u001b\\[[0-9;?]*[A-Za-z]", "");

    private static (IAnsiConsole Console, StringWriter Text) TestConsole()
    {
        var w = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(w),
        });
        console.Profile.Width = 140;
        return (console, w);
    }

    [Fact]
    public void ViewShowsEveryFieldOfTheLastLogEvalCheckpointAndWarnings()
    {
        var view = new ProgressView();
        foreach (var e in Run().Take(5)) view.Apply(e);
        var (console, w) = TestConsole();
        console.Write(view.Render());
        var text = Plain(w.ToString());
        Assert.Contains("50.0%  step 20/40  epoch 1.00", text);
        foreach (var col in (string[])["loss", "token acc", "entropy", "lr", "tokens/s", "elapsed", "remaining"]) Assert.Contains(col, text);
        foreach (var value in (string[])["0.9123", "0.7712", "1.1000", "5.00e-05", "4096", "0:00:20"]) Assert.Contains(value, text);
        Assert.Contains("eval @ step 20: loss 0.7000 · token acc 0.7800 · first answer token acc 0.9000 · generative acc 0.7500 (n=150, unparseable 2.0%)", text);
        Assert.Contains("checkpoint: out/checkpoint-20 (step 20, save_steps)", text);
        Assert.Contains("warning: drift: [brackets] stay text", text);
        Assert.DoesNotContain("finished", text);
    }

    [Fact]
    public void LiveModeDrawsUntilTheRunFinishesAndLeavesTheLastFrame()
    {
        var (console, w) = TestConsole();
        using (var p = TrainingProgress.LiveView(console))
            foreach (var e in Run()) p.OnEvent(e);
        var text = Plain(w.ToString());
        Assert.Contains("100.0%  step 40/40  epoch 2.00", text);
        Assert.Contains("0.00e+00", text);
        Assert.Contains("0:00:41", text); // the finished run's elapsed time
        Assert.Contains("finished: completed", text);
        Assert.Contains("warning: drift: [brackets] stay text", text);
    }
}
