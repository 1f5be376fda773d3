using System.Security.Cryptography;
using System.Text;
using SharpTune.Engine;
using SharpTune.Evaluation;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Training.Configuration;

namespace SharpTune.Training.Loop;

/// <summary>What <see cref="TrainingJob.Prepare"/> reports before training starts (one line each on the CLI).</summary>
/// <param name="Split">"train" or "eval".</param>
/// <param name="Result">The preprocessing result (counts, cache entry, whether it came from the cache).</param>
public sealed record PreparedSplit(string Split, PreprocessResult Result);

/// <summary>
/// <c>sharptune train CONFIG.yaml</c> as a library call: a <see cref="TrainConfig"/> resolved into a
/// <see cref="TrainingRun"/>. The datasets are resolved (<see cref="TrainConfig.ResolveDatasets"/>), tokenized
/// through the preprocessing cache (<c>PreprocessPipeline.RunRecords</c>, memory-mapped; the records are read only on a cache miss;
/// <c>overwrite_cache</c> rebuilds), the model folder opened, the decoder built (LoRA from a fresh initialization or
/// the PEFT adapter of <c>adapter_name_or_path</c>, or full; <c>bf16</c> holds the frozen base in BF16,
/// <c>gradient_checkpointing</c> recomputes layers), the generative evaluator set up from <c>generative_eval</c>,
/// and the loop run. Dispose releases the model and the mapped weights.
/// </summary>
public sealed class TrainingJob : IDisposable
{
    /// <summary>Where tokenized datasets are cached, relative to the current directory (as <c>sharptune preprocess</c>'s default).</summary>
    public const string DefaultCacheDir = ".cache/preprocessed";

    private readonly ModelFolder _folder;
    private readonly IComputeBackend _backend;
    private readonly TrainableDecoder _model;
    private readonly TrainingRun _run;

    /// <summary>The configuration.</summary>
    public TrainConfig Config { get; }

    /// <summary>The arguments the loop runs with.</summary>
    public TrainingArguments Arguments { get; }

    /// <summary>The preprocessed splits (train, then eval when there is one).</summary>
    public IReadOnlyList<PreparedSplit> Splits { get; }

    /// <summary>The model being trained.</summary>
    public TrainableDecoder Model => _model;

    /// <summary>The loop.</summary>
    public TrainingRun Run => _run;

    private TrainingJob(TrainConfig config, TrainingArguments args, IReadOnlyList<PreparedSplit> splits, ModelFolder folder, IComputeBackend backend,
        TrainableDecoder model, TrainingRun run)
    {
        Config = config;
        Arguments = args;
        Splits = splits;
        _folder = folder;
        _backend = backend;
        _model = model;
        _run = run;
    }

    /// <summary>
    /// Preprocesses the splits (from the cache when it holds them). The records are read only when a split is not
    /// cached, and only the evaluation records (the generative evaluation's) leave this method: the training records
    /// become garbage when it returns. It must stay a method of its own — code that runs once is jitted unoptimized,
    /// and such a frame keeps every temporary it loaded alive until it returns (the first run held ~330 MB of records
    /// through the whole run when this lived in <see cref="Prepare"/>).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (PreprocessResult Train, PreprocessResult? Eval, IReadOnlyList<Data.Sft.SftRecord>? EvalRecords, bool RecordsRead) PreprocessSplits(
        TrainConfig config, PreprocessInputs inputs, PreprocessCache cache, bool hasEval, Action<string>? log)
    {
        // The fingerprint hashes the files as streams: a cached training set is never held as objects, only memory-mapped.
        var fingerprint = Data.Sft.DatasetResolver.Fingerprint(config.DatasetSelection);
        Data.Sft.ResolvedDatasets? resolved = null;
        Data.Sft.ResolvedDatasets Datasets() => resolved ??= config.ResolveDatasets();
        var train = PreprocessPipeline.RunRecords(inputs, () => Datasets().Train, fingerprint, "train", cache, config.OverwriteCache, log);
        var eval = hasEval ? PreprocessPipeline.RunRecords(inputs, () => Datasets().Eval, fingerprint, "eval", cache, config.OverwriteCache, log) : null;
        return (train, eval, resolved?.Eval, resolved is not null);
    }

    /// <summary>
    /// Resolves, preprocesses and builds everything; nothing is written to <c>output_dir</c> before
    /// <see cref="TrainingRun.Run"/>. Every problem of the input is a <see cref="UserException"/>.
    /// </summary>
    /// <param name="config">The loaded configuration.</param>
    /// <param name="observers">Progress displays and other observers.</param>
    /// <param name="cacheDir">The preprocessing cache folder (default <see cref="DefaultCacheDir"/>).</param>
    /// <param name="log">Receives notes (a stale cache entry, …).</param>
    public static TrainingJob Prepare(TrainConfig config, IReadOnlyList<ITrainingObserver>? observers = null, string? cacheDir = null, Action<string>? log = null)
    {
        if (!config.DoTrain) throw new UserException($"{config.Path}: do_train is false; sharptune train only trains (set do_train: true)");
        var args = ToArguments(config);
        bool hasEval = config.EvalDataset.Count > 0 || config.ValSize > 0;
        var options = config.ToPreprocessOptions();
        var cache = new PreprocessCache(cacheDir ?? DefaultCacheDir);
        string name = string.Join(",", config.Dataset);
        var inputs = PreprocessInputs.FromFolder(config.ModelPath, name, description: null, options);
        var (train, eval, evalRecords, recordsRead) = PreprocessSplits(config, inputs, cache, hasEval, log);
        var splits = new List<PreparedSplit> { new("train", train) };
        if (eval is not null) splits.Add(new PreparedSplit("eval", eval));
        if (train.Dataset.Count == 0)
            throw new UserException(train.Report.Records == 0
                ? $"dataset {name}: no training records"
                : $"dataset {name}: every one of the {train.Report.Records} training records was dropped ({train.Report.Dropped} by cutoff_len {config.CutoffLen} or an empty answer); raise cutoff_len or set truncation (report: {Path.Combine(train.EntryPath, "report.jsonl")})");
        var evalSet = eval is { Dataset.Count: > 0 } ? eval.Dataset : null;
        // The engine's arenas are native memory, so no collection would run to return the training records' heap to
        // the system: one aggressive (decommitting) collection here, once, only when records were read.
        if (recordsRead) GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        var folder = ModelFolder.Open(config.ModelPath);
        IComputeBackend? backend = null;
        TrainableDecoder? model = null;
        try
        {
            // The tokenizer preprocessing loaded (the folder's tokenizer.json): one copy in memory, not two.
            var tokenizer = inputs.Tokenizer;
            args = args with { PadTokenId = PadId(tokenizer, folder.Config) };
            backend = ComputeBackends.Create();
            var training = new TrainingOptions
            {
                MaxTokens = TrainingRun.RequiredTokens(train.Dataset, evalSet, args),
                GradientCheckpointing = config.GradientCheckpointing,
                BaseWeights = config.Bf16 ? WeightStorage.BF16 : WeightStorage.Auto,
            };
            if (config.FullFineTuning)
            {
                if (config.AdapterPath is not null) throw new UserException($"{config.Path}: adapter_name_or_path is set but finetuning_type is full; an adapter continues LoRA training");
                model = TrainableDecoder.CreateFull(folder.Config, folder.Weights, backend, training);
            }
            else
            {
                var adapter = config.AdapterPath is { } a ? PeftAdapter.Load(a, folder.Config) : LoraInitializer.Initialize(folder.Config, config.Lora, (ulong)config.Seed);
                model = TrainableDecoder.CreateLora(folder.Config, folder.Weights, adapter, backend, training);
            }

            IGenerativeEvaluator? generative = null;
            var g = config.GenerativeEval;
            if (g.Samples > 0)
            {
                if (!hasEval) throw new UserException($"{config.Path}: generative_eval.samples is {g.Samples} but there is no evaluation set (set eval_dataset or val_size)");
                if (g.Labels is not { Count: > 0 } labels) throw new UserException($"{config.Path}: generative_eval.labels is required with generative_eval.samples (e.g. [Yes, No])");
                var builder = new PromptBuilder(inputs.Renderer, inputs.Options.Prompt);
                generative = new GenerativeEvaluator(evalRecords ?? config.ResolveDatasets().Eval, g.Samples, g.MaxNewTokens, new LabelSet(labels, "generative_eval.labels"), builder, tokenizer,
                    Inference.BatchInference.StopIds(folder, builder, tokenizer, folder.EosTokenIds)); // EOS and the end-of-turn id, as infer stops
            }

            var run = new TrainingRun(args, new TrainingRunInputs
            {
                Model = model,
                TrainSet = train.Dataset,
                EvalSet = evalSet,
                BaseModelPath = config.ModelPath,
                ModelFingerprint = ModelFingerprint(config.ModelPath),
                DataFingerprint = train.Key,
                Observers = observers ?? [],
                GenerativeEvaluator = generative,
                PromptSettings = inputs.Options.Prompt,
                CutoffLen = inputs.Options.CutoffLen,
                Truncation = inputs.Options.Truncation,
                LabelNames = g.Labels,
            });
            return new TrainingJob(config, args, splits, folder, backend, model, run);
        }
        catch
        {
            model?.Dispose();
            backend?.Dispose();
            folder.Dispose();
            throw;
        }
    }

    /// <summary>The loop's arguments from the configuration's train, output and eval keys.</summary>
    public static TrainingArguments ToArguments(TrainConfig c)
    {
        var schedule = c.LrSchedulerType switch
        {
            "linear" => LearningRateScheduleType.Linear,
            "cosine" => LearningRateScheduleType.Cosine,
            _ => LearningRateScheduleType.Constant, // constant (no warmup) and constant_with_warmup
        };
        bool noWarmup = c.LrSchedulerType == "constant";
        var o = c.Overfit;
        return new TrainingArguments
        {
            OutputDir = c.OutputDir,
            OverwriteOutputDir = c.OverwriteOutputDir,
            PerDeviceTrainBatchSize = c.TrainBatchSize,
            PerDeviceEvalBatchSize = c.EvalBatchSize,
            GradientAccumulationSteps = c.GradientAccumulationSteps,
            NumTrainEpochs = c.NumTrainEpochs,
            MaxSteps = c.MaxSteps,
            LearningRate = c.LearningRate,
            LrSchedulerType = schedule,
            WarmupRatio = noWarmup ? 0 : c.WarmupRatio,
            WarmupSteps = noWarmup ? 0 : c.WarmupSteps,
            WeightDecay = c.WeightDecay,
            AdamBeta1 = c.AdamBeta1,
            AdamBeta2 = c.AdamBeta2,
            AdamEpsilon = c.AdamEpsilon,
            MaxGradNorm = c.MaxGradNorm > 0 ? c.MaxGradNorm : null,
            Seed = (ulong)c.Seed,
            DisableShuffling = c.DisableShuffling,
            GroupByLength = c.GroupByLength,
            LoggingSteps = c.LoggingSteps,
            SaveStrategy = Enum.Parse<SaveStrategy>(c.SaveStrategy, ignoreCase: true),
            SaveSteps = c.SaveSteps,
            SaveTotalLimit = c.SaveTotalLimit,
            EvalStrategy = Enum.Parse<EvaluationStrategy>(c.EvalStrategy, ignoreCase: true),
            EvalSteps = c.EvalSteps,
            LoadBestModelAtEnd = c.LoadBestModelAtEnd,
            MetricForBestModel = c.MetricForBestModel,
            MaxTime = c.MaxTime,
            ResumeFromCheckpoint = c.ResumeFromLatestCheckpoint ? null : c.ResumeFromCheckpointPath,
            ResumeFromLatest = c.ResumeFromLatestCheckpoint,
            StopOnOverfit = o.StopOnOverfit,
            Overfit = o.Thresholds,
            DriftMarginPoints = o.DriftMarginPoints,
        };
    }

    /// <summary>
    /// Identifies the model a checkpoint was trained on: config.json and the head of every weight file (the
    /// safetensors header and the first tensor bytes), hashed; a different model folder with other weights differs.
    /// </summary>
    public static string ModelFingerprint(string modelPath)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(File.ReadAllBytes(Path.Combine(modelPath, "config.json")));
        var buffer = new byte[1 << 16];
        foreach (var f in Directory.GetFiles(modelPath, "*.safetensors").Order(StringComparer.Ordinal))
        {
            using var s = File.OpenRead(f);
            int n = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            sha.AppendData(Encoding.UTF8.GetBytes($"{Path.GetFileName(f)}:{s.Length}:"));
            sha.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    private static int PadId(Text.ITextTokenizer tokenizer, ModelConfig config)
    {
        foreach (var t in new[] { "<pad>", "<|endoftext|>", "</s>" })
            if (tokenizer.TokenToId(t) is int id && id < config.VocabSize) return id;
        return 0; // padding positions are masked and never supervised; the id only has to be a valid row
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _model.Dispose();
        _backend.Dispose();
        _folder.Dispose();
    }
}
