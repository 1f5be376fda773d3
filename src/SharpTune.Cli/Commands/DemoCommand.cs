using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Data;
using SharpTune.Data.Behaviours;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Sft;
using SharpTune.Data.Synthetic;
using SharpTune.Engine;
using SharpTune.Evaluation;
using SharpTune.Evaluation.Baselines;
using SharpTune.Evaluation.Report;
using SharpTune.Evaluation.Sanity;
using SharpTune.Inference;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Numerics;
using SharpTune.Preprocessing;
using SharpTune.Text.Tokenization;
using SharpTune.Training.Configuration;
using SharpTune.Training.Loop;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune demo</c>: the whole fine-tuning pipeline on built-in data, as named stages that share a context —
/// synthetic MovieLens, preparation, a tokenizer, a tiny model, length statistics, preprocessing with the masking
/// audit, <c>train</c> on a written LLaMA-Factory config, <c>infer</c> on the test split with the run's prompt
/// settings, <c>eval</c>, <c>baselines</c> and the comparison, a behaviour run scored by <c>sanity</c>, and the
/// report. Each stage calls the library entry points its verb calls; every size is in <see cref="DemoSettings"/>.
/// Design: docs/demo.md.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The labels of the MovieLens task.</summary>
    private static readonly string[] Labels = ["Yes", "No"];

    /// <summary>The rules the behaviour run is scored on (a repository file).</summary>
    public const string SanityRules = "examples/sanity/compliments_refusals.yaml";

    /// <summary>Generative accuracy must beat the majority baseline by this many points for the demo to call it a success.</summary>
    public const double RequiredMarginPoints = 3;

    /// <summary>State passed from stage to stage.</summary>
    internal sealed class DemoContext(string outDir, ulong seed, DemoSettings settings, TextWriter output, TextWriter error)
    {
        public string OutDir { get; } = outDir;
        public ulong Seed { get; } = seed;
        public DemoSettings Settings { get; } = settings;
        public TextWriter Out { get; } = output;
        public TextWriter Error { get; } = error;
        public string DataDir => Path.Combine(OutDir, "data");
        public string DatasetDir => Path.Combine(OutDir, "dataset");
        public string TokenizerDir => Path.Combine(OutDir, "tokenizer");
        public string ModelDir => Path.Combine(OutDir, "model");
        public string CacheDir => Path.Combine(OutDir, "cache");
        public string TrainConfigPath => Path.Combine(OutDir, "train.yaml");
        public string TrainDir => Path.Combine(OutDir, "train");
        public string PredictionsPath => Path.Combine(OutDir, "predictions.jsonl");
        public string EvalPath => Path.Combine(OutDir, "eval.json");
        public string BaselinesPath => Path.Combine(OutDir, "baselines.json");
        public string BehavioursDir => Path.Combine(OutDir, "behaviours");
        public string BehavioursData => Path.Combine(BehavioursDir, "behaviours.jsonl");
        public string BehavioursConfigPath => Path.Combine(BehavioursDir, "train.yaml");
        public string BehavioursTrainDir => Path.Combine(BehavioursDir, "train");
        public string SanityDir => Path.Combine(BehavioursDir, "sanity");
        public SyntheticMovieLensResult? Data { get; set; }
        public TrainConfig? Config { get; set; }
        public ResolvedDatasets? Datasets { get; set; }
        public SharpTune.Evaluation.EvaluationReport? Eval { get; set; }
        public BaselineReport? Baselines { get; set; }
        public SanityReport? Sanity { get; set; }

        /// <summary>How the dataset_info.json entry <paramref name="name"/> reads its file (as training does).</summary>
        public DatasetDescription Description(string name) =>
            DatasetInfo.Load(Path.Combine(DatasetDir, MovieLensDatasetInfo.FileName)).Get(name).Description!;
    }

    /// <summary>One step of the demo.</summary>
    internal sealed record DemoStage(string Name, string What, Action<DemoContext> Run);

    /// <summary>The stages, in order.</summary>
    internal static readonly IReadOnlyList<DemoStage> Stages =
    [
        new("data", "generate the built-in synthetic MovieLens", c =>
        {
            var s = c.Settings;
            c.Data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions
            {
                OutputDirectory = c.DataDir, Seed = c.Seed, Users = s.Users, Movies = s.Movies, RatingsPerUserMin = s.RatingsPerUserMin,
            });
            c.Out.WriteLine($"  {c.Data.Ratings:N0} ratings by {c.Data.Users:N0} users on {c.Data.Movies:N0} movies in {c.DataDir}");
        }),
        new("prepare", "turn the ratings into Yes/No SFT records and a dataset_info.json naming the splits", c =>
        {
            var prepared = MovieLensPreparer.Prepare(new MovieLensPrepareOptions
            {
                RatingsPath = c.Data!.RatingsPath,
                MoviesPath = c.Data.MoviesPath,
                OutputDirectory = c.DatasetDir,
                Seed = c.Seed,
                EvalSize = c.Settings.EvalSize,
                HistoryLength = c.Settings.HistoryLength,
            });
            c.Out.WriteLine();
            c.Out.Write(PrepareCommands.SummaryTable(prepared));
            c.Out.WriteLine();
            var info = Path.Combine(c.DatasetDir, MovieLensDatasetInfo.FileName);
            foreach (var f in new[] { MovieLensPreparer.TrainFile, MovieLensPreparer.EvalFile, MovieLensPreparer.TestFile, MovieLensPreparer.SummaryFile })
                c.Out.WriteLine($"  {Path.Combine(c.DatasetDir, f)}");
            c.Out.WriteLine($"  {info} ({MovieLensDatasetInfo.TrainName}, {MovieLensDatasetInfo.EvalName}, {MovieLensDatasetInfo.TestName})");
        }),
        new("tokenizer", "train a byte-level BPE tokenizer with ChatML special tokens on the training records and the behaviour data", c =>
        {
            var s = c.Settings;
            var records = SftDatasetReader.Read(Path.Combine(c.DatasetDir, MovieLensPreparer.TrainFile), c.Description(MovieLensDatasetInfo.TrainName));
            // A few thousand records hold every title pattern and the fixed prompt text; more only slows training.
            var texts = records.Take(s.TokenizerTrainRecords).SelectMany(r => r.Turns.Select(t => t.Content).Prepend(r.System ?? ""));
            if (s.TokenizerIncludesBehaviours)
                texts = texts.Concat(BehaviourRecords(c).SelectMany(r => r.Turns.Select(t => t.Content).Prepend(r.System ?? "")));
            var trained = BpeTrainer.Train(texts, new BpeTrainerOptions(s.TokenizerVocabSize, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], s.TokenizerMinFrequency));
            if (Directory.Exists(c.TokenizerDir)) Directory.Delete(c.TokenizerDir, recursive: true);
            TokenizerJsonWriter.Write(trained, c.TokenizerDir);
            c.Out.WriteLine($"  {trained.Vocab.Count + trained.SpecialTokens.Count:N0} tokens ({trained.Merges.Count:N0} merges) in {c.TokenizerDir}");
        }),
        new("model", "initialize a tiny Qwen3-architecture model with that tokenizer", c =>
        {
            var tokenizer = Tokenizer.Load(Path.Combine(c.TokenizerDir, "tokenizer.json"));
            var config = TinyModel(c.Settings, tokenizer.MaxId + 1, tokenizer);
            if (Directory.Exists(c.ModelDir)) Directory.Delete(c.ModelDir, recursive: true);
            ModelInitializer.WriteFolder(config, c.Seed, TensorDType.F32, c.TokenizerDir, c.ModelDir);
            c.Out.WriteLine($"  {CheckpointLayout.For(config).ParameterCount:N0} parameters ({config.NumLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize:N0}) in {c.ModelDir}");
        }),
        new("stats", "token lengths of the rendered training samples (as `sharptune stats`), against cutoff_len", c =>
        {
            // The run's own configuration (written to train.yaml by the train stage) decides template and cutoff_len.
            c.Config = TrainConfig.Parse(TrainYaml(c), c.TrainConfigPath);
            c.Datasets = c.Config.ResolveDatasets();
            var inputs = Inputs(c);
            var lengths = LengthStatistics.Lengths(LengthStatistics.MeasureUntruncated(inputs, c.Datasets.Train));
            var st = LengthStatistics.Compute(lengths, c.Config.CutoffLen);
            c.Out.WriteLine($"  {st.Count:N0} training samples of {c.Datasets.Train.Count:N0} records");
            c.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  min {st.Min}  mean {st.Mean:F1}  p50 {st.P50}  p90 {st.P90}  p95 {st.P95}  p99 {st.P99}  max {st.P100}"));
            c.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  over cutoff_len {c.Config.CutoffLen}: {st.OverCutoff:N0} ({100.0 * st.OverCutoff / st.Count:F2}%)"));
            foreach (var line in LengthStatistics.Histogram(lengths).TrimEnd('\n').Split('\n')) c.Out.WriteLine("  " + line);
        }),
        new("preprocess", "render, tokenize and mask train and eval into the cache train reads; check render parity and masking", c =>
        {
            var config = c.Config!;
            var datasets = c.Datasets!;
            var inputs = Inputs(c);
            var cache = new PreprocessCache(c.CacheDir);
            // Exactly TrainingJob.Prepare's calls, so the train stage finds both splits in the cache.
            foreach (var (split, records) in new[] { ("train", datasets.Train), ("eval", datasets.Eval) })
            {
                var result = PreprocessPipeline.RunRecords(inputs, records, datasets.Fingerprint, split, cache, config.OverwriteCache, m => c.Error.WriteLine(m));
                var r = result.Report;
                c.Out.WriteLine($"  {split}: {r.Kept:N0} samples, {r.Truncated} truncated, {r.Dropped} dropped, {r.RenderMismatches} render mismatches; " +
                                $"{r.SupervisedTokens:N0} supervised of {r.SupervisedTokens + r.MaskedTokens:N0} tokens{(result.FromCache ? " (cache)" : "")}");
            }
            // As inspect-masking: every eval sample must supervise exactly its answer and <|im_end|>.
            var p = new SftPreprocessor(inputs.Renderer, inputs.Tokenizer, inputs.Options);
            int flagged = datasets.Eval.Count(rec => { var s = p.ProcessOne(rec); return MaskingInspector.Inspect(rec, s.Ids, s.Labels, inputs.Tokenizer, inputs.Options).Problem is not null; });
            if (flagged > 0) throw new InvalidOperationException($"{flagged} eval samples supervise more or less than their answer + end-of-turn token");
            var prompt = p.Builder.InferencePrompt(datasets.Eval[0]);
            c.Out.WriteLine($"  masking: all {datasets.Eval.Count} eval samples supervise exactly the answer + <|im_end|>; the inference prompt of eval[0] ends with {Escape(prompt[^40..])}");
        }),
        new("train", "write train.yaml and run `sharptune train` on it: checkpoints, teacher-forced and generative evaluation, warnings, max_time", c =>
        {
            AtomicFile.WriteAllText(c.TrainConfigPath, TrainYaml(c));
            c.Out.WriteLine($"  {c.TrainConfigPath} (rerun: sharptune train {c.TrainConfigPath} --cache-dir {c.CacheDir})");
            var result = TrainCommand.Execute(TrainConfig.Load(c.TrainConfigPath), c.CacheDir, c.Out, c.Error, CancellationToken.None);
            if (result.Reason == TrainingStopReason.Cancelled) throw new UserException("the training run was interrupted");
            var checkpoints = CheckpointFolders.List(c.TrainDir);
            c.Out.WriteLine($"  checkpoints kept: {string.Join(", ", checkpoints.Select(x => Path.GetFileName(x.Path)))}; log {Path.Combine(c.TrainDir, TrainingRun.TrainerLogFile)}");
        }),
        new("infer", "answer the test split with the trained model and the run's prompt settings (`infer --run`)", c =>
        {
            var s = c.Settings;
            var run = RunFolder.Open(c.TrainDir);
            string model = run.ModelPath ?? c.ModelDir; // a full fine-tuning run holds its weights; a LoRA run, the adapter over the base
            foreach (var f in new[] { c.PredictionsPath, c.PredictionsPath + ".partial", c.PredictionsPath + ".infer.json" }) File.Delete(f); // a fresh run, not a resume
            using var folder = ModelFolder.Open(model);
            using var backend = ComputeBackends.Create();
            var summary = BatchInference.Run(folder, new InferenceSettings
            {
                DataPath = Path.Combine(c.DatasetDir, MovieLensPreparer.TestFile),
                Description = c.Description(MovieLensDatasetInfo.TestName),
                OutputPath = c.PredictionsPath,
                AdapterPath = run.AdapterPath,
                Prompt = run.Prompt,
                Generation = new GenerationOptions { MaxNewTokens = s.InferMaxNewTokens },
                Labels = new LabelSet(Labels, "labels"),
                BatchSize = s.InferBatchSize,
            }, backend);
            c.Out.WriteLine($"  sharptune infer --model {model} --run {c.TrainDir} --dataset-info {Path.Combine(c.DatasetDir, MovieLensDatasetInfo.FileName)} " +
                            $"--dataset {MovieLensDatasetInfo.TestName} --labels Yes,No --max-new-tokens {s.InferMaxNewTokens} --batch-size {s.InferBatchSize} --output {c.PredictionsPath}");
            c.Out.WriteLine($"  prompt settings from {run.Checkpoint}");
            c.Out.WriteLine("  " + summary.Line());
        }),
        new("eval", "metrics of the predictions (`eval --predictions`)", c =>
        {
            var report = PredictionEvaluator.Evaluate(PredictionReader.ReadFile(c.PredictionsPath), c.PredictionsPath, new EvaluationOptions
            {
                Labels = new LabelSet(Labels, "labels"), Positive = "Yes", Bootstrap = new BootstrapOptions(c.Settings.Bootstrap),
            });
            AtomicFile.WriteAllBytes(c.EvalPath, EvaluationJson.Serialize(report));
            c.Eval = report;
            c.Out.WriteLine($"  sharptune eval --predictions {c.PredictionsPath} --labels Yes,No --positive Yes --bootstrap {c.Settings.Bootstrap} --out {c.EvalPath}");
            c.Out.Write(Indent(EvaluationTable.Format(report)));
            c.Out.WriteLine($"  {c.EvalPath}");
        }),
        new("baselines", "majority, user history mean, item mean and matrix factorization on the same test records", c =>
        {
            var report = MovieLensBaselines.Run(c.DatasetDir, new BaselineOptions { Bootstrap = new BootstrapOptions(c.Settings.Bootstrap) });
            AtomicFile.WriteAllBytes(c.BaselinesPath, report.ToJson());
            c.Baselines = report;
            c.Out.WriteLine($"  sharptune baselines --prepared {c.DatasetDir} --bootstrap {c.Settings.Bootstrap} --out {c.BaselinesPath}");
            c.Out.WriteLine($"  {report.Results.Count} baselines on {report.TestSamples:N0} test records (thresholds from {report.TrainSamples:N0} train records): {c.BaselinesPath}");
        }),
        new("compare", "the model beside the baselines (`eval --compare`), and where it stands", c =>
        {
            // eval --compare eval.json baselines.json, with the model's column named for what it is.
            var results = new[] { c.EvalPath, c.BaselinesPath }.SelectMany(EvaluationJson.ReadResults)
                .Select((r, i) => i == 0 ? KeyValuePair.Create("model", r.Value) : r).ToList();
            c.Out.WriteLine($"  sharptune eval --compare {c.EvalPath} {c.BaselinesPath}");
            c.Out.Write(Indent(EvaluationTable.Compare(results)));
            c.Out.WriteLine();
            foreach (var line in Standing(c.Eval!.Overall, c.Baselines!)) c.Out.WriteLine("  " + line);
        }),
        new("behaviours", "a compliment/refusal behaviour dataset (`prepare behaviours --synthetic`)", c =>
        {
            Directory.CreateDirectory(c.BehavioursDir);
            var result = BehaviourPreparer.Prepare(BehaviourSource(c), BehaviourOptions(c));
            BehaviourPreparer.WriteJsonl(c.BehavioursData, result.Records);
            c.Out.Write(Indent(result.ToTable()));
            c.Out.WriteLine($"  {c.BehavioursData}: {result.Records.Count} records, {result.Changed} of {result.Answers} answers changed");
        }),
        new("behaviour-train", "a short behaviour run with checkpoints (`sharptune train behaviours/train.yaml`)", c =>
        {
            AtomicFile.WriteAllText(c.BehavioursConfigPath, BehaviourYaml(c));
            c.Out.WriteLine($"  {c.BehavioursConfigPath}");
            var result = TrainCommand.Execute(TrainConfig.Load(c.BehavioursConfigPath), c.CacheDir, c.Out, c.Error, CancellationToken.None);
            if (result.Reason == TrainingStopReason.Cancelled) throw new UserException("the behaviour run was interrupted");
        }),
        new("sanity", $"score every behaviour checkpoint on {SanityRules} and name the best (`sanity --run`)", c =>
        {
            var (report, outDir) = SanityRun.Run(new SanityRunOptions
            {
                RunDir = c.BehavioursTrainDir, RulesPath = FindRules(), OutDir = c.SanityDir, MaxNewTokens = c.Settings.SanityMaxNewTokens,
            }, request => new ModelSanityResponder(request, ModelFolder.Open));
            c.Sanity = report;
            c.Out.Write(Indent(report.ToTable()));
            var best = report.Best;
            c.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  best checkpoint: {best.Checkpoint.Name} ({best.Checkpoint.Path}), passes {100 * best.Total:0.#}% of the weighted checks{(best.Total >= 0.8 ? "" : " (below the 80% a behaviour run should reach)")}"));
            c.Out.WriteLine($"  {Path.Combine(outDir, SanityReport.RepliesFile)}, {SanityReport.SummaryFile}, {SanityReport.BestFile}");
        }),
        new("report", "report.html (self-contained) and report.md of the whole pipeline (`sharptune report`)", c =>
        {
            var files = RunReport.Write(c.TrainDir, c.OutDir, new ReportOptions
            {
                Sanity = c.SanityDir,
                DataDescription = c.Description(MovieLensDatasetInfo.TrainName),
            });
            c.Out.WriteLine($"  {files.Html}");
            c.Out.WriteLine($"  {files.Markdown} (charts in {files.ChartDir})");
            foreach (var m in files.Missing) c.Error.WriteLine("  missing: " + m);
        }),
    ];

    // The demo's tiny model: a Qwen3-architecture decoder small enough to train on 2 cores.
    private static ModelConfig TinyModel(DemoSettings s, int vocabSize, Tokenizer tokenizer) => new()
    {
        Architecture = ModelArchitecture.Qwen3, HiddenSize = s.HiddenSize, NumLayers = s.Layers, NumHeads = s.Heads, NumKvHeads = s.KvHeads, HeadDim = s.HeadDim,
        IntermediateSize = s.IntermediateSize, VocabSize = vocabSize, TieWordEmbeddings = true, MaxPositionEmbeddings = Math.Max(1024, s.CutoffLen), RopeTheta = s.RopeTheta,
        EosTokenIds = tokenizer.TokenToId("<|im_end|>") is int eos ? [eos] : [],
    };

    // TrainingJob.Prepare's preprocessing inputs for the config.
    private static PreprocessInputs Inputs(DemoContext c) =>
        PreprocessInputs.FromFolder(c.Config!.ModelPath, string.Join(",", c.Config.Dataset), description: null, c.Config.ToPreprocessOptions());

    private static IReadOnlyList<SftRecord> BehaviourSource(DemoContext c) => SyntheticBehaviourData.Generate(c.Settings.BehaviourRecords, c.Seed);

    private static BehaviourPrepareOptions BehaviourOptions(DemoContext c) => new() { Seed = c.Seed };

    // The behaviour records exactly as the behaviours stage writes them (the tokenizer is trained on their text too).
    private static IReadOnlyList<BehaviourRecord> BehaviourRecords(DemoContext c) => BehaviourPreparer.Prepare(BehaviourSource(c), BehaviourOptions(c)).Records;

    /// <summary>The MovieLens run's configuration, with LLaMA-Factory's keys.</summary>
    internal static string TrainYaml(DemoContext c)
    {
        var s = c.Settings;
        return Yaml(
            $"### sharptune demo: the MovieLens run ({(ReferenceEquals(s, DemoSettings.Quick) ? "--quick" : "full")} settings; see docs/demo.md)",
            "### model",
            $"model_name_or_path: {Quote(c.ModelDir)}",
            $"template: {s.Template}",
            "",
            "### method",
            "stage: sft",
            "do_train: true",
            $"finetuning_type: {s.FinetuningType}",
            "",
            "### dataset",
            $"dataset: {MovieLensDatasetInfo.TrainName}",
            $"eval_dataset: {MovieLensDatasetInfo.EvalName}",
            $"dataset_dir: {Quote(c.DatasetDir)}",
            $"cutoff_len: {s.CutoffLen}",
            "",
            "### train",
            $"per_device_train_batch_size: {s.BatchSize}",
            $"learning_rate: {Num(s.LearningRate)}",
            $"lr_scheduler_type: {s.LrSchedulerType}",
            $"warmup_ratio: {Num(s.WarmupRatio)}",
            $"weight_decay: {Num(s.WeightDecay)}",
            $"max_grad_norm: {Num(s.MaxGradNorm)}",
            $"max_steps: {s.MaxSteps}",
            $"max_time: {s.MaxTime}",
            $"seed: {s.TrainSeed}",
            "",
            "### output",
            $"output_dir: {Quote(c.TrainDir)}",
            "overwrite_output_dir: true",
            $"logging_steps: {s.LoggingSteps}",
            $"save_steps: {s.SaveSteps}",
            $"save_total_limit: {s.SaveTotalLimit}",
            "plot_loss: true",
            "",
            "### eval",
            $"per_device_eval_batch_size: {s.EvalBatchSize}",
            "eval_strategy: steps",
            $"eval_steps: {s.EvalSteps}",
            "generative_eval:",
            $"  samples: {s.GenerativeEvalSamples}",
            $"  max_new_tokens: {s.GenerativeEvalMaxNewTokens}",
            "  labels: [Yes, No]",
            "### overfitting watch: one answer token + <|im_end|> per sample halves the per-token means (see docs/demo.md)",
            $"overfit_loss: {Num(s.OverfitThresholds.Loss)}",
            $"overfit_entropy: {Num(s.OverfitThresholds.Entropy)}",
            $"overfit_token_accuracy: {Num(s.OverfitThresholds.TokenAccuracy)}");
    }

    /// <summary>The behaviour run's configuration: fine-tuning of the same tiny base model, every checkpoint kept (sanity compares them).</summary>
    internal static string BehaviourYaml(DemoContext c)
    {
        var s = c.Settings;
        return Yaml(
            "### sharptune demo: the behaviour run (compliments and refusals; scored by sanity)",
            $"model_name_or_path: {Quote(c.ModelDir)}",
            $"template: {s.Template}",
            $"default_system: {Quote(s.BehaviourDefaultSystem)}",
            "stage: sft",
            "do_train: true",
            $"finetuning_type: {s.BehaviourFinetuningType}",
            $"dataset: {Path.GetFileName(c.BehavioursData)}",
            $"dataset_dir: {Quote(c.BehavioursDir)}",
            $"cutoff_len: {s.BehaviourCutoffLen}",
            $"per_device_train_batch_size: {s.BehaviourBatchSize}",
            $"learning_rate: {Num(s.BehaviourLearningRate)}",
            $"lr_scheduler_type: {s.BehaviourLrSchedulerType}",
            $"warmup_ratio: {Num(s.BehaviourWarmupRatio)}",
            $"max_steps: {s.BehaviourSteps}",
            $"seed: {s.TrainSeed}",
            $"output_dir: {Quote(c.BehavioursTrainDir)}",
            "overwrite_output_dir: true",
            $"logging_steps: {s.BehaviourLoggingSteps}",
            $"save_steps: {s.BehaviourSaveSteps}",
            "plot_loss: true");
    }

    private static string Yaml(params string[] lines) => string.Join("\n", lines) + "\n";

    // A YAML single-quoted scalar (paths may hold spaces, colons or '#').
    private static string Quote(string s) => "'" + s.Replace("'", "''") + "'";

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Where the model stands: its generative accuracy beside majority, user_history_mean and matrix_factorization,
    /// and whether it beat the majority class by <see cref="RequiredMarginPoints"/> points — said plainly when not.
    /// </summary>
    internal static IReadOnlyList<string> Standing(ClassificationResult model, BaselineReport baselines)
    {
        var byName = baselines.Results.ToDictionary(kv => kv.Key, kv => kv.Value);
        string P(double a) => (100 * a).ToString("F1", CultureInfo.InvariantCulture) + "%";
        string Diff(double a, double b) => ((a - b) * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " points";
        var lines = new List<string>
        {
            $"model (generative, {model.N:N0} test records): accuracy {P(model.Accuracy)}" +
            (model.AccuracyInterval is { } ci ? $" (95% interval {P(ci.Low)}–{P(ci.High)})" : "") +
            $", unparseable {P(model.UnparseableRate)}",
        };
        foreach (var name in new[] { "majority", "user_history_mean", "matrix_factorization" })
            if (byName.TryGetValue(name, out var b))
                lines.Add($"  vs {name}: {P(b.Accuracy)} ({Diff(model.Accuracy, b.Accuracy)})");
        if (byName.TryGetValue("majority", out var majority))
        {
            double goal = majority.Accuracy + RequiredMarginPoints / 100;
            lines.Add(model.Accuracy >= goal
                ? $"result: the fine-tuned model beats the majority class by {Diff(model.Accuracy, majority.Accuracy)} (goal: at least {RequiredMarginPoints:0} points)"
                : $"result: did not reach the goal of {RequiredMarginPoints:0} points above the majority class ({P(goal)} needed, {P(model.Accuracy)} reached); the model is not better than the baselines here");
        }
        return lines;
    }

    /// <summary>The sanity rules file: under the current directory, else under the folder holding the program (the repository).</summary>
    private static string FindRules()
    {
        if (File.Exists(SanityRules)) return SanityRules;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, SanityRules);
            if (File.Exists(candidate)) return candidate;
        }
        throw new UserException($"{SanityRules}: the behaviour rules file was not found under the current directory or the program's repository (run the demo from the repository root)");
    }

    private static string Escape(string s) => "\"" + s.Replace("\n", "\\n") + "\"";

    private static string Indent(string text) =>
        string.Concat(text.TrimEnd('\n').Split('\n').Select(l => l.Length == 0 ? "\n" : "  " + l + "\n"));

    /// <summary>Runs every stage in order, announcing each as <c>[i/N] name: what</c>, and prints the time of each at the end.</summary>
    internal static IReadOnlyList<(string Stage, TimeSpan Time)> Run(DemoContext context)
    {
        var times = new List<(string, TimeSpan)>();
        var total = Stopwatch.StartNew();
        for (int i = 0; i < Stages.Count; i++)
        {
            var stage = Stages[i];
            context.Out.WriteLine($"[{i + 1}/{Stages.Count}] {stage.Name}: {stage.What}");
            context.Out.Flush();
            var clock = Stopwatch.StartNew();
            stage.Run(context);
            times.Add((stage.Name, clock.Elapsed));
        }
        context.Out.WriteLine();
        context.Out.Write(TimeTable(times, total.Elapsed));
        return times;
    }

    /// <summary>The stage times as a table, with the total.</summary>
    internal static string TimeTable(IReadOnlyList<(string Stage, TimeSpan Time)> times, TimeSpan total)
    {
        var sb = new StringBuilder();
        int width = Math.Max(5, times.Max(t => t.Stage.Length));
        sb.Append("stage".PadRight(width)).Append("  seconds\n");
        foreach (var (stage, time) in times)
            sb.Append(stage.PadRight(width)).Append(time.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture).PadLeft(9)).Append('\n');
        sb.Append("total".PadRight(width)).Append(total.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture).PadLeft(9)).Append('\n');
        return sb.ToString();
    }

    public static CliCommand Create() =>
        new CliCommand("demo", "Run the whole fine-tuning pipeline on built-in synthetic data and write a report.")
        {
            Description = "Stages: " + string.Join(" -> ", Stages.Select(s => s.Name)) + ".\n" +
                          string.Join("\n", Stages.Select(s => $"  {s.Name}: {s.What}")) + "\n" +
                          "--quick: the same stages on less data with fewer steps (for tests). Design: docs/demo.md.",
        }
            .Option("out", "output directory", "DIR", "out/demo")
            .Option("seed", "seed of the synthetic data, the splits and the models", "N", "13")
            .Flag("quick", "smaller data and shorter runs (well under 2 minutes)")
            .Handle(a =>
            {
                var settings = a.Bool("quick") ? DemoSettings.Quick : DemoSettings.Full;
                var context = new DemoContext(a.RequiredString("out"), PrepareCommands.Seed(a), settings, a.Out, a.Error);
                Run(context);
                a.Out.WriteLine($"\ndemo done; everything is under {context.OutDir}; open {Path.Combine(context.OutDir, "report.html")}");
                return CliApp.Success;
            });
}
