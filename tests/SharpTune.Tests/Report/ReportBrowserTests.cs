using SharpTune.Tests.Support;
using SkiaSharp;

namespace SharpTune.Tests.Report;

public class ReportBrowserTests
{
    [Fact]
    public void TheReportOpensInAHeadlessBrowserWithEveryPlotDrawn()
    {
        HeadlessBrowser.Require();
        using var f = new ReportFixture();
        var (code, _, err) = ReportFixture.Cli("report", f.RunDir, "--out", f.OutDir);
        Assert.True(code == 0, err);
        var html = Path.Combine(f.OutDir, "report.html");

        var png = Path.Combine(f.Root, "shot.png");
        var shot = HeadlessBrowser.Screenshot(html, png, height: 3000);
        Assert.Empty(shot.ConsoleLines);
        AssertNotBlank(png);

        var plots = HeadlessBrowser.ProbePlots(html, f.Root, out var console);
        Assert.Empty(console);
        // token lengths, six training charts, the results' interval chart
        Assert.Equal(8, plots.Count);
        Assert.Contains(plots, p => p.Id == "plot-token_lengths");
        Assert.Contains(plots, p => p.Id == "plot-results_accuracy");
        foreach (var p in plots)
        {
            Assert.True(p.Shapes >= 10, $"{p.Id}: {p.Shapes} drawn shapes");
            Assert.True(p.Texts >= 5, $"{p.Id}: {p.Texts} drawn texts (title, axes, legend)");
            // readable at a laptop's width: wide enough, and not wider than the page
            Assert.InRange(p.Width, 500, HeadlessBrowser.Width);
            Assert.True(p.Height > 150, $"{p.Id}: {p.Height} px high");
        }
    }

    [Fact]
    public void TheBrowserCheckSeesConsoleErrorsAndMissingPlots()
    {
        HeadlessBrowser.Require();
        using var tmp = TestEnvironment.TempDir();
        var page = tmp.File("broken.html");
        File.WriteAllText(page, "<!DOCTYPE html><html><body><figure class=\"plot\" id=\"plot-empty\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"300\"></svg></figure>" +
            "<script>undefinedFunction();</script></body></html>");
        var plots = HeadlessBrowser.ProbePlots(page, tmp.Path, out var console);
        Assert.Contains(console, l => l.Contains("undefinedFunction", StringComparison.Ordinal));
        Assert.Equal(0, Assert.Single(plots).Shapes);
        var png = tmp.File("blank.png");
        File.WriteAllText(page, "<!DOCTYPE html><html><body style=\"background:#fff\"></body></html>");
        Assert.Empty(HeadlessBrowser.Screenshot(page, png).ConsoleLines);
        Assert.ThrowsAny<Exception>(() => AssertNotBlank(png));
    }

    // Not blank: a good share of the pixels are not the background, in many colors (text, bars, lines, bands).
    private static void AssertNotBlank(string png)
    {
        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        var background = bitmap.GetPixel(0, 0);
        int other = 0;
        var colors = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c != background) other++;
                colors.Add((uint)c);
            }
        double share = other / (double)((bitmap.Width / 2) * (bitmap.Height / 2));
        Assert.True(share > 0.02, $"only {share:P2} of the screenshot differs from the background");
        Assert.True(colors.Count > 50, $"only {colors.Count} colors in the screenshot");
    }
}
