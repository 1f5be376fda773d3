using SharpTune.Cli.CommandLine;
using SharpTune.Training.Reporting;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune plot RUN_DIR</c>: redraw a run's training plots from its logs.</summary>
internal static class PlotCommand
{
    public static CliCommand Create() =>
        new CliCommand("plot", "Redraw a training run's plots (PNG and SVG) from its trainer_state.json or trainer_log.jsonl.")
        {
            Description =
                "Reads RUN_DIR/trainer_state.json (transformers' log_history), else RUN_DIR/trainer_log.jsonl (LLaMA-Factory's log,\n" +
                "for a run still going or stopped), else the newest checkpoint's trainer_state.json, and the checkpoint-N folders.\n" +
                "Writes training_loss and training_eval_loss as LLaMA-Factory's plot_loss draws them, and SharpTune's\n" +
                "training_loss_bands, training_token_accuracy, training_entropy, training_learning_rate and\n" +
                "training_answer_accuracy (healthy and overfitting bands, checkpoints marked), each as .png and .svg.",
        }
            .Argument("RUN_DIR", "the train output folder")
            .Option("out", "folder to write the plots into (default: RUN_DIR)", "DIR")
            .Handle(Run);

    private static int Run(ParsedArgs a)
    {
        var runDir = a.Positionals[0];
        var report = LossPlotter.PlotRun(runDir, a.String("out"));
        if (report.Files.Count == 0) throw new UserException($"{runDir}: the log holds no metric to plot (no loss, eval_loss, accuracy, entropy or learning_rate)");
        foreach (var f in report.Files) a.Out.WriteLine($"Figure saved at: {f.PngPath} (and .svg)");
        foreach (var n in report.Notes) a.Error.WriteLine(n);
        return CliApp.Success;
    }
}
