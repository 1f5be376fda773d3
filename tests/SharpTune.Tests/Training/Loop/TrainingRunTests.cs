using System.Text.Json.Nodes;
using SharpTune.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;
using SharpTune.Training.Loop;

namespace SharpTune.Tests.Training.Loop;

/// <summary>
/// The training loop end to end on a tiny LoRA Qwen3: outputs and log layouts, resume bit for bit (also after a
/// cancellation from an observer), max_time, a checkpoint write that fails half-way, rotation with the best model
/// kept, non-finite steps, the drift and overfitting warnings, and output_dir rules.
/// </summary>
public sealed class TrainingRunTests
{
    private static readonly SharpTune.Preprocessing.TokenizedDataset Train = LoopFixtures.Dataset(17, 11);
    private static readonly SharpTune.Preprocessing.TokenizedDataset Eval = LoopFixtures.Dataset(6, 12);

    private static JsonObject ReadJson(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    private static List<JsonObject> ReadLog(string dir) =>
        File.ReadAllLines(Path.Combine(dir, TrainingRun.TrainerLogFile)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public void A_run_writes_checkpoints_logs_state_and_results_in_transformers_and_llamafactory_layouts()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var obs = new RecordingObserver();
        var args = LoopFixtures.Args(outDir) with { EvalStrategy = EvaluationStrategy.Steps, EvalSteps = 3 };
        var prompt = new SharpTune.Preprocessing.PromptSettings { TemplateSource = "{{ messages }}" };
        var result = LoopFixtures.Train(args, Train, Eval, observers: [obs], prompt: prompt,
            configure: i => i with { CutoffLen = 12, Truncation = SharpTune.Preprocessing.TruncationMode.Drop, LabelNames = ["Yes", "No"] });

        // The memory report: the arenas as the model and optimizer size them, and the process's peak.
        var memory = result.Memory!;
        Assert.Equal(memory.TrainableBytes, memory.OptimizerBytes);   // two moments a trainable float: as large as parameters + gradients
        Assert.True(memory.BaseWeightBytes > 0 && memory.ActivationBytes > 0);
        Assert.True(memory.PeakRssBytes > memory.ArenaBytes);
        Assert.StartsWith("memory: peak RSS ", memory.Line());

        // 17 samples / 3 = 6 batches, accumulation 2 → 3 updates an epoch, 2 epochs.
        Assert.Equal(TrainingStopReason.Completed, result.Reason);
        Assert.Equal(6, result.GlobalStep);
        Assert.Equal(6, obs.Steps.Count);
        // transformers: epoch + micro_batches_done / batches_per_epoch, in double.
        Assert.Equal([0 + 2 / 6.0, 0 + 4 / 6.0, 0 + 6 / 6.0, 1 + 2 / 6.0, 1 + 4 / 6.0, 1 + 6 / 6.0], obs.Steps.Select(s => s.Epoch).ToArray());
        Assert.Equal([2L, 4, 6], obs.Checkpoints.Select(c => c.Step).ToArray());
        Assert.Equal([3L, 6], obs.Evaluations.Select(e => e.Step).ToArray());
        foreach (var s in new[] { 2, 4, 6 })
        {
            var cp = CheckpointFolders.PathOf(outDir, s);
            foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors", TrainingCheckpoint.OptimizerFile, TrainingCheckpoint.StateFile,
                         TrainerStateFile.FileName, TrainingRun.RunStateFile, TrainingRun.SchedulerFile })
                Assert.True(File.Exists(Path.Combine(cp, f)), $"{cp}/{f}");
            Assert.Equal(s, ReadJson(Path.Combine(cp, TrainerStateFile.FileName))["global_step"]!.GetValue<long>());
        }
        foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors", TrainerStateFile.FileName, "train_results.json", "eval_results.json", "all_results.json",
                     SharpTune.Preprocessing.PromptSettingsFile.FileName })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        // The prompt settings travel with every checkpoint and the final adapter.
        Assert.Equal("{{ messages }}", SharpTune.Preprocessing.PromptSettingsFile.Read(Path.Combine(outDir, "prompt_settings.json")).TemplateSource);
        Assert.Equal("{{ messages }}", TrainingCheckpoint.LoadPromptSettings(CheckpointFolders.PathOf(outDir, 4))!.TemplateSource);
        // With what inference needs besides the prompt: the cutoff_len and truncation the samples were cut with, and the label names.
        var expectedRun = new SharpTune.Preprocessing.RunPromptSettings { Prompt = prompt, CutoffLen = 12, Truncation = SharpTune.Preprocessing.TruncationMode.Drop, Labels = ["Yes", "No"] };
        Assert.Equal(expectedRun, SharpTune.Preprocessing.PromptSettingsFile.ReadRun(outDir));
        Assert.Equal(expectedRun, SharpTune.Preprocessing.PromptSettingsFile.ReadRun(CheckpointFolders.PathOf(outDir, 4)));

        // trainer_state.json: transformers' keys, sorted, one history entry per log (6 training logs, 2 evaluations, the final metrics).
        var state = ReadJson(Path.Combine(outDir, TrainerStateFile.FileName));
        Assert.Equal(state.Select(kv => kv.Key).Order(StringComparer.Ordinal), state.Select(kv => kv.Key));
        foreach (var key in new[] { "best_global_step", "best_metric", "best_model_checkpoint", "epoch", "eval_steps", "global_step", "log_history", "logging_steps", "max_steps",
                     "num_input_tokens_seen", "num_train_epochs", "save_steps", "stateful_callbacks", "total_flos", "train_batch_size", "trial_name", "trial_params" })
            Assert.True(state.ContainsKey(key), key);
        Assert.Equal(6, state["max_steps"]!.GetValue<long>());
        Assert.Null(state["best_metric"]);   // as transformers: no metric_for_best_model, no best tracked
        Assert.Equal(3, state["eval_steps"]!.GetValue<long>());
        var history = state["log_history"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(9, history.Count);
        var trainLogs = history.Where(h => h.ContainsKey("loss")).ToList();
        Assert.Equal(obs.Steps.Select(s => s.Result.Loss), trainLogs.Select(h => h["loss"]!.GetValue<double>()));
        Assert.Equal(obs.Steps.Select(s => s.Result.LearningRate), trainLogs.Select(h => h["learning_rate"]!.GetValue<double>()));
        Assert.All(trainLogs, h => Assert.True(h.ContainsKey("grad_norm") && h.ContainsKey("token_accuracy") && h.ContainsKey("entropy") && h.ContainsKey("epoch") && h.ContainsKey("step")));
        var evals = history.Where(h => h.ContainsKey("eval_loss")).ToList();
        Assert.Equal(2, evals.Count);
        foreach (var k in new[] { "eval_token_accuracy", "eval_entropy", "eval_first_token_accuracy", "eval_runtime" }) Assert.True(evals[0].ContainsKey(k), k);
        Assert.True(history[^1].ContainsKey("train_loss") && history[^1].ContainsKey("train_runtime"));
        Assert.Equal(obs.Steps.Average(s => s.Result.Loss), history[^1]["train_loss"]!.GetValue<double>(), 12);

        // trainer_log.jsonl: LLaMA-Factory's fields.
        var log = ReadLog(outDir);
        Assert.Equal(9, log.Count);
        var first = log[0];
        foreach (var k in new[] { "current_steps", "total_steps", "loss", "lr", "epoch", "percentage", "elapsed_time", "remaining_time", "throughput", "total_tokens", "token_accuracy", "entropy", "grad_norm" })
            Assert.True(first.ContainsKey(k), k);
        Assert.Equal(1, first["current_steps"]!.GetValue<long>());
        Assert.Equal(6, first["total_steps"]!.GetValue<long>());
        Assert.Equal(16.67, first["percentage"]!.GetValue<double>());
        Assert.Matches(@"^\d+:\d\d:\d\d$", first["elapsed_time"]!.GetValue<string>());
        Assert.Contains(log, l => l.ContainsKey("eval_loss") && l.ContainsKey("eval_first_token_accuracy"));

        // Results files.
        var train = ReadJson(Path.Combine(outDir, "train_results.json"));
        Assert.Equal(result.TrainLoss, train["train_loss"]!.GetValue<double>());
        Assert.Equal(2.0, train["epoch"]!.GetValue<double>());
        var all = ReadJson(Path.Combine(outDir, "all_results.json"));
        Assert.True(all.ContainsKey("train_loss") && all.ContainsKey("eval_loss"));
        // The final adapter at the root is the last checkpoint's.
        Assert.Equal(File.ReadAllBytes(Path.Combine(CheckpointFolders.PathOf(outDir, 6), "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(outDir, "adapter_model.safetensors")));
    }

    [Fact]
    public void Resuming_after_a_cancellation_continues_with_bit_identical_losses()
    {
        using var dir = new TempDir();
        var full = Path.Combine(dir.Path, "full");
        var split = Path.Combine(dir.Path, "split");
        var uninterrupted = new RecordingObserver();
        var args = LoopFixtures.Args(full) with { LoggingSteps = 2, SaveSteps = 100 };
        // Dropout on: its masks must continue from the right step too.
        LoopFixtures.Train(args, Train, dropout: 0.2, observers: [uninterrupted]);

        using var cancel = new CancellationTokenSource();
        var first = new RecordingObserver { OnEachStep = s => { if (s.Result.Step == 3) cancel.Cancel(); } };
        var stopped = LoopFixtures.Train(args with { OutputDir = split }, Train, dropout: 0.2, observers: [first], cancel: cancel);
        Assert.Equal(TrainingStopReason.Cancelled, stopped.Reason);
        Assert.Equal(3, stopped.GlobalStep);
        Assert.Equal(CheckpointFolders.PathOf(split, 3), stopped.LastCheckpoint);
        Assert.True(File.Exists(Path.Combine(split, "checkpoint-3", "adapter_model.safetensors")));
        Assert.False(File.Exists(Path.Combine(split, "adapter_model.safetensors")));   // a cancelled run leaves only its checkpoint

        var second = new RecordingObserver();
        var resumed = LoopFixtures.Train(args with { OutputDir = split, ResumeFromLatest = true }, Train, dropout: 0.2, observers: [second]);
        Assert.Equal(3, second.Start!.StartStep);
        Assert.Equal(TrainingStopReason.Completed, resumed.Reason);
        var losses = first.Steps.Concat(second.Steps).Select(s => s.Result.Loss).ToArray();
        Assert.Equal(uninterrupted.Steps.Select(s => s.Result.Loss).ToArray(), losses);   // exact, bit for bit
        Assert.Equal(uninterrupted.Steps.Select(s => s.Result.GradNorm), first.Steps.Concat(second.Steps).Select(s => s.Result.GradNorm));
        Assert.Equal(uninterrupted.Steps.Select(s => s.Epoch), first.Steps.Concat(second.Steps).Select(s => s.Epoch));
        // The logged (window-averaged) losses too: the window open at step 3 was carried in the checkpoint.
        static double[] Logged(string d) => ReadLog(d).Where(l => l.ContainsKey("loss")).Select(l => l["loss"]!.GetValue<double>()).ToArray();
        Assert.Equal(Logged(full), Logged(split));
        Assert.Equal(File.ReadAllBytes(Path.Combine(full, "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(split, "adapter_model.safetensors")));
        Assert.Equal(uninterrupted.End!.TrainLoss, resumed.TrainLoss);
        // The padding count continues across the resumption too.
        Assert.Equal(ReadJson(Path.Combine(full, "train_results.json"))[TrainingRun.PaddingTokensKey]!.GetValue<double>(),
            ReadJson(Path.Combine(split, "train_results.json"))[TrainingRun.PaddingTokensKey]!.GetValue<double>());
    }

    [Fact]
    public void Train_results_count_the_right_padding_of_the_training_batches()
    {
        using var dir = new TempDir();
        var args = LoopFixtures.Args(Path.Combine(dir.Path, "out")) with { DisableShuffling = true, SaveStrategy = SaveStrategy.No };
        LoopFixtures.Train(args, Train);
        // Dataset order, micro-batches of 3 (the last of each epoch holds 2), two epochs: each pads to its longest sample.
        long padding = 0, tokens = 0;
        for (int start = 0; start < Train.Count; start += 3)
        {
            var lengths = Enumerable.Range(start, Math.Min(3, Train.Count - start)).Select(Train.Length).ToArray();
            padding += 2L * (lengths.Length * lengths.Max() - lengths.Sum());
            tokens += 2L * lengths.Sum();
        }
        Assert.True(padding > 0);
        var results = ReadJson(Path.Combine(args.OutputDir, "train_results.json"));
        Assert.Equal(padding, results[TrainingRun.PaddingTokensKey]!.GetValue<double>());
        Assert.Equal(tokens, results["num_input_tokens_seen"]!.GetValue<double>());
        Assert.Equal((double)padding / (padding + tokens), results[TrainingRun.PaddingRatioKey]!.GetValue<double>(), 15);
        Assert.Equal(results[TrainingRun.PaddingRatioKey]!.GetValue<double>(), ReadJson(Path.Combine(args.OutputDir, "all_results.json"))[TrainingRun.PaddingRatioKey]!.GetValue<double>());

        // group_by_length puts similar lengths together: less padding than the dataset order.
        var grouped = args with { OutputDir = Path.Combine(dir.Path, "grouped"), DisableShuffling = false, GroupByLength = true };
        LoopFixtures.Train(grouped, Train);
        Assert.True(ReadJson(Path.Combine(grouped.OutputDir, "train_results.json"))[TrainingRun.PaddingTokensKey]!.GetValue<double>() < padding);
    }

    [Fact]
    public void Resuming_with_a_changed_batch_size_accumulation_or_data_is_an_error_naming_it()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var args = LoopFixtures.Args(outDir) with { MaxSteps = 2 };
        LoopFixtures.Train(args, Train);
        var resume = args with { ResumeFromCheckpoint = CheckpointFolders.PathOf(outDir, 2), MaxSteps = 4 };
        Assert.Contains("per_device_train_batch_size 3 but this run has 4", Assert.Throws<UserException>(() => LoopFixtures.Train(resume with { PerDeviceTrainBatchSize = 4 }, Train)).Message);
        Assert.Contains("gradient_accumulation_steps 2 but this run has 1", Assert.Throws<UserException>(() => LoopFixtures.Train(resume with { GradientAccumulationSteps = 1 }, Train)).Message);
        Assert.Contains("other data", Assert.Throws<UserException>(() => LoopFixtures.Train(resume, Train, dataFingerprint: "data-2")).Message);
        Assert.Contains("seed 7 but this run has 8", Assert.Throws<UserException>(() => LoopFixtures.Train(resume with { Seed = 8 }, Train)).Message);
        Assert.Contains("not a checkpoint folder", Assert.Throws<UserException>(() => LoopFixtures.Train(resume with { ResumeFromCheckpoint = dir.Path }, Train)).Message);
        // The same settings resume fine.
        Assert.Equal(4, LoopFixtures.Train(resume, Train).GlobalStep);
    }

    [Fact]
    public void A_non_empty_output_dir_without_overwrite_or_resume_is_an_error_and_nothing_is_deleted()
    {
        using var dir = new TempDir();
        var keep = Path.Combine(dir.Path, "notes.txt");
        File.WriteAllText(keep, "mine");
        var e = Assert.Throws<UserException>(() => LoopFixtures.Train(LoopFixtures.Args(dir.Path) with { MaxSteps = 1 }, Train));
        Assert.Contains("output_dir is not empty", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
        Assert.Equal(1, LoopFixtures.Train(LoopFixtures.Args(dir.Path) with { MaxSteps = 1, OverwriteOutputDir = true }, Train).GlobalStep);
        Assert.True(File.Exists(keep));
        // An evaluation strategy without an evaluation set, and an output_dir that is a file.
        Assert.Contains("no evaluation set", Assert.Throws<UserException>(() => LoopFixtures.Train(LoopFixtures.Args(Path.Combine(dir.Path, "e")) with { EvalStrategy = EvaluationStrategy.Epoch }, Train)).Message);
        Assert.Contains("output_dir is a file", Assert.Throws<UserException>(() => LoopFixtures.Train(LoopFixtures.Args(keep), Train)).Message);
    }

    [Fact]
    public void Max_time_stops_at_the_first_step_boundary_after_the_budget_with_a_checkpoint()
    {
        using var dir = new TempDir();
        var clock = new ManualClock();
        var obs = new RecordingObserver { OnEachStep = _ => clock.Advance(TimeSpan.FromSeconds(10)) };
        var args = LoopFixtures.Args(Path.Combine(dir.Path, "out")) with { MaxTime = TimeSpan.FromSeconds(25), SaveSteps = 100 };
        var result = LoopFixtures.Train(args, Train, observers: [obs], clock: clock);
        Assert.Equal(TrainingStopReason.TimeBudget, result.Reason);
        Assert.Equal(3, result.GlobalStep);                        // 30 s ≥ 25 s after step 3, 20 s < 25 s after step 2
        Assert.Equal(CheckpointFolders.PathOf(args.OutputDir, 3), result.LastCheckpoint);
        Assert.True(File.Exists(Path.Combine(result.LastCheckpoint!, "optimizer.safetensors")));
        Assert.True(File.Exists(Path.Combine(args.OutputDir, "adapter_model.safetensors")));   // the model so far lands at the root
        Assert.Equal(3, ReadJson(Path.Combine(args.OutputDir, "train_results.json"))["train_runtime"]!.GetValue<double>() / 10);
    }

    [Fact]
    public void A_checkpoint_write_that_fails_half_way_leaves_the_previous_one_complete_and_resumable()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var args = LoopFixtures.Args(outDir);
        int commits = 0;
        var e = Assert.Throws<IOException>(() => LoopFixtures.Train(args, Train, beforeCommit: tmp =>
        {
            // The second checkpoint dies after its files are written, before the rename (disk full, kill).
            if (++commits == 2) throw new IOException("simulated crash while writing " + tmp);
        }));
        Assert.Contains("simulated crash", e.Message);
        Assert.Equal([CheckpointFolders.PathOf(outDir, 2)], CheckpointFolders.List(outDir).Select(c => c.Path));
        Assert.Empty(Directory.GetDirectories(outDir, ".checkpoint-*"));
        // A killed process leaves its temporary folder behind: it is never taken for a checkpoint.
        Directory.CreateDirectory(Path.Combine(outDir, ".checkpoint-4.tmp-1-abc"));
        File.WriteAllText(Path.Combine(outDir, ".checkpoint-4.tmp-1-abc", TrainerStateFile.FileName), "{");
        Assert.Equal(CheckpointFolders.PathOf(outDir, 2), CheckpointFolders.Latest(outDir));
        // What a killed process (one that no longer runs) left — a checkpoint and the final adapter's staging folder,
        // under other names than the resumed run writes — is swept when the next run starts; a live process's is not touched.
        const int dead = 999_999_999;
        foreach (var leftover in new[] { $".checkpoint-3.tmp-{dead}-abc", $".adapter.tmp-{dead}-def" })
        {
            Directory.CreateDirectory(Path.Combine(outDir, leftover));
            File.WriteAllText(Path.Combine(outDir, leftover, "adapter_model.safetensors"), "partial");
        }
        File.WriteAllText(Path.Combine(outDir, $".train_results.json.tmp-{dead}-0"), "{");
        var resumed = LoopFixtures.Train(args with { ResumeFromLatest = true }, Train);
        Assert.Equal(TrainingStopReason.Completed, resumed.Reason);
        Assert.Equal(6, resumed.GlobalStep);
        Assert.Equal([".checkpoint-4.tmp-1-abc"], Directory.GetFileSystemEntries(outDir, ".*").Select(Path.GetFileName));
    }

    [Fact]
    public void Re_writing_an_existing_checkpoint_leaves_no_temporary_behind()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var args = LoopFixtures.Args(outDir);
        LoopFixtures.Train(args, Train);
        // Resuming from checkpoint-2 writes checkpoint-4 and -6 again, over the first run's: the new folder is a
        // registered temporary until it replaces the old one, and the old one is one until it is deleted.
        var names = new List<string>();
        LoopFixtures.Train(args with { ResumeFromCheckpoint = CheckpointFolders.PathOf(outDir, 2) }, Train, beforeCommit: tmp => names.Add(Path.GetFileName(tmp)));
        Assert.Equal(2, names.Count);
        Assert.All(names, n => Assert.Matches($@"^\.checkpoint-[46]\.tmp-{Environment.ProcessId}-[0-9a-f]{{32}}$", n));
        Assert.Empty(Directory.GetFileSystemEntries(outDir, ".*"));
        Assert.Equal([2L, 4, 6], CheckpointFolders.List(outDir).Select(c => c.Step));
    }

    [Fact]
    public void Rotation_keeps_the_newest_and_the_best_checkpoint_as_transformers_does()
    {
        using var dir = new TempDir();
        foreach (var s in new[] { 1, 2, 3, 4, 5 })
        {
            Directory.CreateDirectory(CheckpointFolders.PathOf(dir.Path, s));
            File.WriteAllText(Path.Combine(CheckpointFolders.PathOf(dir.Path, s), TrainerStateFile.FileName), "{}");
        }
        var deleted = CheckpointFolders.Rotate(dir.Path, 2, CheckpointFolders.PathOf(dir.Path, 2));
        Assert.Equal([1L, 3, 4], deleted.Select(d => CheckpointFolders.StepOf(d)!.Value));
        Assert.Equal([2L, 5], CheckpointFolders.List(dir.Path).Select(c => c.Step));
        // save_total_limit 1 with a best that is not the newest keeps both.
        Assert.Empty(CheckpointFolders.Rotate(dir.Path, 1, CheckpointFolders.PathOf(dir.Path, 2)));
        Assert.Equal([2L], CheckpointFolders.Rotate(dir.Path, 1, null).Select(d => CheckpointFolders.StepOf(d)!.Value));
        Assert.Empty(CheckpointFolders.Rotate(dir.Path, null, null));
    }

    [Fact]
    public void Load_best_model_at_end_keeps_the_best_checkpoint_and_puts_its_weights_at_the_root()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        // The best model by a generative metric that peaks at step 2; checkpoints after it rotate out (limit 1).
        var gen = new StepGenerativeEvaluator(step => step == 2 ? 0.9 : 0.1);
        var args = LoopFixtures.Args(outDir) with
        {
            EvalStrategy = EvaluationStrategy.Steps, EvalSteps = 1, SaveSteps = 1, SaveTotalLimit = 1, LoadBestModelAtEnd = true, MetricForBestModel = "gen_accuracy",
        };
        var obs = new RecordingObserver();
        var result = LoopFixtures.Train(args, Train, Eval, observers: [obs], generative: gen);
        var best = CheckpointFolders.PathOf(outDir, 2);
        Assert.Equal(best, result.BestModelCheckpoint);
        Assert.Equal([2L, 6L], CheckpointFolders.List(outDir).Select(c => c.Step));
        Assert.Equal(File.ReadAllBytes(Path.Combine(best, "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(outDir, "adapter_model.safetensors")));
        var state = ReadJson(Path.Combine(outDir, TrainerStateFile.FileName));
        Assert.Equal(best, state["best_model_checkpoint"]!.GetValue<string>());
        Assert.Equal(2, state["best_global_step"]!.GetValue<long>());
        Assert.Equal(0.9, state["best_metric"]!.GetValue<double>());
        // The final evaluation is of the reloaded best model: its eval_loss is step 2's, exactly.
        Assert.Equal(7, obs.Evaluations.Count);
        Assert.Equal(obs.Evaluations[1].Metrics["eval_loss"], ReadJson(Path.Combine(outDir, "eval_results.json"))["eval_loss"]!.GetValue<double>());
        Assert.NotEqual(obs.Evaluations[5].Metrics["eval_loss"], obs.Evaluations[1].Metrics["eval_loss"]);
    }

    [Fact]
    public void A_non_finite_loss_stops_the_run_naming_the_step_and_saves_no_non_finite_weights()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var args = LoopFixtures.Args(outDir) with { LearningRate = 1e30, MaxGradNorm = null, WarmupRatio = 0, SaveSteps = 1, LrSchedulerType = LearningRateScheduleType.Constant };
        var e = Assert.Throws<NonFiniteStepException>(() => LoopFixtures.Train(args, Train));
        Assert.Contains($"training step {e.Step}", e.Message);
        Assert.True(e.Step >= 2);
        var saved = CheckpointFolders.List(outDir);
        Assert.Equal(e.Step - 1, saved[^1].Step);
        using var reader = SharpTune.Models.Safetensors.SafetensorsReader.Open(Path.Combine(saved[^1].Path, "adapter_model.safetensors"));
        Assert.All(reader.Names, n => Assert.All(reader.ReadSingles(n), v => Assert.True(float.IsFinite(v), n)));
        Assert.False(File.Exists(Path.Combine(outDir, "adapter_model.safetensors")));
    }

    [Fact]
    public void A_drift_between_first_token_and_generative_accuracy_warns_once_and_is_logged()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var gen = new FakeGenerativeEvaluator(accuracy: 1.0);   // a random model's first answer token is almost never right
        var obs = new RecordingObserver();
        var sink = new EventSink();
        LoopFixtures.Train(LoopFixtures.Args(outDir) with { EvalStrategy = EvaluationStrategy.Steps, EvalSteps = 2 }, Train, Eval,
            observers: [obs, new ReportingBridge(sink, outDir, 2)], generative: gen);
        Assert.Equal([2L, 4, 6], gen.Calls);
        // The reporting side (progress display, plots) receives the same run as its events.
        var evaluated = sink.Events.OfType<SharpTune.Training.Reporting.EvaluationCompleted>().ToList();
        Assert.Equal([2L, 4, 6], evaluated.Select(e => e.Step));
        Assert.All(evaluated, e => Assert.Equal(1.0, e.Generative!.Accuracy));
        Assert.Equal(6, sink.Events.OfType<SharpTune.Training.Reporting.StepLogged>().Count());
        Assert.Equal(SharpTune.Training.Reporting.TrainingWarningKinds.Drift, Assert.Single(sink.Events.OfType<SharpTune.Training.Reporting.TrainingWarning>()).Kind);
        Assert.Equal("completed", Assert.IsType<SharpTune.Training.Reporting.TrainingFinished>(sink.Events[^1]).Reason);
        var drift = Assert.Single(obs.Warnings);
        Assert.Equal(TrainingWarningKind.Drift, drift.Kind);
        Assert.Equal(2, drift.Step);
        Assert.Contains("generative accuracy 100.0%", drift.Message);
        Assert.All(obs.Evaluations, e => Assert.Equal(1.0, e.Metrics["eval_gen_accuracy"]));
        Assert.All(obs.Evaluations, e => Assert.Equal(0.25, e.Metrics["eval_gen_unparseable_rate"]));
        var logged = Assert.Single(ReadLog(outDir), l => l.ContainsKey("warning"));
        Assert.Equal("drift", logged["warning"]!.GetValue<string>());

        // The loop's margin is in points (drift_margin, default 10): a gap within it is no warning.
        using var dir2 = new TempDir();
        var quiet = new RecordingObserver();
        LoopFixtures.Train(LoopFixtures.Args(Path.Combine(dir2.Path, "q")) with { EvalStrategy = EvaluationStrategy.Steps, EvalSteps = 2, DriftMarginPoints = 100 }, Train, Eval,
            observers: [quiet], generative: gen);
        Assert.Empty(quiet.Warnings);
    }

    [Fact]
    public void The_overfitting_monitor_warns_once_per_metric_and_stops_only_with_stop_on_overfit()
    {
        // Thresholds every log crosses: a warning at the first log; the run goes on unless asked to stop.
        var loose = new SharpTune.Training.Reporting.OverfitThresholds { LossBelow = 100, TokenAccuracyAbove = null, EntropyBelow = 100, EpochAbove = 0 };
        using var dir = new TempDir();
        var obs = new RecordingObserver();
        var run = LoopFixtures.Train(LoopFixtures.Args(Path.Combine(dir.Path, "a")) with { Overfit = loose }, Train, observers: [obs]);
        Assert.Equal(TrainingStopReason.Completed, run.Reason);
        // Loss, entropy and epoch each cross at the first log, each reported once (not again at later logs), and logged.
        Assert.All(obs.Warnings, w => Assert.Equal(TrainingWarningKind.Overfitting, w.Kind));
        Assert.Equal(["overfit_loss", "overfit_entropy", "overfit_epoch"], obs.Warnings.Select(w => w.Name));
        Assert.All(obs.Warnings, w => Assert.Equal(1, w.Step));
        Assert.Equal(["overfit_loss", "overfit_entropy", "overfit_epoch"], ReadLog(Path.Combine(dir.Path, "a")).Where(l => l.ContainsKey("warning")).Select(l => l["warning"]!.GetValue<string>()));
        var stopped = LoopFixtures.Train(LoopFixtures.Args(Path.Combine(dir.Path, "b")) with { Overfit = loose, StopOnOverfit = true }, Train);
        Assert.Equal(TrainingStopReason.Overfitting, stopped.Reason);
        Assert.Equal(1, stopped.GlobalStep);
        Assert.Equal(CheckpointFolders.PathOf(Path.Combine(dir.Path, "b"), 1), stopped.LastCheckpoint);
    }

    [Fact]
    public void Save_strategy_epoch_and_a_last_partial_epoch()
    {
        using var dir = new TempDir();
        var outDir = Path.Combine(dir.Path, "out");
        var obs = new RecordingObserver();
        // 3 updates an epoch; 1.5 epochs → ceil(4.5) = 5 updates; epoch-end checkpoints at 3 and at 5 (the partial epoch's end).
        var result = LoopFixtures.Train(LoopFixtures.Args(outDir) with { NumTrainEpochs = 1.5, SaveStrategy = SaveStrategy.Epoch, EvalStrategy = EvaluationStrategy.Epoch }, Train, Eval, observers: [obs]);
        Assert.Equal(5, result.GlobalStep);
        Assert.Equal([3L, 5], obs.Checkpoints.Select(c => c.Step));
        Assert.Equal([3L, 5], obs.Evaluations.Select(e => e.Step));
        Assert.Equal(5.0 / 3, result.Epoch, 12);
    }
}
