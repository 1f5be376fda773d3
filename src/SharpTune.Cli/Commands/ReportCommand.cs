using SharpTune.Cli.CommandLine;
using SharpTune.Evaluation.Report;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune report RUN_DIR</c>: one self-contained HTML report (and the same as Markdown) of a run and its pipeline.</summary>
internal static class ReportCommand
{
    public static CliCommand Create() =>
        new CliCommand("report", "Write report.html (self-contained) and report.md for a train output folder and its infer/eval/baselines/sanity results.")
        {
            Description =
                "Sections: data (splits, label balance, token-length histogram with cutoff_len), masking (two samples, supervised\n" +
                "tokens highlighted), training (loss, accuracy, entropy, learning rate, teacher-forced vs generative accuracy,\n" +
                "bands, checkpoints), results (confusion matrix, metrics with intervals, baselines), behaviours (checkpoints x\n" +
                "checks, best checkpoint, replies), configuration and versions. Inputs not given by a flag are looked up in\n" +
                "RUN_DIR, then its parent; a section whose inputs are missing says so.",
        }
            .Argument("RUN_DIR", "the train output folder")
            .Option("out", "folder to write report.html, report.md and report_files/ into (default: RUN_DIR)", "DIR")
            .Option("eval", "eval --json result of the model (default: RUN_DIR/eval.json, RUN_DIR/../eval.json)", "FILE")
            .Option("baselines", "baselines --json result (default: RUN_DIR/baselines.json, RUN_DIR/../baselines.json)", "FILE")
            .Option("sanity", "sanity output folder (default: RUN_DIR/sanity, RUN_DIR/../sanity, RUN_DIR/../behaviours/sanity)", "DIR")
            .Option("prepared", "prepare movielens output folder with summary.json (default: RUN_DIR/../dataset, RUN_DIR/../data)", "DIR")
            .Option("data", "training data file for token lengths and masking (default: the prepared folder's train.json)", "FILE")
            .Option("tokenizer", "tokenizer or model folder (default: RUN_DIR, RUN_DIR/../tokenizer)", "DIR")
            .Option("config", "training config (default: RUN_DIR/train.yaml, RUN_DIR/../train.yaml)", "FILE")
            .Option("cutoff-len", "cutoff_len marked on the histogram (default: the config's, else 1024)", "N")
            .Handle(Run);

    private static int Run(ParsedArgs a)
    {
        var options = new ReportOptions
        {
            Eval = a.String("eval"), Baselines = a.String("baselines"), Sanity = a.String("sanity"), Prepared = a.String("prepared"),
            Data = a.String("data"), Tokenizer = a.String("tokenizer"), Config = a.String("config"),
            CutoffLen = a.Has("cutoff-len") ? a.Int("cutoff-len", 0) : null,
        };
        var files = RunReport.Write(a.Positionals[0], a.String("out"), options);
        a.Out.WriteLine($"Report written: {files.Html}");
        a.Out.WriteLine($"                {files.Markdown} (charts in {files.ChartDir})");
        foreach (var m in files.Missing) a.Error.WriteLine("missing: " + m);
        return CliApp.Success;
    }
}
