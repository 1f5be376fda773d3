using System.Globalization;
using SharpTune.Cli.CommandLine;
using SharpTune.Evaluation.Sanity;

namespace SharpTune.Cli.Commands;

/// <summary>
/// Behaviour fine-tuning verbs: <c>sanity</c> (score checkpoints on behaviour rules), <c>prepare behaviours</c>
/// (a consistent compliment/refusal dataset) and <c>generate-data</c> (completion-style data from a base model).
/// </summary>
internal static class BehaviourCommands
{
    /// <summary>
    /// <c>sharptune sanity</c>. The replies come from the responder <paramref name="responders"/> builds for the
    /// checkpoints (adapters over one loaded base model); the verb itself only loads rules, finds checkpoints,
    /// scores and writes.
    /// </summary>
    public static CliCommand Sanity(Func<SanityResponderRequest, ISanityResponder> responders) =>
        new CliCommand("sanity", "Score every checkpoint of a run on behaviour rules and name the best one.")
        {
            Description =
                "Each checkpoint (--run DIR: its checkpoint-N folders by step, then the final model; or --checkpoints DIR...)\n" +
                "answers every prompt of the rules file greedily; each reply is scored on its group's checks. Prints a\n" +
                "checkpoints × groups table of pass rates with the weighted total, and writes sanity.jsonl (every reply with\n" +
                "its failing checks), sanity_summary.json and best_checkpoint.txt into --out (default RUN/sanity).\n" +
                "Best: the highest total; ties go to the lower eval loss, then the earlier step.\n" +
                "Exit 0 when the best total reaches --min-score, else 3.",
        }
            .Option("run", "A training run folder (checkpoint-N subfolders and the final model or adapter).", "DIR")
            .Option("checkpoints", "Checkpoint folders (model or adapter), instead of --run.", "DIR", repeatable: true)
            .Option("rules", "Rules file (YAML): phrase lists, prompt groups with weights and checks.", "FILE", required: true)
            .Option("model", "Base model folder for adapters (default: the adapter's base_model_name_or_path).", "DIR")
            .Option("max-new-tokens", "Most tokens per reply.", "N", "128")
            .Option("out", "Output folder (default: RUN/sanity; required with --checkpoints).", "DIR")
            .Option("min-score", "Exit 3 unless the best weighted total (0..1) reaches this.", "F", "0")
            .Flag("json", "Print the summary as JSON instead of the table.")
            .Handle(a => RunSanity(a, responders));

    private static int RunSanity(ParsedArgs a, Func<SanityResponderRequest, ISanityResponder> responders)
    {
        if (a.Has("run") == a.Has("checkpoints")) throw new UserException("give exactly one of --run DIR or --checkpoints DIR...");
        double minScore = a.Double("min-score");
        if (!(minScore >= 0 && minScore <= 1)) throw new UserException($"--min-score: expected a number in [0, 1] (a weighted pass rate), got {minScore.ToString(CultureInfo.InvariantCulture)}");
        string? run = a.String("run");
        string outDir = a.String("out") ?? (run is not null ? Path.Combine(run, "sanity") : throw new UserException("--out DIR is required with --checkpoints"));
        var rules = SanityRulesLoader.Load(a.ExistingFile("rules"));
        var checkpoints = run is not null ? SanityCheckpoint.FromRun(run) : SanityCheckpoint.FromFolders(a.List("checkpoints"));
        var responder = responders(new SanityResponderRequest(checkpoints, a.String("model"), run, a.Int("max-new-tokens", 1)));
        SanityReport report;
        try { report = SanityScorer.Score(rules, checkpoints, responder, a.Verbose ? a.Error : null); }
        finally { (responder as IDisposable)?.Dispose(); }
        report.Write(outDir);
        if (a.Bool("json")) a.Out.Write(report.ToJson());
        else
        {
            a.Out.Write(report.ToTable());
            a.Out.WriteLine($"wrote {Path.Combine(outDir, SanityReport.RepliesFile)}, {SanityReport.SummaryFile}, {SanityReport.BestFile}");
        }
        int code = report.ExitCode(minScore);
        if (code != 0)
            a.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best total {report.Best.Total:0.###} is below --min-score {minScore:0.###}"));
        return code;
    }
}
