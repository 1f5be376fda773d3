using System.Buffers.Binary;
using SharpTune.Tests.Support;
using SharpTune.Training.Reporting;
using SkiaSharp;

namespace SharpTune.Tests.Training.Reporting;

public class LossPlotterTests
{
    private static readonly string[] AllCharts =
        ["training_loss", "training_eval_loss", "training_loss_bands", "training_token_accuracy", "training_entropy", "training_learning_rate", "training_answer_accuracy"];

    /// <summary>A run folder with the fixture state and checkpoints 20 (the best) and 40.</summary>
    private static TempDir FixtureRun()
    {
        var d = TestEnvironment.TempDir();
        File.Copy(TrainingLogHistoryTests.FixtureState, Path.Combine(d.Path, "trainer_state.json"));
        Directory.CreateDirectory(Path.Combine(d.Path, "checkpoint-20"));
        Directory.CreateDirectory(Path.Combine(d.Path, "checkpoint-40"));
        return d;
    }

    [Fact]
    public void WritesEveryChartAsPngAndSvgWithNothingLeftOut()
    {
        using var run = FixtureRun();
        var report = LossPlotter.PlotRun(run.Path);
        Assert.Equal(AllCharts, report.Files.Select(f => f.Name));
        Assert.Empty(report.Notes);
        foreach (var f in report.Files)
        {
            Assert.Equal(Path.Combine(run.Path, f.Name + ".png"), f.PngPath);
            var png = File.ReadAllBytes(f.PngPath);
            Assert.True(png.Length > 10_000, $"{f.Name}.png is only {png.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
            Assert.Equal(f.Name is "training_loss" or "training_eval_loss" ? 640 : 800, width);
            Assert.Equal(480, height);
            Assert.True(new FileInfo(f.SvgPath).Length > 5_000);
        }
        Assert.Empty(Directory.GetFiles(run.Path, ".*")); // no temporary files left
    }

    [Fact]
    public void LossPlotIsLlamaFactorysOriginalAndSmoothedCurve()
    {
        using var run = FixtureRun();
        LossPlotter.PlotRun(run.Path);
        var svg = new SvgChart(Path.Combine(run.Path, "training_loss.svg"));
        Assert.Equal($"training loss of {run.Path}", svg.Title);
        Assert.Contains($"training loss of {run.Path}", svg.Texts);
        foreach (var label in (string[])["step", "loss", "original", "smoothed"]) Assert.Contains(label, svg.Texts);
        var original = Assert.Single(svg.Lines("#1f77b4", opacity: 0.4));
        var smoothed = Assert.Single(svg.Lines("#1f77b4"));
        Assert.Equal(2, svg.StrokedPathCount);
        Assert.Equal(8, SvgChart.PointCount(original));
        Assert.Equal(8, SvgChart.PointCount(smoothed));
        Assert.Equal(0, svg.RectCount); // no bands, no checkpoint marks: LLaMA-Factory's figure only
        // Both curves start at the first loss: the smoothed one is s0 = x0.
        Assert.Equal(original.Attribute("d")!.Value.Split('L')[0], smoothed.Attribute("d")!.Value.Split('L')[0]);

        var eval = new SvgChart(Path.Combine(run.Path, "training_eval_loss.svg"));
        Assert.Contains($"training eval_loss of {run.Path}", eval.Texts);
        Assert.Contains("eval_loss", eval.Texts);
        Assert.Equal(4, SvgChart.PointCount(Assert.Single(eval.Lines("#1f77b4", opacity: 0.4))));
    }

    [Fact]
    public void BandedChartsDrawTheHealthyAndOverfittingRangesAndTheCheckpoints()
    {
        using var run = FixtureRun();
        LossPlotter.PlotRun(run.Path);
        // (chart, healthy label, overfitting label, healthy height / overfitting height, overfitting band lies above the healthy one)
        (string Name, string Healthy, string Overfit, double Ratio, bool OverfitAbove)[] cases =
        [
            ("training_loss_bands", "healthy (0.5–0.8)", "overfitting (< 0.3)", 0.3 / 0.3, false),
            ("training_token_accuracy", "healthy (0.75–0.85)", "overfitting (> 0.9)", 0.1 / 0.1, true),
            ("training_entropy", "healthy (0.8–1.2)", "overfitting (< 0.5)", 0.4 / 0.5, false),
        ];
        foreach (var c in cases)
        {
            var svg = new SvgChart(Path.Combine(run.Path, c.Name + ".svg"));
            Assert.Contains(c.Healthy, svg.Texts);
            Assert.Contains(c.Overfit, svg.Texts);
            Assert.Contains("checkpoint", svg.Texts);
            Assert.Contains("best checkpoint", svg.Texts);
            Assert.Contains("step", svg.Texts);
            var healthy = Assert.Single(svg.Bands(TrainingCharts.Green));
            var overfit = Assert.Single(svg.Bands(TrainingCharts.Red));
            Assert.Equal(c.Ratio, SvgChart.Attr(healthy, "height") / SvgChart.Attr(overfit, "height"), 2);
            Assert.Equal(c.OverfitAbove, SvgChart.Attr(overfit, "y") < SvgChart.Attr(healthy, "y"));
            Assert.Equal(8, SvgChart.PointCount(Assert.Single(svg.Lines("#1f77b4", opacity: 0.4)))); // train, original
            Assert.Equal(8, SvgChart.PointCount(Assert.Single(svg.Lines("#1f77b4")))); // train, smoothed
            Assert.Equal(4, SvgChart.PointCount(Assert.Single(svg.Lines(TrainingCharts.Orange)))); // eval
            Assert.Single(svg.Lines(TrainingCharts.Gray)); // checkpoint-40
            Assert.Single(svg.Lines(TrainingCharts.Brown)); // checkpoint-20, the best
            Assert.Equal(5, svg.StrokedPathCount);
        }

        var lr = new SvgChart(Path.Combine(run.Path, "training_learning_rate.svg"));
        Assert.Equal(8, SvgChart.PointCount(Assert.Single(lr.Lines("#1f77b4"))));
        Assert.Contains("learning rate", lr.Texts);
        Assert.Contains("5.0e-05", lr.Texts); // tick labels without "5E-05"
        Assert.DoesNotContain(lr.Texts, t => t.Contains('E'));
        Assert.Equal(0, lr.RectCount);

        var answers = new SvgChart(Path.Combine(run.Path, "training_answer_accuracy.svg"));
        Assert.Equal(4, SvgChart.PointCount(Assert.Single(answers.Lines("#1f77b4"))));
        Assert.Equal(4, SvgChart.PointCount(Assert.Single(answers.Lines(TrainingCharts.Purple))));
        Assert.Contains("teacher-forced (first answer token)", answers.Texts);
        Assert.Contains("generative", answers.Texts);
    }

    [Fact]
    public void SvgIsSelfContainedWithChartScopedIdsAndValidGlyphLists()
    {
        using var run = FixtureRun();
        LossPlotter.PlotRun(run.Path);
        var ids = new HashSet<string>();
        foreach (var name in AllCharts)
        {
            var path = Path.Combine(run.Path, name + ".svg");
            var svg = new SvgChart(path);
            Assert.NotNull(svg.Document.Root!.Attribute("viewBox"));
            Assert.All(svg.ClipIds, id => Assert.StartsWith(name + "-clip", id));
            Assert.All(svg.ClipIds, id => Assert.True(ids.Add(id), $"id {id} repeats across charts"));
            var text = File.ReadAllText(path);
            Assert.DoesNotContain(", \"", text); // ScottPlot's "x="0, 7.2, "" lists end without a comma
            Assert.DoesNotContain("http", text.Replace("http://www.w3.org/", ""));
        }
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        using var run = FixtureRun();
        using var a = TestEnvironment.TempDir();
        using var b = TestEnvironment.TempDir();
        LossPlotter.PlotRun(run.Path, a.Path);
        LossPlotter.PlotRun(run.Path, b.Path);
        foreach (var name in AllCharts)
            foreach (var ext in (string[])[".png", ".svg"])
                Assert.True(File.ReadAllBytes(Path.Combine(a.Path, name + ext)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b.Path, name + ext))), name + ext);
    }

    [Fact]
    public void TextIsRenderedInThePng()
    {
        using var run = FixtureRun();
        LossPlotter.PlotRun(run.Path);
        using var bitmap = SKBitmap.Decode(Path.Combine(run.Path, "training_loss.png"));
        // The title strip holds nothing but the title: without a usable font it stays white.
        int dark = 0;
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) is var p && p.Red + p.Green + p.Blue < 384) dark++;
        Assert.True(dark > 200, $"only {dark} dark pixels in the title strip: are fonts installed (fonts-dejavu-core)?");
    }

    [Fact]
    public void MissingMetricsAreNotedAndTheirChartsNotDrawn()
    {
        using var run = TestEnvironment.TempDir();
        File.WriteAllText(Path.Combine(run.Path, "trainer_state.json"), """
            {"log_history": [
              {"loss": 2.0, "learning_rate": 1e-4, "epoch": 0.5, "step": 10},
              {"loss": NaN, "learning_rate": 5e-5, "epoch": 1.0, "step": 20},
              {"loss": 1.0, "learning_rate": 0.0, "epoch": 1.5, "step": 30}
            ]}
            """);
        var report = LossPlotter.PlotRun(run.Path);
        Assert.Equal(["training_loss", "training_loss_bands", "training_learning_rate"], report.Files.Select(f => f.Name));
        Assert.Equal(
        [
            "loss: 1 non-finite value left out",
            "No metric eval_loss to plot.",
            "training_token_accuracy: no token_accuracy or eval_token_accuracy in the log; not drawn",
            "training_entropy: no entropy or eval_entropy in the log; not drawn",
            "training_answer_accuracy: no eval_first_token_accuracy or eval_gen_accuracy in the log; not drawn",
        ], report.Notes);
        Assert.False(File.Exists(Path.Combine(run.Path, "training_eval_loss.png")));
        var svg = new SvgChart(Path.Combine(run.Path, "training_loss.svg"));
        Assert.Equal(2, SvgChart.PointCount(Assert.Single(svg.Lines("#1f77b4", opacity: 0.4))));
        var bands = new SvgChart(Path.Combine(run.Path, "training_loss_bands.svg"));
        Assert.Empty(bands.Lines(TrainingCharts.Gray)); // no checkpoints on disk
        Assert.DoesNotContain("checkpoint", bands.Texts);
    }
}
