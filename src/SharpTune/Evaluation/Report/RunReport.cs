using SharpTune.IO;

namespace SharpTune.Evaluation.Report;

/// <summary>The files <see cref="RunReport.Write"/> produced.</summary>
/// <param name="Html">report.html (self-contained).</param>
/// <param name="Markdown">report.md.</param>
/// <param name="ChartDir">The folder of the SVG charts report.md links to.</param>
/// <param name="Missing">One line per input a section could not show.</param>
public sealed record RunReportFiles(string Html, string Markdown, string ChartDir, IReadOnlyList<string> Missing);

/// <summary><c>sharptune report</c>: builds the report of a run and writes <c>report.html</c>, <c>report.md</c> and <c>report_files/*.svg</c>.</summary>
public static class RunReport
{
    /// <summary>The folder beside report.md holding its charts.</summary>
    public const string ChartFolder = "report_files";

    /// <summary>Builds the report of <paramref name="runDir"/> and writes it into <paramref name="outDir"/> (default: the run folder), each file under a temporary name then renamed.</summary>
    public static RunReportFiles Write(string runDir, string? outDir, ReportOptions options)
    {
        var doc = RunReportBuilder.Build(runDir, options);
        outDir ??= runDir;
        string html = Path.Combine(outDir, "report.html"), md = Path.Combine(outDir, "report.md"), charts = Path.Combine(outDir, ChartFolder);
        try
        {
            Directory.CreateDirectory(charts);
            foreach (var c in doc.Sections.SelectMany(s => s.Blocks).OfType<ChartBlock>())
                AtomicFile.WriteAllText(Path.Combine(charts, c.Name + ".svg"), c.Svg);
            AtomicFile.WriteAllText(md, ReportMarkdown.Render(doc, ChartFolder));
            AtomicFile.WriteAllText(html, ReportHtml.Render(doc));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserException($"{outDir}: cannot write the report: {e.Message}", e); }
        var missing = doc.Sections.SelectMany(s => s.Blocks.OfType<MissingBlock>().Select(m => $"{s.Title}: {m.Text}")).ToList();
        return new RunReportFiles(html, md, charts, missing);
    }
}
