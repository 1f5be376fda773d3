using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Training.Reporting;

namespace SharpTune.Evaluation.Report;

/// <summary>
/// Builds the report of a <c>train</c> output folder and whatever of its pipeline is present (see
/// <see cref="ReportInputs"/>): data, masking, training, results, behaviours, configuration and versions. A section
/// whose inputs are missing says what is missing; a folder that is not a run is a <see cref="UserException"/>.
/// </summary>
public static partial class RunReportBuilder
{
    /// <summary>Builds the report document.</summary>
    public static ReportDocument Build(string runDir, ReportOptions options)
    {
        var history = TrainingLogHistory.ReadRunFolder(runDir); // not a run: UserException
        var inputs = ReportInputs.Locate(runDir, options);
        var (pre, preMissing) = LoadData(inputs, options);
        ReportSection[] sections =
        [
            DataSections.Data(inputs, pre, preMissing),
            DataSections.Masking(pre, preMissing),
            Training(inputs, history),
            ResultSections.Results(inputs),
            ResultSections.Behaviours(inputs),
            Configuration(inputs),
        ];
        return new ReportDocument($"SharpTune report: {Path.GetFileName(Path.GetFullPath(runDir).TrimEnd(Path.DirectorySeparatorChar))}",
            $"Run folder {Path.GetFullPath(runDir)}", sections);
    }

    private static (Preprocessed?, string?) LoadData(ReportInputs inputs, ReportOptions options)
    {
        if (inputs.Data.Found is not { } data) return (null, inputs.Data.MissingText);
        if (inputs.Tokenizer.Found is not { } tok) return (null, inputs.Tokenizer.MissingText);
        var prompt = inputs.PromptSettings.Found is { } ps ? PromptSettingsFile.Read(ps) : new PromptSettings();
        int cutoff = options.CutoffLen ?? (inputs.Config.Found is { } cfg ? ConfigCutoff(cfg) : null) ?? new PreprocessOptions().CutoffLen;
        var description = options.DataDescription ?? (inputs.Config.Found is { } c ? ConfigDescription(c, data) : null);
        return (Preprocessed.Load(data, tok, new PreprocessOptions { Prompt = prompt, CutoffLen = cutoff }, description), null);
    }

    /// <summary>
    /// How training read <paramref name="dataPath"/>: when the config's top-level <c>dataset:</c> names an entry of the
    /// dataset_info.json beside the data file whose file is that data file, the entry's description (LLaMA-Factory's
    /// column mapping and one-newline Alpaca join); otherwise null (the format detected from the keys, as for a file).
    /// </summary>
    internal static DatasetDescription? ConfigDescription(string configPath, string dataPath)
    {
        var info = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dataPath))!, "dataset_info.json");
        if (!File.Exists(info)) return null;
        string? names = File.ReadLines(configPath).Select(l => DatasetLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
        if (names is null) return null;
        try
        {
            var described = DatasetInfo.Load(info);
            foreach (var name in names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (described.Contains(name) && described.Get(name) is { Files: [var file] } entry && Path.GetFullPath(file) == Path.GetFullPath(dataPath))
                    return entry.Description;
        }
        catch (UserException) { } // a broken description: read the file on its own, as before
        return null;
    }

    [GeneratedRegex(@"^dataset:\s*([^#\s][^#]*?)\s*(#.*)?$")]
    private static partial Regex DatasetLine();

    // The overfitting thresholds the run watched (its config's overfit_* keys), so the bands drawn are the run's own.
    private static OverfitThresholds ConfigThresholds(ReportInputs inputs, List<string> notes)
    {
        if (inputs.Config.Found is not { } cfg) return new OverfitThresholds();
        try
        {
            return SharpTune.Training.Configuration.TrainConfig.ReadOverfitThresholds(cfg);
        }
        catch (UserException e)
        {
            notes.Add($"overfitting bands at the defaults: {e.Message}");
            return new OverfitThresholds();
        }
    }

    // The top-level cutoff_len of a LLaMA-Factory style YAML config.
    internal static int? ConfigCutoff(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            var m = CutoffLine().Match(line);
            if (m.Success) return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        return null;
    }

    [GeneratedRegex(@"^cutoff_len:\s*([0-9]+)\s*(#.*)?$")]
    private static partial Regex CutoffLine();

    private static ReportSection Training(ReportInputs inputs, TrainingLogHistory history)
    {
        var notes = new List<string>();
        var blocks = new List<ReportBlock>
        {
            new TextBlock($"{history.Records.Count} log entries from {history.SourcePath}; checkpoints on disk: " +
                (history.CheckpointSteps.Count == 0 ? "none" : string.Join(", ", history.CheckpointSteps)) +
                (history.BestCheckpointStep is { } best ? $"; best checkpoint: step {best}" : "") + "."),
        };
        var charts = TrainingCharts.Build(history, new PlotSettings { RunLabel = inputs.RunDir, Overfit = ConfigThresholds(inputs, notes) }, notes);
        foreach (var chart in charts.Where(c => TrainingCharts.ExtraChartNames.Contains(c.Name) || c.Name == "training_eval_loss"))
            blocks.Add(new ChartBlock(chart.Name, chart.Title, ChartRenderer.Svg(chart)));
        foreach (var n in notes) blocks.Add(new MissingBlock(n));
        if (inputs.Results.Found is { } results)
        {
            var r = ReportJson.Read(results);
            if (r.ValueKind == JsonValueKind.Object)
                blocks.Add(new TableBlock($"Final results ({results})", ["key", "value"],
                    r.EnumerateObject().Select(p => (IReadOnlyList<string>)[p.Name, ReportJson.Cell(p.Value)]).ToList()));
        }
        else blocks.Add(new MissingBlock(inputs.Results.MissingText));
        string command = inputs.Config.Found is { } cfg ? $"sharptune train {cfg}" : $"sharptune train CONFIG (output_dir {inputs.RunDir})";
        return new ReportSection("training", "Training", [command, $"sharptune plot {inputs.RunDir}"], blocks);
    }

    private static ReportSection Configuration(ReportInputs inputs)
    {
        var blocks = new List<ReportBlock>();
        if (inputs.Config.Found is { } cfg) { blocks.Add(new TextBlock($"Training config {cfg}:")); blocks.Add(new CodeBlock(File.ReadAllText(cfg))); }
        else blocks.Add(new MissingBlock(inputs.Config.MissingText));
        if (inputs.PromptSettings.Found is { } ps) { blocks.Add(new TextBlock($"Prompt settings {ps}:")); blocks.Add(new CodeBlock(File.ReadAllText(ps))); }
        else blocks.Add(new MissingBlock(inputs.PromptSettings.MissingText));
        var version = typeof(RunReportBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        blocks.Add(new TableBlock("Versions", ["component", "version"],
        [
            ["SharpTune", version],
            [".NET", RuntimeInformation.FrameworkDescription],
            ["OS", RuntimeInformation.OSDescription],
            ["architecture", RuntimeInformation.ProcessArchitecture.ToString()],
        ]));
        return new ReportSection("configuration", "Configuration and versions", ["sharptune version"], blocks);
    }
}
