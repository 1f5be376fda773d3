namespace SharpTune.Evaluation.Sanity;

/// <summary>What one <c>sanity</c> run scores: a run folder or checkpoint folders, on a rules file.</summary>
public sealed record SanityRunOptions
{
    /// <summary>A training run folder (<c>--run</c>): its <c>checkpoint-N</c> folders by step, then the final model; or null.</summary>
    public string? RunDir { get; init; }

    /// <summary>Checkpoint folders (<c>--checkpoints</c>), used when <see cref="RunDir"/> is null.</summary>
    public IReadOnlyList<string> Checkpoints { get; init; } = [];

    /// <summary>The rules file (YAML).</summary>
    public required string RulesPath { get; init; }

    /// <summary>Base model folder for adapters (<c>--model</c>), or null for the adapter's <c>base_model_name_or_path</c>.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Most tokens per reply.</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Output folder; null: <c>RUN/sanity</c> (required with <see cref="Checkpoints"/>).</summary>
    public string? OutDir { get; init; }
}

/// <summary>
/// <c>sharptune sanity</c> as a library call: loads the rules, finds the checkpoints, asks the responder built for
/// them, scores every reply and writes <c>sanity.jsonl</c>, <c>sanity_summary.json</c> and <c>best_checkpoint.txt</c>.
/// </summary>
public static class SanityRun
{
    /// <summary>Runs the checks; returns the report and the folder it was written to.</summary>
    /// <param name="options">What to score.</param>
    /// <param name="responders">Builds the responder for the checkpoints (normally a <see cref="ModelSanityResponder"/>); disposed after.</param>
    /// <param name="verbose">Receives per-reply progress, or null.</param>
    public static (SanityReport Report, string OutDir) Run(SanityRunOptions options, Func<SanityResponderRequest, ISanityResponder> responders, TextWriter? verbose = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.RunDir is null) == (options.Checkpoints.Count == 0)) throw new UserException("give exactly one of --run DIR or --checkpoints DIR...");
        string outDir = options.OutDir ?? (options.RunDir is { } r ? Path.Combine(r, "sanity") : throw new UserException("--out DIR is required with --checkpoints"));
        var rules = SanityRulesLoader.Load(options.RulesPath);
        var checkpoints = options.RunDir is { } run ? SanityCheckpoint.FromRun(run) : SanityCheckpoint.FromFolders(options.Checkpoints);
        var responder = responders(new SanityResponderRequest(checkpoints, options.BaseModel, options.RunDir, options.MaxNewTokens));
        SanityReport report;
        try { report = SanityScorer.Score(rules, checkpoints, responder, verbose); }
        finally { (responder as IDisposable)?.Dispose(); }
        report.Write(outDir);
        return (report, outDir);
    }
}
