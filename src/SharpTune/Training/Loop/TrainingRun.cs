using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Preprocessing;

namespace SharpTune.Training.Loop;

/// <summary>Everything a <see cref="TrainingRun"/> trains with besides its <see cref="TrainingArguments"/>.</summary>
public sealed record TrainingRunInputs
{
    /// <summary>The model, built for this run (LoRA over the frozen base, or full), sized with <see cref="TrainingRun.RequiredTokens"/>.</summary>
    public required TrainableDecoder Model { get; init; }

    /// <summary>The training samples (from the preprocessing cache).</summary>
    public required TokenizedDataset TrainSet { get; init; }

    /// <summary>The evaluation samples, or null.</summary>
    public TokenizedDataset? EvalSet { get; init; }

    /// <summary>The base model folder: its tokenizer files are copied next to every saved adapter or model; it becomes the adapter's <c>base_model_name_or_path</c>.</summary>
    public string? BaseModelPath { get; init; }

    /// <summary>Identifies the model (e.g. its path and config hash); a checkpoint of another model refuses to resume. Empty: not checked.</summary>
    public string ModelFingerprint { get; init; } = "";

    /// <summary>Identifies the training data (e.g. the preprocessing cache key); a checkpoint of other data refuses to resume. Empty: not checked.</summary>
    public string DataFingerprint { get; init; } = "";

    /// <summary>Observers (progress display, plots, tests).</summary>
    public IReadOnlyList<ITrainingObserver> Observers { get; init; } = [];

    /// <summary>The generative evaluation run beside the teacher-forced one, or null.</summary>
    public IGenerativeEvaluator? GenerativeEvaluator { get; init; }

    /// <summary>The run's prompt settings (template text resolved), written as <c>prompt_settings.json</c> at the root of output_dir and into every checkpoint, or null.</summary>
    public PromptSettings? PromptSettings { get; init; }

    /// <summary>The <c>cutoff_len</c> the samples were cut to, recorded in <c>prompt_settings.json</c> (null: not recorded).</summary>
    public int? CutoffLen { get; init; }

    /// <summary>The <c>truncation</c> policy the samples were cut with, recorded in <c>prompt_settings.json</c> (null: not recorded).</summary>
    public TruncationMode? Truncation { get; init; }

    /// <summary>The label names (<c>generative_eval.labels</c>), recorded in <c>prompt_settings.json</c> so inference extracts answers to them (null: none).</summary>
    public IReadOnlyList<string>? LabelNames { get; init; }

    /// <summary>What <c>prompt_settings.json</c> holds, or null without <see cref="PromptSettings"/>.</summary>
    public RunPromptSettings? SavedPromptSettings =>
        PromptSettings is { } p ? new RunPromptSettings { Prompt = p, CutoffLen = CutoffLen, Truncation = Truncation, Labels = LabelNames } : null;

    /// <summary>The clock of <c>max_time</c>, elapsed times and throughput.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Called with a checkpoint's temporary folder once its files are written, before it is renamed into place (tests fail it to simulate a crash).</summary>
    public Action<string>? BeforeCheckpointCommit { get; init; }
}

/// <summary>
/// The training loop of <c>sharptune train</c>: transformers' <c>Trainer._inner_training_loop</c> as documented in
/// docs/training-loop.md — the epoch order from <see cref="EpochSampler"/>, right-padded micro-batches, one
/// <see cref="Trainer.Step"/> per update over <c>gradient_accumulation_steps</c> micro-batches (fewer for the last
/// incomplete accumulation of an epoch), logging, teacher-forced and generative evaluation, checkpoints with
/// rotation, the best model, <c>max_time</c>, cancellation, resume and the final outputs in <c>output_dir</c>.
/// </summary>
public sealed class TrainingRun
{
    /// <summary>train_results.json's count of right-padding positions in the training batches.</summary>
    public const string PaddingTokensKey = "num_padding_tokens";

    /// <summary>train_results.json's share of padding among all positions of the training batches: padding / (padding + num_input_tokens_seen).</summary>
    public const string PaddingRatioKey = "padding_ratio";

    /// <summary>The log LLaMA-Factory's LogCallback writes (one JSON object a line).</summary>
    public const string TrainerLogFile = "trainer_log.jsonl";

    /// <summary>The loop's own resumable state in each checkpoint (fingerprints, data position, RNG, pending log window).</summary>
    public const string RunStateFile = "training_run.json";

    /// <summary>The schedule's state in each checkpoint (transformers keeps it in scheduler.pt).</summary>
    public const string SchedulerFile = "scheduler.json";

    /// <summary>Tokenizer and generation files copied from the base model folder next to every saved adapter or model.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json", "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json"];

    private readonly TrainingArguments _args;
    private readonly TrainingRunInputs _in;
    private readonly TrainingPlan _plan;
    private readonly Reporting.DriftMonitor _drift;
    private readonly Reporting.OverfitMonitor _overfit;
    private readonly List<double> _stepLosses = [];
    private TrainerStateFile _state = new();
    private Trainer? _trainer;
    private long _startTimestamp, _sessionStartStep, _sessionTokens;
    // Right padding of the training micro-batches since the run began (kept across resumption): positions a padded
    // batch holds beyond its samples' tokens. The engine skips them; the figure says how well batches are packed.
    private long _paddingTokens;
    // The logging window (transformers' tr_loss between two logs) and the run's sum of step losses.
    private long _windowSteps;
    private double _windowLoss, _windowAccuracy, _windowEntropy, _totalLoss, _lastGradNorm, _lastLearningRate;
    private long _lastEvalStep = -1, _lastSavedStep = -1;
    private string? _lastCheckpoint;
    private IReadOnlyDictionary<string, double>? _lastEval;
    private bool _stopForOverfit;

    /// <summary>Sets up a run; nothing is read or written until <see cref="Run"/>.</summary>
    public TrainingRun(TrainingArguments args, TrainingRunInputs inputs)
    {
        args.Validate();
        if (args.EvalStrategy != EvaluationStrategy.No && inputs.EvalSet is not { Count: > 0 })
            throw new UserException($"eval_strategy is {args.EvalStrategy.ToString().ToLowerInvariant()} but there is no evaluation set (set eval_dataset or val_size, or eval_strategy: no)");
        _args = args;
        _in = inputs;
        _plan = TrainingPlan.Create(inputs.TrainSet.Count, args);
        _drift = new Reporting.DriftMonitor(args.DriftMarginPoints);
        _overfit = new Reporting.OverfitMonitor(args.Overfit);
    }

    /// <summary>The step arithmetic of this run.</summary>
    public TrainingPlan Plan => _plan;

    /// <summary>
    /// The <see cref="TrainingOptions.MaxTokens"/> a model needs for <paramref name="args"/>: the longest possible
    /// training micro-batch (the sum of the longest per_device_train_batch_size lengths) or evaluation batch.
    /// </summary>
    public static int RequiredTokens(TokenizedDataset train, TokenizedDataset? eval, TrainingArguments args)
    {
        int n = TrainingPlan.MaxBatchTokens(Enumerable.Range(0, train.Count).Select(train.Length), args.PerDeviceTrainBatchSize);
        if (eval is { Count: > 0 }) n = Math.Max(n, TrainingPlan.MaxBatchTokens(Enumerable.Range(0, eval.Count).Select(eval.Length), args.PerDeviceEvalBatchSize));
        return n;
    }

    /// <summary>
    /// Trains. Returns when every update is done, <c>max_time</c> ran out, <paramref name="cancellation"/> was
    /// cancelled (after finishing the current update) or the overfitting monitor stopped the run — in each case with a
    /// checkpoint written. A non-finite loss or gradient norm throws <see cref="NonFiniteStepException"/> naming the
    /// step; nothing is saved after it.
    /// </summary>
    public TrainingRunResult Run(CancellationToken cancellation = default)
    {
        var args = _args;
        string? resume = PrepareOutputDir();
        var schedule = _plan.Schedule(args.LrSchedulerType);
        using var trainer = new Trainer(_in.Model, args.ToOptimizer(), schedule, args.Seed);
        _trainer = trainer;
        _state = new TrainerStateFile
        {
            MaxSteps = _plan.MaxSteps, NumTrainEpochs = _plan.Epochs, LoggingSteps = _plan.LoggingSteps, EvalSteps = _plan.EvalSteps,
            SaveSteps = _plan.SaveSteps, TrainBatchSize = args.PerDeviceTrainBatchSize,
        };
        if (resume is not null) Resume(resume, trainer);

        var sampler = new EpochSampler(Enumerable.Range(0, _in.TrainSet.Count).Select(_in.TrainSet.Length).ToArray(), EpochSampler.OrderOf(args), args.Seed, args.PerDeviceTrainBatchSize);
        _startTimestamp = _in.Clock.GetTimestamp();
        _sessionStartStep = _state.GlobalStep;
        foreach (var o in _in.Observers) o.OnTrainBegin(new TrainingStart(_plan, _state.GlobalStep, resume, _in.TrainSet.Count, _in.EvalSet?.Count ?? 0));

        TrainingStopReason? stop = _state.GlobalStep >= _plan.MaxSteps ? TrainingStopReason.Completed : null;
        var (startEpoch, startUpdate) = _plan.Position(_state.GlobalStep);
        var updates = _plan.UpdatesOfEpoch();
        for (int epoch = startEpoch; epoch < _plan.Epochs && stop is null; epoch++)
        {
            var order = sampler.EpochOrder(epoch);
            for (int u = epoch == startEpoch ? startUpdate : 0; u < updates.Count; u++)
            {
                var (first, count) = updates[u];
                var micro = new TrainingBatch[count];
                for (int m = 0; m < count; m++) micro[m] = MicroBatch(order, first + m);
                double flops = 0;
                foreach (var b in micro) flops += _in.Model.StepFlops(b);
                var r = trainer.Step(micro);
                AfterStep(r, _plan.EpochProgress(epoch, first + count), flops);

                // transformers' order at a step end: log, evaluate, save; the stop flags are checked after them.
                if (_state.GlobalStep % _plan.LoggingSteps == 0) LogTraining();
                if (args.EvalStrategy == EvaluationStrategy.Steps && _state.GlobalStep % _plan.EvalSteps == 0) Evaluate();
                bool done = _state.GlobalStep >= _plan.MaxSteps;
                if (args.SaveStrategy == SaveStrategy.Steps && (_state.GlobalStep % _plan.SaveSteps == 0 || done)) SaveCheckpoint();
                stop = done ? TrainingStopReason.Completed
                    : _stopForOverfit ? TrainingStopReason.Overfitting
                    : cancellation.IsCancellationRequested ? TrainingStopReason.Cancelled
                    : args.MaxTime is { } budget && _in.Clock.GetElapsedTime(_startTimestamp) >= budget ? TrainingStopReason.TimeBudget
                    : null;
                if (stop is not null) break;
            }
            if (stop is null or TrainingStopReason.Completed)
            {
                // on_epoch_end: epoch strategies (also after the last, partial epoch of a fractional num_train_epochs).
                if (args.EvalStrategy == EvaluationStrategy.Epoch) Evaluate();
                if (args.SaveStrategy == SaveStrategy.Epoch) SaveCheckpoint();
            }
            if (stop is null && _state.GlobalStep >= _plan.MaxSteps) stop = TrainingStopReason.Completed;
        }
        stop ??= TrainingStopReason.Completed;
        return Finish(stop.Value, cancellation);
    }

    private TrainingBatch MicroBatch(int[] order, int microBatch)
    {
        int start = microBatch * _args.PerDeviceTrainBatchSize, count = Math.Min(_args.PerDeviceTrainBatchSize, order.Length - start);
        var padded = BatchCollator.Collate(_in.TrainSet, new ArraySegment<int>(order, start, count), _args.PadTokenId);
        var batch = TrainingBatch.FromPadded(padded.InputIds, padded.Labels, padded.AttentionMask, _in.Model.Config.VocabSize, "training batch");
        _paddingTokens += (long)batch.Sequences * batch.PaddedLength - batch.Tokens;
        return batch;
    }

    private double Elapsed => _in.Clock.GetElapsedTime(_startTimestamp).TotalSeconds;

    private double Remaining
    {
        get
        {
            long done = _state.GlobalStep - _sessionStartStep;
            return done > 0 ? Elapsed / done * (_plan.MaxSteps - _state.GlobalStep) : 0;
        }
    }

    private double Throughput => Elapsed > 0 ? _sessionTokens / Elapsed : 0;

    private void AfterStep(StepResult r, double epoch, double flops)
    {
        _state.GlobalStep = r.Step;
        _state.Epoch = epoch;
        _state.NumInputTokensSeen += r.Tokens;
        _state.TotalFlos += flops;
        _sessionTokens += r.Tokens;
        _stepLosses.Add(r.Loss);
        _windowSteps++;
        _windowLoss += r.Loss;
        _windowAccuracy += r.TokenAccuracy;
        _windowEntropy += r.Entropy;
        _totalLoss += r.Loss;
        _lastGradNorm = r.GradNorm;
        _lastLearningRate = r.LearningRate;
        var report = new StepReport(r, _plan.MaxSteps, epoch, Elapsed, Remaining, Throughput, _state.NumInputTokensSeen);
        foreach (var o in _in.Observers) o.OnStep(report);
    }

    private void LogTraining()
    {
        if (_windowSteps == 0) return;
        double loss = _windowLoss / _windowSteps, accuracy = _windowAccuracy / _windowSteps, entropy = _windowEntropy / _windowSteps;
        var raised = _overfit.Observe(new Reporting.StepLogged(_state.GlobalStep, _plan.MaxSteps, _state.Epoch, loss, accuracy, entropy, _lastLearningRate,
            _lastGradNorm, _state.NumInputTokensSeen, Throughput, TimeSpan.FromSeconds(Elapsed)));
        _windowSteps = 0;
        _windowLoss = _windowAccuracy = _windowEntropy = 0;
        AddLog([new("loss", loss), new("grad_norm", _lastGradNorm), new("learning_rate", _lastLearningRate), new("token_accuracy", accuracy), new("entropy", entropy)]);
        // Each metric crossing its threshold is reported once (logged to trainer_log.jsonl); only stop_on_overfit stops.
        foreach (var w in raised)
        {
            Warn(new TrainingWarning(TrainingWarningKind.Overfitting, w.Step, w.Message) { Name = w.Kind });
            if (_args.StopOnOverfit) _stopForOverfit = true;
        }
    }

    private void AddLog(IReadOnlyList<KeyValuePair<string, double>> values)
    {
        var entry = new TrainingLogEntry(_state.GlobalStep, _plan.MaxSteps, _state.Epoch, values, Elapsed, Remaining, _state.NumInputTokensSeen, Throughput);
        _state.LogHistory.Add(entry.ToHistoryEntry());
        AppendTrainerLog(entry.ToTrainerLogLine());
        foreach (var o in _in.Observers) o.OnLog(entry);
    }

    private void Warn(TrainingWarning warning)
    {
        AppendTrainerLog(new JsonObject
        {
            ["current_steps"] = warning.Step, ["total_steps"] = _plan.MaxSteps, ["epoch"] = _state.Epoch,
            ["warning"] = warning.Name, ["message"] = warning.Message,
        });
        foreach (var o in _in.Observers) o.OnWarning(warning);
    }

    private void AppendTrainerLog(JsonObject line) =>
        File.AppendAllText(Path.Combine(_args.OutputDir, TrainerLogFile), line.ToJsonString() + "\n");

    /// <summary>Teacher-forced and generative evaluation of the live model; updates the best metric.</summary>
    private void Evaluate()
    {
        if (_in.EvalSet is not { Count: > 0 } eval) return;
        var clock = _in.Clock.GetTimestamp();
        var tf = TeacherForcedEvaluation.Run(_in.Model, eval, _args.PerDeviceEvalBatchSize, _args.PadTokenId);
        var values = new List<KeyValuePair<string, double>>
        {
            new("eval_loss", tf.Loss), new("eval_token_accuracy", tf.TokenAccuracy), new("eval_entropy", tf.Entropy),
        };
        if (tf.FirstTokenAccuracy is double fa) values.Add(new("eval_first_token_accuracy", fa));
        double? generativeAccuracy = null;
        if (_in.GenerativeEvaluator is { } gen)
            foreach (var (name, score) in gen.Evaluate(_in.Model, _state.GlobalStep, CancellationToken.None))
            {
                values.Add(new(GenerativeMetrics.LogPrefix + name, score));
                if (name == GenerativeMetrics.Accuracy) generativeAccuracy = score;
            }
        double runtime = _in.Clock.GetElapsedTime(clock).TotalSeconds;
        int evalBatches = (eval.Count + _args.PerDeviceEvalBatchSize - 1) / _args.PerDeviceEvalBatchSize;
        values.Add(new("eval_runtime", Math.Round(runtime, 4)));
        values.Add(new("eval_samples_per_second", runtime > 0 ? Math.Round(eval.Count / runtime, 3) : 0));
        values.Add(new("eval_steps_per_second", runtime > 0 ? Math.Round(evalBatches / runtime, 3) : 0));
        _lastEvalStep = _state.GlobalStep;
        var metrics = values.ToDictionary(kv => kv.Key, kv => kv.Value);
        _lastEval = metrics;

        // transformers' _determine_best_metric (only with metric_for_best_model, which load_best_model_at_end defaults to loss).
        bool tracked = _args.LoadBestModelAtEnd || _args.MetricForBestModel is not null;
        if (tracked && metrics.TryGetValue(_args.BestMetricKey, out var value))
        {
            bool better = _state.BestMetric is not double best || (_args.BestIsGreater ? value > best : value < best);
            if (better)
            {
                _state.BestMetric = value;
                _state.BestGlobalStep = _state.GlobalStep;
            }
        }
        else if (tracked)
            throw new UserException($"metric_for_best_model: '{_args.BestMetricKey}' is not an evaluation metric; the metrics are {string.Join(", ", metrics.Keys)}");

        AddLog(values);
        var report = new EvaluationReport(_state.GlobalStep, _state.Epoch, metrics);
        foreach (var o in _in.Observers) o.OnEvaluate(report);
        if (_drift.Check(_state.GlobalStep, tf.FirstTokenAccuracy, generativeAccuracy) is { } drift)
            Warn(new TrainingWarning(TrainingWarningKind.Drift, drift.Step, drift.Message) { Name = drift.Kind });
    }

    /// <summary>Writes checkpoint-N (atomically), then rotates.</summary>
    private void SaveCheckpoint()
    {
        if (_lastSavedStep == _state.GlobalStep) return;
        var clock = _in.Clock.GetTimestamp();
        var path = CheckpointFolders.PathOf(_args.OutputDir, _state.GlobalStep);
        // The best checkpoint becomes known once its folder exists (transformers sets it in _save_checkpoint).
        if (_state.BestGlobalStep is long bestStep && (bestStep == _state.GlobalStep || Directory.Exists(CheckpointFolders.PathOf(_args.OutputDir, bestStep))))
            _state.BestModelCheckpoint = CheckpointFolders.PathOf(_args.OutputDir, bestStep);
        AtomicDirectory.Replace(path, tmp =>
        {
            WriteModel(tmp, checkpoint: true);
            SafeWrite(Path.Combine(tmp, SchedulerFile), SchedulerJson());
            SafeWrite(Path.Combine(tmp, RunStateFile), RunStateJson());
            if (_in.SavedPromptSettings is { } prompt) PromptSettingsFile.Write(Path.Combine(tmp, PromptSettingsFile.FileName), prompt);
            _state.Save(Path.Combine(tmp, TrainerStateFile.FileName));
            _in.BeforeCheckpointCommit?.Invoke(tmp);
        });
        double seconds = _in.Clock.GetElapsedTime(clock).TotalSeconds;   // the write alone, rotation apart
        _lastSavedStep = _state.GlobalStep;
        _lastCheckpoint = path;
        var deleted = CheckpointFolders.Rotate(_args.OutputDir, _args.SaveTotalLimit, _state.BestModelCheckpoint);
        var report = new CheckpointReport(_state.GlobalStep, path, seconds, deleted);
        foreach (var o in _in.Observers) o.OnCheckpoint(report);
    }

    private static void SafeWrite(string path, string text) => AtomicFile.WriteAllText(path, text);

    /// <summary>The trainable weights (PEFT adapter or Hugging Face model folder) and the tokenizer files; in a checkpoint also the optimizer state.</summary>
    private void WriteModel(string folder, bool checkpoint)
    {
        var model = _in.Model;
        if (checkpoint) TrainingCheckpoint.WriteInto(folder, _trainer!, _in.BaseModelPath);
        else if (model.Mode == FineTuningMode.Lora)
        {
            // PEFT's files are staged in a registered temporary folder and moved into place in one commit: an interrupt
            // removes the staging folder and never leaves one file new and the other old; a killed run's is swept.
            var staged = TemporaryOutputs.Begin(Path.Combine(folder, "adapter"));
            try
            {
                PeftAdapter.Save(staged, model.ExportAdapter(), _in.BaseModelPath);
                var files = Directory.GetFiles(staged);
                var finals = files.Select(f => Path.Combine(folder, Path.GetFileName(f))).ToArray();
                TemporaryOutputs.Commit([staged], finals, () =>
                {
                    for (int i = 0; i < files.Length; i++) File.Move(files[i], finals[i], overwrite: true);
                    Directory.Delete(staged);
                });
            }
            catch
            {
                TemporaryOutputs.Discard(staged);
                throw;
            }
        }
        else
        {
            ModelConfigJson.Save(Path.Combine(folder, "config.json"), model.Config);
            SafetensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.ModelFile), model.ExportParameters(), new Dictionary<string, string> { ["format"] = "pt" });
        }
        if (_in.BaseModelPath is { } basePath && Directory.Exists(basePath))
        {
            var names = model.Mode == FineTuningMode.Full ? TokenizerFiles.Append("generation_config.json") : TokenizerFiles;
            foreach (var name in names)
                if (File.Exists(Path.Combine(basePath, name)))
                    AtomicFile.WriteAllBytes(Path.Combine(folder, name), File.ReadAllBytes(Path.Combine(basePath, name)));
        }
    }

    private string SchedulerJson()
    {
        var s = _trainer!.Schedule;
        return new JsonObject
        {
            ["type"] = s.Type.ToString().ToLowerInvariant(), ["warmup_steps"] = s.WarmupSteps, ["total_steps"] = s.TotalSteps,
            ["last_epoch"] = _state.GlobalStep, ["base_lr"] = _args.LearningRate, ["last_lr"] = _lastLearningRate,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private string RunStateJson()
    {
        var (epoch, update) = _plan.Position(_state.GlobalStep);
        return new JsonObject
        {
            ["format_version"] = 1,
            ["model"] = _in.ModelFingerprint,
            ["data"] = _in.DataFingerprint,
            ["train_samples"] = _in.TrainSet.Count,
            ["per_device_train_batch_size"] = _args.PerDeviceTrainBatchSize,
            ["gradient_accumulation_steps"] = _args.GradientAccumulationSteps,
            ["sample_order"] = EpochSampler.OrderOf(_args).ToString().ToLowerInvariant(),
            ["seed"] = _args.Seed,
            ["global_step"] = _state.GlobalStep,
            // The data position: the next update starts at micro-batch update·accumulation of this epoch's order.
            ["data_position"] = new JsonObject { ["epoch"] = epoch, ["update_in_epoch"] = update, ["micro_batch_in_epoch"] = update * _args.GradientAccumulationSteps },
            // RNG: the epoch permutations and LoRA dropout masks are functions of (seed, epoch) and (seed, step, micro-batch); nothing else is random.
            ["rng"] = new JsonObject { ["seed"] = _args.Seed, ["generator"] = "splitmix64", ["dropout"] = "counter-based hash of (seed, step, micro-batch, layer, projection, element)" },
            ["log_window"] = new JsonObject { ["steps"] = _windowSteps, ["loss_sum"] = _windowLoss, ["token_accuracy_sum"] = _windowAccuracy, ["entropy_sum"] = _windowEntropy },
            ["total_loss_sum"] = _totalLoss,
            ["padding_tokens"] = _paddingTokens,
            ["last_grad_norm"] = _lastGradNorm,
            ["last_learning_rate"] = _lastLearningRate,
            ["last_eval_step"] = _lastEvalStep,
            ["drift_warned"] = _drift.Warned,
            ["overfit_raised"] = new JsonArray(_overfit.RaisedKinds.Order(StringComparer.Ordinal).Select(k => (JsonNode)k).ToArray()),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Checks output_dir and resolves the checkpoint to resume from (null: a fresh run).</summary>
    private string? PrepareOutputDir()
    {
        var dir = _args.OutputDir;
        if (File.Exists(dir)) throw new UserException($"{dir}: output_dir is a file (expected a folder)");
        string? resume = _args.ResumeFromCheckpoint;
        if (_args.ResumeFromLatest)
            resume = CheckpointFolders.Latest(dir) ?? throw new UserException($"{dir}: resume_from_checkpoint is true but output_dir holds no complete checkpoint-N folder");
        if (resume is not null && !File.Exists(Path.Combine(resume, TrainerStateFile.FileName)))
            throw new UserException($"{resume}: resume_from_checkpoint is not a checkpoint folder ({TrainerStateFile.FileName} is missing)");
        bool nonEmpty = Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any();
        if (nonEmpty && resume is null && !_args.OverwriteOutputDir)
            throw new UserException($"{dir}: output_dir is not empty; set overwrite_output_dir: true to train into it again, or resume_from_checkpoint to continue the run in it (nothing was deleted)");
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserException($"{dir}: output_dir is not writable ({e.Message})", e);
        }
        // A killed run's unfinished outputs (checkpoint-N or adapter temporaries of a process that is gone) go first.
        CheckpointFolders.RemoveStale(dir);
        if (nonEmpty && resume is null)
        {
            // overwrite_output_dir: the earlier run's checkpoints and logs would mix with this one's; they go.
            foreach (var (_, path) in CheckpointFolders.List(dir)) Directory.Delete(path, recursive: true);
            foreach (var f in new[] { TrainerLogFile, TrainerStateFile.FileName, "train_results.json", "eval_results.json", "all_results.json" })
                File.Delete(Path.Combine(dir, f));
        }
        return resume;
    }

    /// <summary>Restores the weights, optimizer, schedule position, trainer state and log window from <paramref name="path"/>.</summary>
    private void Resume(string path, Trainer trainer)
    {
        var runPath = Path.Combine(path, RunStateFile);
        if (!File.Exists(runPath)) throw new UserException($"{path}: not a checkpoint of sharptune train ({RunStateFile} is missing)");
        JsonObject run;
        try { run = JsonNode.Parse(File.ReadAllBytes(runPath))?.AsObject() ?? throw new JsonException("not an object"); }
        catch (JsonException e) { throw new UserException($"{runPath}: malformed ({e.Message})", e); }
        void Same<T>(string key, T ours, string what)
        {
            T? theirs;
            try { theirs = run[key] is { } node ? node.GetValue<T>() : default; }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw new UserException($"{runPath}: '{key}' is malformed", e); }
            if (!EqualityComparer<T>.Default.Equals(theirs, ours))
                throw new UserException($"{path}: resume_from_checkpoint: the checkpoint was trained with {what} {theirs} but this run has {ours}; resuming would not continue the same run");
        }
        if (_in.ModelFingerprint.Length > 0 && run["model"]?.GetValue<string>() is { Length: > 0 } m && m != _in.ModelFingerprint)
            throw new UserException($"{path}: resume_from_checkpoint: the checkpoint is of another model ({m}) than this run's ({_in.ModelFingerprint})");
        if (_in.DataFingerprint.Length > 0 && run["data"]?.GetValue<string>() is { Length: > 0 } d && d != _in.DataFingerprint)
            throw new UserException($"{path}: resume_from_checkpoint: the checkpoint was trained on other data (dataset fingerprint {d}) than this run's ({_in.DataFingerprint})");
        Same("train_samples", _in.TrainSet.Count, "training samples");
        Same("per_device_train_batch_size", _args.PerDeviceTrainBatchSize, "per_device_train_batch_size");
        Same("gradient_accumulation_steps", _args.GradientAccumulationSteps, "gradient_accumulation_steps");
        Same("sample_order", EpochSampler.OrderOf(_args).ToString().ToLowerInvariant(), "sample order (disable_shuffling / group_by_length)");
        Same("seed", _args.Seed, "seed");

        long step = TrainingCheckpoint.Load(path, trainer);
        var saved = TrainerStateFile.Load(Path.Combine(path, TrainerStateFile.FileName));
        if (saved.GlobalStep != step) throw new UserException($"{path}: {TrainerStateFile.FileName} says global_step {saved.GlobalStep} but the optimizer state is at step {step}");
        _state.GlobalStep = step;
        _state.Epoch = saved.Epoch;
        _state.NumInputTokensSeen = saved.NumInputTokensSeen;
        _state.TotalFlos = saved.TotalFlos;
        _state.BestMetric = saved.BestMetric;
        _state.BestGlobalStep = saved.BestGlobalStep;
        _state.BestModelCheckpoint = saved.BestModelCheckpoint;
        _state.LogHistory.AddRange(saved.LogHistory);
        try
        {
            var w = run["log_window"]!.AsObject();
            _windowSteps = w["steps"]!.GetValue<long>();
            _windowLoss = w["loss_sum"]!.GetValue<double>();
            _windowAccuracy = w["token_accuracy_sum"]!.GetValue<double>();
            _windowEntropy = w["entropy_sum"]!.GetValue<double>();
            _totalLoss = run["total_loss_sum"]!.GetValue<double>();
            _paddingTokens = run["padding_tokens"]?.GetValue<long>() ?? 0;   // absent in checkpoints written before it was counted
            _lastGradNorm = run["last_grad_norm"]!.GetValue<double>();
            _lastLearningRate = run["last_learning_rate"]!.GetValue<double>();
            _lastEvalStep = run["last_eval_step"]!.GetValue<long>();
            if (run["drift_warned"]!.GetValue<bool>()) _drift.MarkWarned();
            if (run["overfit_raised"] is JsonArray raised) _overfit.MarkRaised(raised.Select(k => k!.GetValue<string>()));
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new UserException($"{runPath}: malformed loop state ({e.Message})", e);
        }
        _lastSavedStep = step;
        _lastCheckpoint = path;
        // trainer_log.jsonl keeps what was logged up to the checkpoint; later lines (of the interrupted run) go.
        var log = Path.Combine(_args.OutputDir, TrainerLogFile);
        if (File.Exists(log))
        {
            var keep = File.ReadAllLines(log).Where(l =>
            {
                try { return JsonNode.Parse(l)?["current_steps"]?.GetValue<long>() is long s && s <= step; }
                catch (JsonException) { return false; }
            });
            AtomicFile.WriteText(log, w => { foreach (var l in keep) w.WriteLine(l); });
        }
    }

    /// <summary>After the last update: the stop checkpoint, the best model, final metrics and evaluation, and the root outputs.</summary>
    private TrainingRunResult Finish(TrainingStopReason reason, CancellationToken cancellation)
    {
        var args = _args;
        if (_lastSavedStep != _state.GlobalStep && (reason != TrainingStopReason.Completed || args.SaveStrategy != SaveStrategy.No) && _state.GlobalStep > 0)
            SaveCheckpoint();
        if (reason != TrainingStopReason.Cancelled && args.LoadBestModelAtEnd && _state.BestModelCheckpoint is { } best && Directory.Exists(best)
            && !CheckpointFolders.SameFolder(best, CheckpointFolders.PathOf(args.OutputDir, _state.GlobalStep)))
        {
            // transformers' _load_best_model: the weights (and here the optimizer state) of the best checkpoint.
            TrainingCheckpoint.Load(best, _trainer!);
            _lastEvalStep = -1;
        }

        // transformers' final metrics (speed_metrics("train", …), total_flos, train_loss).
        double runtime = Elapsed;
        double samples = args.MaxSteps > 0 ? (double)_plan.MaxSteps * args.PerDeviceTrainBatchSize * args.GradientAccumulationSteps : _in.TrainSet.Count * args.NumTrainEpochs;
        double trainLoss = _state.GlobalStep > 0 ? _totalLoss / _state.GlobalStep : 0;
        var train = new List<KeyValuePair<string, double>>
        {
            new("train_runtime", Math.Round(runtime, 4)),
            new("train_samples_per_second", runtime > 0 ? Math.Round(samples / runtime, 3) : 0),
            new("train_steps_per_second", runtime > 0 ? Math.Round(_plan.MaxSteps / runtime, 3) : 0),
            new("total_flos", _state.TotalFlos),
            new("train_loss", trainLoss),
        };
        AddLog(train);
        var trainMetrics = train.ToDictionary(kv => kv.Key, kv => kv.Value);
        trainMetrics["epoch"] = _state.Epoch;
        trainMetrics["num_input_tokens_seen"] = _state.NumInputTokensSeen;
        // The right padding of the training batches: padded positions and their share of all positions.
        trainMetrics[PaddingTokensKey] = _paddingTokens;
        trainMetrics[PaddingRatioKey] = _paddingTokens + _state.NumInputTokensSeen > 0 ? (double)_paddingTokens / (_paddingTokens + _state.NumInputTokensSeen) : 0;

        IReadOnlyDictionary<string, double>? evalMetrics = null;
        if (_in.EvalSet is { Count: > 0 } && reason is TrainingStopReason.Completed or TrainingStopReason.Overfitting)
        {
            if (_lastEvalStep != _state.GlobalStep) Evaluate();
            evalMetrics = new Dictionary<string, double>(_lastEval!) { ["epoch"] = _state.Epoch };
        }

        var dir = args.OutputDir;
        if (reason != TrainingStopReason.Cancelled)
        {
            WriteModel(dir, checkpoint: false);
            if (_in.SavedPromptSettings is { } prompt) PromptSettingsFile.Write(Path.Combine(dir, PromptSettingsFile.FileName), prompt);
        }
        _state.Save(Path.Combine(dir, TrainerStateFile.FileName));
        WriteMetrics(Path.Combine(dir, "train_results.json"), trainMetrics);
        if (evalMetrics is not null) WriteMetrics(Path.Combine(dir, "eval_results.json"), evalMetrics);
        var all = new Dictionary<string, double>(trainMetrics);
        if (evalMetrics is not null) foreach (var (k, v) in evalMetrics) all[k] = v;
        WriteMetrics(Path.Combine(dir, "all_results.json"), all);

        var bytes = _in.Model.Bytes;
        double rss = ProcessMemory.PeakRssMiB();
        var result = new TrainingRunResult(reason, _state.GlobalStep, _plan.MaxSteps, _state.Epoch, trainLoss, _lastCheckpoint, _state.BestModelCheckpoint, dir,
            trainMetrics, evalMetrics, _stepLosses.ToArray())
        {
            Memory = new TrainingMemory(_in.Model.BaseWeightBytes, bytes.Parameters + bytes.Gradients, _trainer!.Optimizer.Bytes, bytes.Activations,
                double.IsFinite(rss) ? (long)(rss * 1024 * 1024) : 0),
        };
        foreach (var o in _in.Observers) o.OnTrainEnd(result);
        return result;
    }

    /// <summary>transformers' <c>save_metrics</c>: <c>json.dumps(metrics, indent=4, sort_keys=True)</c>.</summary>
    private static void WriteMetrics(string path, IReadOnlyDictionary<string, double> metrics)
    {
        var o = new JsonObject(metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        AtomicFile.WriteAllText(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 4 }));
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
