using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Cli.Commands;
using SharpTune.Evaluation.Sanity;
using SharpTune.Tests.Report;
using SharpTune.Training.Configuration;
using SharpTune.Training.Loop;

namespace SharpTune.Tests.Demo;

/// <summary>What <c>sharptune demo --quick</c> prints and writes: every stage, every file, the report.</summary>
[Collection(DemoQuickCollection.Name)]
public sealed class DemoQuickTests(DemoQuickRun demo)
{
    [Fact]
    public void EveryStageIsAnnouncedInOrderAndTimed()
    {
        demo.AssertSucceeded();
        var stages = DemoCommand.Stages;
        Assert.Equal(["data", "prepare", "tokenizer", "model", "stats", "preprocess", "train", "infer", "eval", "baselines", "compare",
            "behaviours", "behaviour-train", "sanity", "report"], stages.Select(s => s.Name));
        int at = -1;
        for (int i = 0; i < stages.Count; i++)
        {
            int next = demo.Output.IndexOf($"[{i + 1}/{stages.Count}] {stages[i].Name}: {stages[i].What}\n", StringComparison.Ordinal);
            Assert.True(next > at, $"stage {stages[i].Name} not announced in order");
            at = next;
        }
        // The time table after the last stage: every stage, then the total.
        var table = demo.Output[demo.Output.IndexOf("\nstage ", at, StringComparison.Ordinal)..];
        foreach (var s in stages) Assert.Matches(new Regex($"\n{Regex.Escape(s.Name)} +[0-9]+\\.[0-9]\n"), table);
        var total = double.Parse(Regex.Match(table, @"\ntotal +([0-9]+\.[0-9])\n").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(total, 0.1, demo.Elapsed.TotalSeconds + 1);
    }

    [Fact]
    public void EveryOutputFileExists()
    {
        demo.AssertSucceeded();
        string[] files =
        [
            "data/ratings.csv", "data/movies.csv", "dataset/train.json", "dataset/eval.json", "dataset/test_raw.jsonl", "dataset/summary.json",
            "dataset/dataset_info.json", "tokenizer/tokenizer.json", "model/config.json", "model/model.safetensors",
            "train.yaml", "train/trainer_log.jsonl", "train/trainer_state.json", "train/all_results.json", "train/prompt_settings.json",
            "train/model.safetensors", "train/tokenizer.json", "train/training_loss.png", "train/training_answer_accuracy.png",
            "predictions.jsonl", "eval.json", "baselines.json",
            "behaviours/behaviours.jsonl", "behaviours/train.yaml", "behaviours/train/trainer_log.jsonl",
            "behaviours/sanity/sanity.jsonl", "behaviours/sanity/sanity_summary.json", "behaviours/sanity/best_checkpoint.txt",
            "report.html", "report.md",
        ];
        foreach (var f in files) Assert.True(File.Exists(demo[f]), f);
        Assert.NotEmpty(CheckpointFolders.List(demo["train"]));
        Assert.True(CheckpointFolders.List(demo["behaviours/train"]).Count >= 2, "the behaviour run keeps several checkpoints for sanity to compare");
    }

    [Fact]
    public void TrainYamlHoldsTheSettingsAsLlamaFactoryKeysAndIsWhatTrainRan()
    {
        demo.AssertSucceeded();
        var s = DemoSettings.Quick;
        var yaml = File.ReadAllText(demo["train.yaml"]);
        foreach (var key in new[] { "model_name_or_path", "template", "finetuning_type", "dataset", "eval_dataset", "dataset_dir", "cutoff_len", "learning_rate",
                     "lr_scheduler_type", "warmup_ratio", "per_device_train_batch_size", "max_steps", "save_steps", "save_total_limit", "eval_strategy",
                     "eval_steps", "plot_loss", "max_time", "output_dir", "overwrite_output_dir", "generative_eval" })
            Assert.Matches(new Regex($"(?m)^{key}:"), yaml);
        var config = TrainConfig.Load(demo["train.yaml"]);
        Assert.Equal(Path.GetFullPath(demo["train"]), config.OutputDir);
        Assert.Equal(s.MaxSteps, config.MaxSteps);
        Assert.Equal(s.LearningRate, config.LearningRate);
        Assert.Equal(s.SaveTotalLimit, config.SaveTotalLimit);
        Assert.Equal(s.GenerativeEvalSamples, config.GenerativeEval.Samples);
        Assert.Equal(s.GenerativeEvalMaxNewTokens, config.GenerativeEval.MaxNewTokens);
        Assert.Equal(["Yes", "No"], config.GenerativeEval.Labels!);
        Assert.Equal("steps", config.EvalStrategy);
        Assert.NotNull(config.MaxTime);
        Assert.Equal(["movielens_train"], config.Dataset);

        // The run followed it: at most save_total_limit checkpoints, teacher-forced and generative evaluation every eval_steps.
        var checkpoints = CheckpointFolders.List(demo["train"]);
        Assert.InRange(checkpoints.Count, 1, s.SaveTotalLimit);
        var log = File.ReadAllLines(demo["train/trainer_log.jsonl"]).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var evals = log.Where(l => l.TryGetProperty("eval_loss", out _)).ToList();
        Assert.True(evals.Count >= 2, $"{evals.Count} evaluations");
        Assert.All(evals, e => Assert.True(e.TryGetProperty("eval_gen_accuracy", out _), "generative accuracy at every evaluation"));
        Assert.Contains(log, l => l.TryGetProperty("lr", out _)); // LLaMA-Factory's key for the learning rate
        // The train stage found both splits in the cache the preprocess stage filled.
        Assert.Matches(@"\ntrain: [\d,]+ samples of [\d,]+ records \(0 truncated, 0 dropped\) from the cache", demo.Output);
        Assert.Matches(@"\neval: [\d,]+ samples of [\d,]+ records \(0 truncated, 0 dropped\) from the cache", demo.Output);
    }

    [Fact]
    public void TheLearningRateIsPrintedInScientificNotationWithALowercaseE()
    {
        demo.AssertSucceeded();
        Assert.Matches(@" lr=[0-9]\.[0-9]{2}e-[0-9]{2} ", demo.Output);
        Assert.DoesNotMatch(@"[0-9]E-[0-9]", demo.Output);
    }

    [Fact]
    public void StatsStagePrintsTheLengthStatisticsAgainstCutoffLen()
    {
        demo.AssertSucceeded();
        Assert.Matches(@"  min \d+  mean \d+\.\d  p50 \d+  p90 \d+  p95 \d+  p99 \d+  max \d+\n", demo.Output);
        Assert.Contains($"  over cutoff_len {DemoSettings.Quick.CutoffLen}: 0 (0.00%)", demo.Output);
        Assert.Matches(@"masking: all \d+ eval samples supervise exactly the answer \+ <\|im_end\|>", demo.Output);
    }

    [Fact]
    public void CheckpointsHoldTheTokenizerSoGenerateAndInferCanUseThem()
    {
        demo.AssertSucceeded();
        var checkpoint = CheckpointFolders.List(demo["train"])[0].Path;
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "config.json", "model.safetensors", "prompt_settings.json" })
            Assert.True(File.Exists(Path.Combine(checkpoint, f)), $"{Path.GetFileName(checkpoint)}/{f}");
        var (code, output, err) = Cli("generate", "--model", checkpoint, "--chat", "--run", checkpoint, "--prompt", "Should we recommend it?", "--max-new-tokens", "3");
        Assert.True(code == 0, err);
        Assert.NotEqual("", output.Trim());
        var predictions = Path.Combine(demo.Scratch, "checkpoint-predictions.jsonl");
        (code, _, err) = Cli("infer", "--model", checkpoint, "--run", checkpoint, "--data", demo["dataset/eval.json"], "--labels", "Yes,No", "--max-new-tokens", "2", "--output", predictions);
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllLines(demo["dataset/eval.json"]).Length - 2, File.ReadAllLines(predictions).Length);
    }

    [Fact]
    public void InferEvalAndBaselinesCoverTheWholeTestSplit()
    {
        demo.AssertSucceeded();
        using var summary = JsonDocument.Parse(File.ReadAllBytes(demo["dataset/summary.json"]));
        long test = summary.RootElement.GetProperty("splits").GetProperty("test").GetProperty("samples").GetInt64();
        Assert.Equal(test, File.ReadAllLines(demo["predictions.jsonl"]).Length);
        using var eval = JsonDocument.Parse(File.ReadAllBytes(demo["eval.json"]));
        Assert.Equal(test, eval.RootElement.GetProperty("n").GetInt64());
        using var baselines = JsonDocument.Parse(File.ReadAllBytes(demo["baselines.json"]));
        Assert.Equal(test, baselines.RootElement.GetProperty("test_samples").GetInt64());
        foreach (var b in new[] { "majority", "user_history_mean", "item_mean", "matrix_factorization" })
            Assert.Equal(test, baselines.RootElement.GetProperty(b).GetProperty("n").GetInt64());
        // The comparison table, the model's column first.
        Assert.Matches(@"\n  metric +model +baselines\.majority +baselines\.user_history_mean", demo.Output);
    }

    [Fact]
    public void TheInferVerbWithTheDatasetEntryAndTheRunGivesTheDemosPredictions()
    {
        demo.AssertSucceeded();
        var output = Path.Combine(demo.Scratch, "verb-predictions.jsonl");
        var (code, _, err) = Cli("infer", "--model", demo["train"], "--run", demo["train"], "--dataset-info", demo["dataset/dataset_info.json"], "--dataset", "movielens_test",
            "--labels", "Yes,No", "--max-new-tokens", DemoSettings.Quick.InferMaxNewTokens.ToString(CultureInfo.InvariantCulture), "--output", output, "--save-prompts");
        Assert.True(code == 0, err);
        static IEnumerable<string?> Answers(string path) => File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("answer").ToString());
        Assert.Equal(Answers(demo["predictions.jsonl"]), Answers(output));
        // The prompt is the training prompt: instruction and input joined by one newline, as the dataset_info.json entry reads them.
        var prompt = JsonDocument.Parse(File.ReadLines(output).First()).RootElement.GetProperty("prompt").GetString()!;
        Assert.Contains($"Answer only with Yes or No.\nUser's last {DemoSettings.Quick.HistoryLength} watched movies:", prompt, StringComparison.Ordinal);

        (code, _, err) = Cli("infer", "--model", demo["train"], "--data", demo["dataset/test_raw.jsonl"], "--dataset-info", demo["dataset/dataset_info.json"], "--dataset", "movielens_test",
            "--output", Path.Combine(demo.Scratch, "never.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal("error: give --data FILE or --dataset-info FILE --dataset NAME, not both\n", err);
    }

    [Fact]
    public void TheStandingAgainstTheBaselinesMatchesTheFilesAndSaysPlainlyWhenTheGoalIsMissed()
    {
        demo.AssertSucceeded();
        using var eval = JsonDocument.Parse(File.ReadAllBytes(demo["eval.json"]));
        using var baselines = JsonDocument.Parse(File.ReadAllBytes(demo["baselines.json"]));
        double model = eval.RootElement.GetProperty("accuracy").GetDouble();
        double majority = baselines.RootElement.GetProperty("majority").GetProperty("accuracy").GetDouble();
        foreach (var b in new[] { "majority", "user_history_mean", "matrix_factorization" })
            Assert.Contains($"  vs {b}: ", demo.Output);
        if (model >= majority + DemoCommand.RequiredMarginPoints / 100)
            Assert.Contains("result: the fine-tuned model beats the majority class by", demo.Output);
        else
            Assert.Contains("result: did not reach the goal of 3 points above the majority class", demo.Output);
    }

    [Fact]
    public void SanityScoresEveryBehaviourCheckpointAndNamesTheBest()
    {
        demo.AssertSucceeded();
        using var summary = JsonDocument.Parse(File.ReadAllBytes(demo["behaviours/sanity/sanity_summary.json"]));
        var scored = File.ReadAllText(demo["behaviours/sanity/sanity_summary.json"]);
        foreach (var (_, path) in CheckpointFolders.List(demo["behaviours/train"]))
            Assert.Contains(Path.GetFileName(path), scored);
        var best = File.ReadAllText(demo["behaviours/sanity/best_checkpoint.txt"]).Trim();
        Assert.Matches(new Regex($"  best checkpoint: [^ ]+ \\({Regex.Escape(best)}\\), passes [0-9.]+% of the weighted checks"), demo.Output);
    }

    [Fact]
    public void TheReportHasEverySectionFilled()
    {
        demo.AssertSucceeded();
        var md = File.ReadAllText(demo["report.md"]);
        foreach (var title in new[] { "## Data", "## Masking", "## Training", "## Results", "## Behaviours", "## Configuration and versions" })
            Assert.Contains(title + "\n", md);
        Assert.DoesNotContain("**Missing:**", md);
        Assert.DoesNotContain("missing: ", demo.Error);
        var html = File.ReadAllText(demo["report.html"]);
        foreach (var id in new[] { "data", "masking", "training", "results", "behaviours", "configuration" })
            Assert.Contains($"<section id=\"{id}\">", html);
        Assert.DoesNotContain("class=\"missing\"", html);
        Assert.Contains("checkpoint-", html);       // behaviours: the checkpoints × checks table
        Assert.Contains("matrix_factorization", html); // results: the model beside each baseline
    }

    [Fact]
    public void TheReportVerbOnTheDemoRunFindsTheBehaviourChecksBesideIt()
    {
        demo.AssertSucceeded();
        var outDir = Path.Combine(demo.Scratch, "report-verb");
        var (code, _, err) = Cli("report", demo["train"], "--out", outDir);
        Assert.True(code == 0, err);
        var md = File.ReadAllText(Path.Combine(outDir, "report.md"));
        var behaviours = md[md.IndexOf("## Behaviours\n", StringComparison.Ordinal)..md.IndexOf("## Configuration", StringComparison.Ordinal)];
        Assert.DoesNotContain("**Missing:**", behaviours);
        Assert.Contains(Path.Combine(demo.Out, "behaviours", "sanity"), behaviours);
        // The masking samples are read as training read them (train.yaml's dataset: movielens_train → dataset_info.json): one newline.
        Assert.Contains($"Answer only with Yes or No.\nUser's last {DemoSettings.Quick.HistoryLength} watched movies:", md, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(demo["report.md"]).Split("## Masking")[1].Split("## Training")[0], md.Split("## Masking")[1].Split("## Training")[0]);
    }

    [Fact]
    public void TheReportReadsTheDataThroughTheEntryTheConfigNamesElseOnItsOwn()
    {
        demo.AssertSucceeded();
        var data = demo["dataset/train.json"];
        var config = Path.Combine(demo.Scratch, "named.yaml");
        File.WriteAllText(config, "dataset: movielens_train  # by name\ncutoff_len: 1024\n");
        Assert.Equal("\n", SharpTune.Evaluation.Report.RunReportBuilder.ConfigDescription(config, data)!.AlpacaSeparator);
        File.WriteAllText(config, "dataset: train.json\n");
        Assert.Null(SharpTune.Evaluation.Report.RunReportBuilder.ConfigDescription(config, data));
        File.WriteAllText(config, "dataset: movielens_eval\n");
        Assert.Null(SharpTune.Evaluation.Report.RunReportBuilder.ConfigDescription(config, data));
    }

    [Fact]
    public void TheDemoReportOpensInAHeadlessBrowserWithEveryPlotDrawn()
    {
        HeadlessBrowser.Require();
        demo.AssertSucceeded();
        var probeDir = Path.Combine(demo.Scratch, "browser");
        Directory.CreateDirectory(probeDir);
        var shot = HeadlessBrowser.Screenshot(demo["report.html"], Path.Combine(probeDir, "shot.png"), height: 3000);
        Assert.Empty(shot.ConsoleLines);
        Assert.True(new FileInfo(Path.Combine(probeDir, "shot.png")).Length > 10_000, "the screenshot is (nearly) empty");
        var plots = HeadlessBrowser.ProbePlots(demo["report.html"], probeDir, out var console);
        Assert.Empty(console);
        Assert.Contains(plots, p => p.Id == "plot-token_lengths");
        Assert.Contains(plots, p => p.Id == "plot-results_accuracy");
        Assert.True(plots.Count >= 8, $"{plots.Count} plots");
        foreach (var p in plots)
        {
            Assert.True(p.Shapes >= 10, $"{p.Id}: {p.Shapes} drawn shapes");
            Assert.True(p.Texts >= 5, $"{p.Id}: {p.Texts} drawn texts");
            Assert.InRange(p.Width, 500, HeadlessBrowser.Width);
        }
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }
}
