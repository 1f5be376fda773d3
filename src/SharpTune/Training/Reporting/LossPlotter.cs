using SharpTune.IO;

namespace SharpTune.Training.Reporting;

/// <summary>One chart written to disk.</summary>
/// <param name="Name">The chart's file stem, e.g. <c>training_loss</c>.</param>
/// <param name="PngPath">The PNG file.</param>
/// <param name="SvgPath">The SVG file.</param>
public sealed record PlotFile(string Name, string PngPath, string SvgPath);

/// <summary>What <see cref="LossPlotter"/> wrote and what it left out.</summary>
/// <param name="Files">The charts written, in order.</param>
/// <param name="Notes">One line per chart not drawn or value left out (e.g. "No metric eval_loss to plot.").</param>
public sealed record PlotReport(IReadOnlyList<PlotFile> Files, IReadOnlyList<string> Notes);

/// <summary>
/// Draws a run's training plots (see <see cref="TrainingCharts"/>) into a folder, each as <c>NAME.png</c> and
/// <c>NAME.svg</c>: LLaMA-Factory's <c>training_loss.png</c> and <c>training_eval_loss.png</c>, and SharpTune's
/// charts for the report. Each file is written under a temporary name and renamed.
/// </summary>
public static class LossPlotter
{
    /// <summary>Reads <paramref name="runDir"/> (see <see cref="TrainingLogHistory.ReadRunFolder"/>) and draws its plots into <paramref name="outDir"/> (default: the run folder).</summary>
    /// <exception cref="UserException">The run folder or its log is missing or malformed.</exception>
    public static PlotReport PlotRun(string runDir, string? outDir = null, PlotSettings? settings = null)
    {
        var history = TrainingLogHistory.ReadRunFolder(runDir);
        settings ??= new PlotSettings();
        if (settings.RunLabel is null) settings = settings with { RunLabel = runDir };
        return Plot(history, outDir ?? runDir, settings);
    }

    /// <summary>Draws the plots of <paramref name="history"/> into <paramref name="outDir"/>.</summary>
    public static PlotReport Plot(TrainingLogHistory history, string outDir, PlotSettings? settings = null)
    {
        var notes = new List<string>();
        if (history.EntriesReplacedByResume > 0)
            notes.Add($"{history.SourcePath}: {history.EntriesReplacedByResume} entries logged again after a resume; the later ones are drawn");
        if (history.TruncatedLinesLeftOut > 0)
            notes.Add($"{history.SourcePath}: unfinished last line left out (the run stopped while writing it)");
        var charts = TrainingCharts.Build(history, settings ?? new PlotSettings(), notes);
        if (charts.Count > 0 && !ChartRenderer.FontAvailable)
            notes.Add($"font '{ChartRenderer.FontFamily}' not found: plot text uses another font or is missing (install Debian's fonts-dejavu-core)");
        try { Directory.CreateDirectory(outDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserException($"{outDir}: cannot create the plot folder: {e.Message}", e); }
        var files = new List<PlotFile>();
        foreach (var chart in charts)
        {
            string png = Path.Combine(outDir, chart.Name + ".png"), svg = Path.Combine(outDir, chart.Name + ".svg");
            try
            {
                AtomicFile.WriteAllBytes(png, ChartRenderer.Png(chart));
                AtomicFile.WriteAllText(svg, ChartRenderer.Svg(chart));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserException($"{png}: cannot write: {e.Message}", e); }
            files.Add(new PlotFile(chart.Name, png, svg));
        }
        return new PlotReport(files, notes);
    }
}
