namespace SharpTune.Evaluation.Report;

/// <summary>What the caller names explicitly (the <c>report</c> flags); null means "look in the usual places".</summary>
public sealed record ReportOptions
{
    /// <summary><c>eval --json</c> result of the model (<c>--eval FILE</c>).</summary>
    public string? Eval { get; init; }

    /// <summary><c>baselines --json</c> result (<c>--baselines FILE</c>).</summary>
    public string? Baselines { get; init; }

    /// <summary><c>sanity</c> output folder (<c>--sanity DIR</c>).</summary>
    public string? Sanity { get; init; }

    /// <summary><c>prepare movielens</c> output folder holding summary.json (<c>--prepared DIR</c>).</summary>
    public string? Prepared { get; init; }

    /// <summary>Training data file for the token lengths and masking samples (<c>--data FILE</c>).</summary>
    public string? Data { get; init; }

    /// <summary>How to read <see cref="Data"/> (a dataset_info.json entry's description, as training read it), or null to detect the format.</summary>
    public Data.Sft.DatasetDescription? DataDescription { get; init; }

    /// <summary>Tokenizer or model folder (<c>--tokenizer DIR</c>).</summary>
    public string? Tokenizer { get; init; }

    /// <summary>The training config (<c>--config FILE</c>).</summary>
    public string? Config { get; init; }

    /// <summary>cutoff_len for the histogram (<c>--cutoff-len N</c>); default: the config's cutoff_len, else 1024.</summary>
    public int? CutoffLen { get; init; }
}

/// <summary>One input of the report: where it was looked for and where it was found.</summary>
/// <param name="Name">What it is, e.g. "evaluation result".</param>
/// <param name="Flag">The flag that names it explicitly.</param>
/// <param name="Candidates">The paths looked at, in order.</param>
/// <param name="Found">The first that exists, or null.</param>
public sealed record ReportInput(string Name, string Flag, IReadOnlyList<string> Candidates, string? Found)
{
    /// <summary>The line a section shows when the input is missing.</summary>
    public string MissingText => $"No {Name}: looked for {string.Join(", ", Candidates)} (give {Flag}).";
}

/// <summary>
/// The manifest of where each report input is looked up: an explicit flag wins; otherwise the run folder, then its
/// parent (a pipeline such as <c>sharptune demo</c> writes the run in <c>OUT/train</c> and the other stages beside
/// it). Inputs that are not found are reported by the sections that need them.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>training log</term><description>RUN_DIR/trainer_state.json, RUN_DIR/trainer_log.jsonl, the newest checkpoint's trainer_state.json (required)</description></item>
/// <item><term>results</term><description>RUN_DIR/all_results.json</description></item>
/// <item><term>prompt settings</term><description>RUN_DIR/prompt_settings.json</description></item>
/// <item><term>config</term><description>--config, RUN_DIR/train.yaml, RUN_DIR/../train.yaml</description></item>
/// <item><term>prepared data</term><description>--prepared DIR/summary.json, RUN_DIR/../dataset/summary.json, RUN_DIR/../data/summary.json</description></item>
/// <item><term>training data</term><description>--data, the prepared folder's train.json</description></item>
/// <item><term>tokenizer</term><description>--tokenizer, RUN_DIR, RUN_DIR/../tokenizer (a folder with tokenizer.json)</description></item>
/// <item><term>evaluation</term><description>--eval, RUN_DIR/eval.json, RUN_DIR/../eval.json</description></item>
/// <item><term>baselines</term><description>--baselines, RUN_DIR/baselines.json, RUN_DIR/../baselines.json</description></item>
/// <item><term>behaviours</term><description>--sanity DIR, RUN_DIR/sanity, RUN_DIR/../sanity, RUN_DIR/../behaviours/sanity (the demo's behaviour run; a folder with sanity_summary.json)</description></item>
/// </list>
/// </remarks>
public sealed record ReportInputs(
    string RunDir,
    ReportInput Results,
    ReportInput PromptSettings,
    ReportInput Config,
    ReportInput Prepared,
    ReportInput Data,
    ReportInput Tokenizer,
    ReportInput Eval,
    ReportInput Baselines,
    ReportInput Sanity)
{
    /// <summary>Looks every input up for <paramref name="runDir"/>.</summary>
    public static ReportInputs Locate(string runDir, ReportOptions options)
    {
        // An input the user names explicitly must exist; only looked-up defaults may be missing.
        foreach (var (flag, file) in new[] { ("--config", options.Config), ("--data", options.Data), ("--eval", options.Eval), ("--baselines", options.Baselines) })
            if (file is not null) IO.InputPaths.RequireFile(file, $"{flag}: file not found: {file}");
        foreach (var (flag, dir) in new[] { ("--prepared", options.Prepared), ("--tokenizer", options.Tokenizer), ("--sanity", options.Sanity) })
            if (dir is not null) IO.InputPaths.RequireFolder(dir, $"{flag}: folder not found: {dir}");
        string parent = Path.GetFullPath(Path.Combine(runDir, ".."));
        string In(string name) => Path.Combine(runDir, name);
        string Beside(params string[] parts) => Path.Combine([parent, .. parts]);

        var prepared = File(options.Prepared is { } p ? [Path.Combine(p, "summary.json")] : [Beside("dataset", "summary.json"), Beside("data", "summary.json")],
            "prepared data summary (prepare movielens)", "--prepared DIR");
        var preparedDir = prepared.Found is { } s ? Path.GetDirectoryName(s)! : null;
        return new ReportInputs(
            runDir,
            File([In("all_results.json")], "results file (all_results.json)", "a run that train finished"),
            File([In("prompt_settings.json")], "prompt settings (prompt_settings.json)", "a run that train wrote"),
            File(options.Config is { } c ? [c] : [In("train.yaml"), Beside("train.yaml")], "training config", "--config FILE"),
            prepared,
            File(options.Data is { } d ? [d] : preparedDir is null ? [] : [Path.Combine(preparedDir, "train.json")], "training data file", "--data FILE"),
            Folder(options.Tokenizer is { } t ? [t] : [runDir, Beside("tokenizer")], "tokenizer.json", "tokenizer", "--tokenizer DIR"),
            File(options.Eval is { } e ? [e] : [In("eval.json"), Beside("eval.json")], "evaluation result (eval --json)", "--eval FILE"),
            File(options.Baselines is { } b ? [b] : [In("baselines.json"), Beside("baselines.json")], "baselines result (baselines --json)", "--baselines FILE"),
            Folder(options.Sanity is { } sd ? [sd] : [In("sanity"), Beside("sanity"), Beside("behaviours", "sanity")], SharpTune.Evaluation.Sanity.SanityReport.SummaryFile, "behaviour checks (sanity output)", "--sanity DIR"));
    }

    private static ReportInput File(IReadOnlyList<string> candidates, string name, string flag) =>
        new(name, flag, candidates, candidates.FirstOrDefault(System.IO.File.Exists));

    private static ReportInput Folder(IReadOnlyList<string> candidates, string marker, string name, string flag) =>
        new(name, flag, candidates.Select(c => Path.Combine(c, marker)).ToList(),
            candidates.FirstOrDefault(c => System.IO.File.Exists(Path.Combine(c, marker))));
}
