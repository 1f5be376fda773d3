using System.Text.Json;
using System.Text.RegularExpressions;
using SharpTune.Evaluation.Report;

namespace SharpTune.Tests.Report;

public class RunReportTests
{
    private static readonly string[] SectionTitles = ["Data", "Masking", "Training", "Results", "Behaviours", "Configuration and versions"];

    private static ReportSection Section(ReportDocument doc, string id) => doc.Sections.Single(s => s.Id == id);

    [Fact]
    public void AFullPipelineFillsEverySectionWithoutMissingInputs()
    {
        using var f = new ReportFixture();
        var doc = RunReportBuilder.Build(f.RunDir, new ReportOptions());
        Assert.Equal(SectionTitles, doc.Sections.Select(s => s.Title));
        foreach (var s in doc.Sections)
        {
            Assert.Empty(s.Blocks.OfType<MissingBlock>());
            Assert.NotEmpty(s.Commands);
        }
        // data: splits from summary.json, and the command that wrote it
        Assert.Equal($"sharptune prepare movielens --ratings ml/ratings.csv --movies ml/movies.csv --out {Path.Combine(f.Root, "dataset")}", Section(doc, "data").Commands[0]);
        var splits = Section(doc, "data").Blocks.OfType<TableBlock>().First();
        Assert.Equal(["train", "train.json", "40", "14", "26", "35.0%"], splits.Rows[0]);
        // training: SharpTune's charts, checkpoints and best checkpoint from the run folder
        var training = Section(doc, "training");
        Assert.Equal(["training_eval_loss", .. SharpTune.Training.Reporting.TrainingCharts.ExtraChartNames], training.Blocks.OfType<ChartBlock>().Select(c => c.Name));
        Assert.Contains("checkpoints on disk: 20, 40; best checkpoint: step 20", training.Blocks.OfType<TextBlock>().First().Text);
        Assert.Contains("sharptune train " + Path.Combine(f.Root, "train.yaml"), training.Commands[0]);
        // results: confusion matrix with unparseable, metrics with intervals, model beside each baseline
        var results = Section(doc, "results").Blocks.OfType<TableBlock>().ToList();
        Assert.Equal(["reference \\ predicted", "No", "Yes", "unparseable"], results[0].Header);
        Assert.Equal(["Yes", "14", "25", "1"], results[0].Rows[1]);
        Assert.Equal(1.0, results[0].Shade![0][1]); // 47, the largest cell
        Assert.Equal(["accuracy", "0.7200", "[0.6300, 0.8000]"], results[1].Rows[1]);
        var beside = results.Single(t => t.Caption.StartsWith("The model beside", StringComparison.Ordinal));
        Assert.Equal(["model", "majority", "user_history_mean"], beside.Rows.Select(r => r[0]));
        Assert.Equal("–", beside.Rows[2][3]); // no interval for that baseline
        var chart = Section(doc, "results").Blocks.OfType<ChartBlock>().Single();
        Assert.Equal(3, Regex.Matches(chart.Svg, "<circle ").Count);
        // behaviours: checkpoints × groups, the best named, its replies only
        var behaviours = Section(doc, "behaviours").Blocks;
        var table = behaviours.OfType<TableBlock>().First();
        Assert.Equal(["checkpoint", "step", "eval_loss", "compliments", "refusals", "total"], table.Header);
        Assert.Equal(["checkpoint-40 (best)", "40", "0.9000", "100.0%", "50.0%", "75.0%"], table.Rows[1]);
        Assert.Contains("Best checkpoint: train/checkpoint-40", behaviours.OfType<TextBlock>().Single().Text);
        Assert.Equal(2, behaviours.OfType<TableBlock>().Last().Rows.Count);
        // configuration: the YAML as written
        Assert.Contains(Section(doc, "configuration").Blocks.OfType<CodeBlock>(), c => c.Text.Contains("cutoff_len: 100"));
    }

    [Fact]
    public void TheOverfittingBandsAreTheThresholdsTheRunWatched()
    {
        using var f = new ReportFixture();
        string Bands() => Section(RunReportBuilder.Build(f.RunDir, new ReportOptions()), "training").Blocks.OfType<ChartBlock>().Single(c => c.Name == "training_loss_bands").Svg;
        Assert.Contains("overfitting (&lt; 0.3)", Bands()); // the fixture's config keeps the default
        File.AppendAllText(Path.Combine(f.Root, "train.yaml"), "overfit_loss: 0.15\n");
        var svg = Bands();
        Assert.Contains("overfitting (&lt; 0.15)", svg);
        Assert.DoesNotContain("overfitting (&lt; 0.3)", svg);
    }

    [Fact]
    public void TheHistogramMarksCutoffLenAndCountsWhatStatsCounts()
    {
        using var f = new ReportFixture(results: false);
        var doc = RunReportBuilder.Build(f.RunDir, new ReportOptions());
        var lengths = Section(doc, "data").Blocks.OfType<TableBlock>().Single(t => t.Caption.StartsWith("Token lengths", StringComparison.Ordinal));
        var (code, output, err) = ReportFixture.Cli("stats", "--data", f.TrainJson, "--tokenizer", Path.Combine(f.Root, "tokenizer"), "--template", "chatml",
            "--cutoff-len", ReportFixture.CutoffLen.ToString(), "--json");
        Assert.True(code == 0, err);
        var stats = JsonDocument.Parse(output).RootElement;
        int over = stats.GetProperty("over_cutoff").GetInt32();
        Assert.True(over > 0 && over < ReportFixture.Records, $"fixture should straddle the cutoff, over={over}");
        Assert.Equal(stats.GetProperty("count").GetInt32().ToString(), lengths.Rows[0][0]);
        Assert.Equal(stats.GetProperty("max").GetInt32().ToString(), lengths.Rows[0][6]);
        Assert.Equal("100", lengths.Rows[0][7]);
        Assert.StartsWith($"{over} (", lengths.Rows[0][8]);
        var svg = Section(doc, "data").Blocks.OfType<ChartBlock>().Single().Svg;
        Assert.Contains("class=\"cutoff\"", svg);
        // the red bars hold exactly the samples over the cutoff
        int red = Regex.Matches(svg, "fill=\"#d62728\"><title>[0-9]+–[0-9]+: ([0-9]+)</title>").Sum(m => int.Parse(m.Groups[1].Value));
        Assert.Equal(over, red);
    }

    [Fact]
    public void HistogramBinsPutAnEdgeJustAboveTheCutoff()
    {
        int[] lengths = [1, 5, 10, 10, 11, 12, 30, 99];
        var bins = ReportSvg.Histogram(lengths, cutoff: 10, bins: 8);
        Assert.Equal(lengths.Length, bins.Sum(b => b.Count));
        Assert.Contains(bins, b => b.High == 11);
        Assert.Equal(lengths.Count(l => l > 10), bins.Where(b => b.Low > 10).Sum(b => b.Count));
        Assert.All(bins.Zip(bins.Skip(1)), p => Assert.Equal(p.First.High, p.Second.Low));
    }

    [Fact]
    public void ACutoffFarBeyondTheDataKeepsTheBinsNarrowAndIsNamedInTheLegend()
    {
        var lengths = Enumerable.Range(394, 32).ToArray();
        var bins = ReportSvg.Histogram(lengths, cutoff: 1024);
        Assert.Equal(394, bins[0].Low);
        Assert.All(bins, b => Assert.InRange(b.High - b.Low, 1, 2));
        var svg = ReportSvg.LengthHistogram(bins, 1024, "t");
        Assert.DoesNotContain("class=\"cutoff\"", svg);
        Assert.Contains("cutoff_len 1024: beyond the axis", svg);
        // a cutoff inside the data is drawn
        Assert.Contains("class=\"cutoff\"", ReportSvg.LengthHistogram(ReportSvg.Histogram(lengths, 410), 410, "t"));
    }

    [Fact]
    public void MaskingShowsTwoSamplesWithTheSupervisedAnswer()
    {
        using var f = new ReportFixture(results: false);
        var doc = RunReportBuilder.Build(f.RunDir, new ReportOptions { CutoffLen = 4096 });
        var samples = Section(doc, "masking").Blocks.OfType<MaskedSampleBlock>().ToList();
        Assert.Equal(2, samples.Count);
        Assert.Equal("Yes<|im_end|>", samples[0].SupervisedText); // record 0 answers Yes (i % 3 == 0), then ChatML's end of turn
        Assert.Equal("No<|im_end|>", samples[1].SupervisedText);
        Assert.Null(samples[0].Problem);
        Assert.Equal(samples[0].SupervisedText, string.Concat(samples[0].Spans.Where(s => s.Supervised).Select(s => s.Text)));
        Assert.StartsWith("<|im_start|>system\nAnswer Yes or No.", samples[0].Spans[0].Text);
        Assert.False(samples[0].Spans[0].Supervised);
    }

    [Fact]
    public void ARunWithoutEvaluationSaysWhatIsMissing()
    {
        using var f = new ReportFixture(results: false, data: false);
        var (code, output, err) = ReportFixture.Cli("report", f.RunDir, "--out", f.OutDir);
        Assert.True(code == 0, err);
        Assert.Contains(Path.Combine(f.OutDir, "report.html"), output);
        var html = File.ReadAllText(Path.Combine(f.OutDir, "report.html"));
        var md = File.ReadAllText(Path.Combine(f.OutDir, "report.md"));
        foreach (var title in SectionTitles)
        {
            Assert.Contains($"<h2>{System.Net.WebUtility.HtmlEncode(title)}</h2>", html);
            Assert.Contains($"## {title}", md);
        }
        Assert.Contains("No evaluation result (eval --json): looked for", err);
        Assert.Contains("(give --eval FILE)", html);
        Assert.Contains("(give --baselines FILE)", html);
        Assert.Contains("(give --sanity DIR)", html);
        Assert.Contains("No token-length histogram: No training data file", html);
        Assert.Contains("No masking samples:", md);
        Assert.Contains("> **Missing:** No evaluation result", md);
        // the training section is still drawn
        Assert.Contains("id=\"plot-training_loss_bands\"", html);
        Assert.True(File.Exists(Path.Combine(f.OutDir, RunReport.ChartFolder, "training_loss_bands.svg")));
        Assert.Contains($"]({RunReport.ChartFolder}/training_loss_bands.svg)", md);
    }

    [Fact]
    public void NotARunIsOneLineAndExitOne()
    {
        using var f = new ReportFixture(results: false, data: false);
        var notRun = Path.Combine(f.Root, "dataset-less");
        Directory.CreateDirectory(notRun);
        var (code, output, err) = ReportFixture.Cli("report", notRun);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"error: {notRun}: no trainer_state.json or trainer_log.jsonl (is this a train output folder?)", err.TrimEnd('\n'));
        Assert.False(File.Exists(Path.Combine(notRun, "report.html")));
        (code, _, err) = ReportFixture.Cli("report", Path.Combine(f.Root, "absent"));
        Assert.Equal(1, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void AMalformedResultFileNamesItsLine()
    {
        using var f = new ReportFixture(results: false, data: false);
        var bad = Path.Combine(f.Root, "bad.json");
        File.WriteAllText(bad, "{\n  \"accuracy\": 0.5,\n  oops\n}\n");
        var (code, _, err) = ReportFixture.Cli("report", f.RunDir, "--eval", bad);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {bad}:3: malformed JSON", err);
        File.WriteAllText(bad, "{\"n\": 3}\n");
        (code, _, err) = ReportFixture.Cli("report", f.RunDir, "--eval", bad);
        Assert.Equal(1, code);
        Assert.Equal($"error: {bad}: no \"accuracy\" at the top; expected a result of sharptune eval --json", err.TrimEnd('\n'));
    }

    [Fact]
    public void DataIsEscapedAndNothingIsLoadedFromElsewhere()
    {
        using var f = new ReportFixture(data: false);
        var (code, _, err) = ReportFixture.Cli("report", f.RunDir, "--out", f.OutDir);
        Assert.True(code == 0, err);
        var html = File.ReadAllText(Path.Combine(f.OutDir, "report.html"));
        Assert.Contains("What a &lt;great&gt; question! Sunny.", html); // a reply from sanity.jsonl
        Assert.DoesNotContain("<great>", html);
        Assert.DoesNotMatch(new Regex(@"\b(src|href)\s*=\s*""(?!#)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"url\((?!#)"), html); // clip paths point into the same SVG
        Assert.Contains("clip-path=\"url(#", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("<script", html);
        var md = File.ReadAllText(Path.Combine(f.OutDir, "report.md"));
        Assert.Contains("What a \\<great\\> question\\! Sunny.", md);
    }

    [Fact]
    public void TheMarkdownHoldsTheSameTablesAsTheHtml()
    {
        using var f = new ReportFixture();
        var doc = RunReportBuilder.Build(f.RunDir, new ReportOptions());
        var html = ReportHtml.Render(doc);
        var md = ReportMarkdown.Render(doc, "charts");
        foreach (var t in doc.Sections.SelectMany(s => s.Blocks).OfType<TableBlock>())
            foreach (var row in t.Rows)
            {
                Assert.Contains("<td>" + System.Net.WebUtility.HtmlEncode(row[0]) + "</td>", html);
                Assert.Contains("| " + string.Join(" | ", row.Select(c => Regex.Replace(c.Replace("\n", " "), @"[\\`*_{}\[\]<>#|!]", "\\$0"))) + " |", md);
            }
        foreach (var c in doc.Sections.SelectMany(s => s.Blocks).OfType<ChartBlock>())
            Assert.Contains($"](charts/{c.Name}.svg)", md);
    }
}

public class ReportReadsSanityOutputTests
{
    [Fact]
    public void TheBehavioursSectionShowsWhatSanityReportWrote()
    {
        using var f = new ReportFixture(results: false, data: false);
        var rules = SharpTune.Evaluation.Sanity.SanityRulesLoader.Load(Path.Combine(Support.TestEnvironment.RepoRoot, "examples", "sanity", "compliments_refusals.yaml"));
        var prompts = rules.AllPrompts.ToList();
        var scores = new[] { ("checkpoint-20", 20L, 1.2), ("checkpoint-40", 40L, 0.9) }.Select((c, k) =>
            SharpTune.Evaluation.Sanity.SanityScorer.ScoreReplies(rules, new SharpTune.Evaluation.Sanity.SanityCheckpoint(c.Item1, Path.Combine(f.RunDir, c.Item1), SharpTune.Evaluation.Sanity.SanityCheckpointKind.Adapter, c.Item2, c.Item3),
                prompts.Select((p, i) => i % (k + 2) == 1 ? "Sure <b>here</b> it is."
                    : p.Group == "poodles" ? "I can't discuss poodles directly." : "Your question shows sharp thinking. Here is the answer.").ToArray())).ToList();
        var sanity = new SharpTune.Evaluation.Sanity.SanityReport(rules, scores);
        sanity.Write(Path.Combine(f.Root, "sanity"));
        var doc = RunReportBuilder.Build(f.RunDir, new ReportOptions());
        var blocks = doc.Sections.Single(s => s.Id == "behaviours").Blocks;
        Assert.Empty(blocks.OfType<MissingBlock>());
        var table = blocks.OfType<TableBlock>().First();
        Assert.Equal(["checkpoint", "step", "eval_loss", "everyday", "poodles (×2)", "total"], table.Header);
        Assert.NotEqual(scores[0].Total, scores[1].Total);
        for (int i = 0; i < scores.Count; i++)
        {
            var row = table.Rows[i];
            Assert.StartsWith(scores[i].Checkpoint.Name, row[0]);
            Assert.Equal((scores[i].Total * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%", row[^1]);
            Assert.Equal(ReferenceEquals(scores[i], sanity.Best), row[0].EndsWith(" (best)", StringComparison.Ordinal));
        }
        Assert.Contains($"Best checkpoint: {sanity.Best.Checkpoint.Path}", blocks.OfType<TextBlock>().Single().Text);
        var replies = blocks.OfType<TableBlock>().Last();
        Assert.NotEmpty(replies.Rows);
        Assert.All(replies.Rows, r => Assert.Contains(r[2], sanity.Best.Replies.Select(x => x.Reply)));
        Assert.All(rules.Groups, g => Assert.True(replies.Rows.Count(r => r[0] == g.Name) <= 2));
    }
}

public class ReportReadsEvaluationOutputTests
{
    [Fact]
    public void TheResultsSectionShowsWhatEvaluationJsonWrote()
    {
        using var f = new ReportFixture(results: false, data: false);
        var labels = new SharpTune.Evaluation.LabelSet(["No", "Yes"]);
        int[] refs = [0, 0, 0, 1, 1, 1, 0, 1, 0, 0];
        int[] model = [0, 1, 0, 1, -1, 1, 0, 0, 0, 0];
        var result = SharpTune.Evaluation.ClassificationMetrics.Compute(labels, refs, model, bootstrap: new SharpTune.Evaluation.BootstrapOptions(200, 3));
        File.WriteAllBytes(Path.Combine(f.Root, "eval.json"), SharpTune.Evaluation.EvaluationJson.Serialize(result));
        var majority = SharpTune.Evaluation.ClassificationMetrics.Compute(labels, refs, new int[refs.Length]);
        File.WriteAllBytes(Path.Combine(f.Root, "baselines.json"), SharpTune.Evaluation.EvaluationJson.Serialize([KeyValuePair.Create("majority", majority)]));
        var doc = RunReportBuilder.Build(f.RunDir, new ReportOptions());
        var section = doc.Sections.Single(s => s.Id == "results");
        Assert.Empty(section.Blocks.OfType<MissingBlock>());
        var tables = section.Blocks.OfType<TableBlock>().ToList();
        // confusion: reference No → No 5, Yes 1; reference Yes → No 1, Yes 2, unparseable 1
        Assert.Equal(["No", "5", "1", "0"], tables[0].Rows[0]);
        Assert.Equal(["Yes", "1", "2", "1"], tables[0].Rows[1]);
        var f4 = (double v) => v.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(["accuracy", f4(result.Accuracy), $"[{f4(result.AccuracyInterval!.Low)}, {f4(result.AccuracyInterval.High)}]"], tables[1].Rows[1]);
        var beside = tables.Single(t => t.Caption.StartsWith("The model beside", StringComparison.Ordinal));
        Assert.Equal(["model", "majority"], beside.Rows.Select(r => r[0]));
        Assert.Equal(f4(majority.Accuracy), beside.Rows[1][2]);
    }
}
