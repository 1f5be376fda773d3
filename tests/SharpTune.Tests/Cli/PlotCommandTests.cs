using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Support;
using SharpTune.Tests.Training.Reporting;

namespace SharpTune.Tests.Cli;

public class PlotCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void RedrawsARunsPlotsIntoItsFolder()
    {
        using var run = TestEnvironment.TempDir();
        File.Copy(TrainingLogHistoryTests.FixtureState, Path.Combine(run.Path, "trainer_state.json"));
        var (code, output, err) = Run("plot", run.Path);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(7, lines.Length);
        Assert.Equal($"Figure saved at: {Path.Combine(run.Path, "training_loss.png")} (and .svg)", lines[0]);
        Assert.Equal($"Figure saved at: {Path.Combine(run.Path, "training_eval_loss.png")} (and .svg)", lines[1]);
        Assert.True(File.Exists(Path.Combine(run.Path, "training_entropy.svg")));
    }

    [Fact]
    public void WritesIntoOutAndPrintsNotesOnStderr()
    {
        using var run = TestEnvironment.TempDir();
        using var outDir = TestEnvironment.TempDir();
        File.WriteAllText(Path.Combine(run.Path, "trainer_log.jsonl"), "{\"current_steps\": 1, \"loss\": 2.0, \"lr\": 1e-4}\n{\"current_steps\": 2, \"loss\": 1.5, \"lr\": 1e-4}\n");
        var (code, output, err) = Run("plot", run.Path, "--out", Path.Combine(outDir.Path, "plots"));
        Assert.Equal(0, code);
        Assert.Contains("No metric eval_loss to plot.\n", err);
        Assert.Contains(Path.Combine(outDir.Path, "plots", "training_loss.png"), output);
        Assert.True(File.Exists(Path.Combine(outDir.Path, "plots", "training_learning_rate.svg")));
        Assert.Empty(Directory.GetFiles(run.Path, "*.png"));
    }

    [Fact]
    public void BadInputIsOneLineAndExitOne()
    {
        using var run = TestEnvironment.TempDir();
        var missing = Path.Combine(run.Path, "missing");
        var (code, output, err) = Run("plot", missing);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal($"error: {missing}: no such folder\n", err);
        Assert.Equal("", output);

        (code, _, err) = Run("plot", run.Path);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal($"error: {run.Path}: no trainer_state.json or trainer_log.jsonl (is this a train output folder?)\n", err);

        var state = Path.Combine(run.Path, "trainer_state.json");
        File.WriteAllText(state, "{\"log_history\": [\n  {\"loss\": 1.0 \"step\": 1}\n]}\n");
        (code, _, err) = Run("plot", run.Path);
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith($"error: {state}:2: not valid JSON: ", err);
        Assert.Equal(1, err.Count(c => c == '\n'));

        File.WriteAllText(state, "{\"log_history\": []}\n");
        (code, _, err) = Run("plot", run.Path);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal($"error: {run.Path}: the log holds no metric to plot (no loss, eval_loss, accuracy, entropy or learning_rate)\n", err);
        Assert.Empty(Directory.GetFiles(run.Path, "*.png"));
    }
}
