using System.Globalization;
using System.Text;
using SharpTune.Data.Sft;

namespace SharpTune.Training.Configuration;

/// <summary>The generative evaluation block (<c>generative_eval</c>).</summary>
/// <param name="Samples">Eval records answered by greedy generation at each evaluation (0: off).</param>
/// <param name="MaxNewTokens">Generated tokens per answer.</param>
/// <param name="Labels">Answer labels to parse (e.g. Yes, No), or null for exact-match answers.</param>
public sealed record GenerativeEvalConfig(int Samples, int MaxNewTokens, IReadOnlyList<string>? Labels);

/// <summary>Overfitting thresholds and the drift margin (SharpTune's own keys).</summary>
/// <param name="Loss">Training loss below this is overfitting.</param>
/// <param name="TokenAccuracy">Token accuracy above this is overfitting.</param>
/// <param name="Entropy">Mean entropy below this is overfitting.</param>
/// <param name="Epochs">More epochs than this is overfitting.</param>
/// <param name="StopOnOverfit">Stop the run when a threshold is crossed.</param>
/// <param name="DriftMarginPoints">Warn when teacher-forced and generative accuracy differ by more (percentage points).</param>
public sealed record OverfitConfig(double Loss, double TokenAccuracy, double Entropy, double Epochs, bool StopOnOverfit, double DriftMarginPoints)
{
    /// <summary>The thresholds as the monitor and the charts take them.</summary>
    public Reporting.OverfitThresholds Thresholds => new() { LossBelow = Loss, TokenAccuracyAbove = TokenAccuracy, EntropyBelow = Entropy, EpochAbove = Epochs };
}

/// <summary>
/// A training configuration with LLaMA-Factory's keys, meanings and defaults (see <see cref="ConfigKeys"/>), loaded
/// from YAML with <c>key=value</c> overrides, validated, and carrying where each value came from.
/// </summary>
/// <remarks>
/// Paths (<c>model_name_or_path</c>, <c>dataset_dir</c>, <c>output_dir</c>, …) are relative to the current
/// directory, as in LLaMA-Factory. Every error is a <see cref="UserException"/> of one line naming the key and the
/// <c>file:line</c> (or the override) where the value was given.
/// </remarks>
public sealed class TrainConfig
{
    private readonly IReadOnlyDictionary<string, ConfigEntry> _entries;

    private TrainConfig(string? path, IReadOnlyDictionary<string, ConfigEntry> entries, IReadOnlyList<IgnoredKey> ignored)
    {
        Path = path;
        _entries = entries;
        IgnoredKeys = ignored;
        Template = TemplateTable.Resolve(GetString("template"), ModelPath, Where("template"));
        if (Template.EnableThinking is bool forced && GetString("think_block") is { } tb && (tb == "answer") != forced)
            throw new UserException($"{Where("think_block")}: think_block: {tb} contradicts template: {Template.Name} (enable_thinking={ConfigFormat.Value(forced)})");
    }

    /// <summary>The configuration file, or null when built from overrides only.</summary>
    public string? Path { get; }

    /// <summary>Every supported key with its value and provenance, in <see cref="ConfigKeys.All"/> order.</summary>
    public IReadOnlyList<ConfigEntry> Entries => ConfigKeys.All.Select(k => _entries[k.Name]).ToList();

    /// <summary>Accepted keys that change nothing (infrastructure, or unsupported keys at their neutral value).</summary>
    public IReadOnlyList<IgnoredKey> IgnoredKeys { get; }

    /// <summary>The entry of one key.</summary>
    public ConfigEntry this[string key] => _entries.TryGetValue(key, out var e) ? e : throw new ArgumentException($"no configuration key '{key}'");

    /// <summary>
    /// Loads <paramref name="path"/> (YAML) and applies <paramref name="overrides"/> (<c>key=value</c>, in order,
    /// typed as the file's values are), then validates. Missing file, bad YAML, unknown keys, unsupported keys, bad
    /// values and inconsistent combinations are <see cref="UserException"/>s naming the key and its location.
    /// </summary>
    public static TrainConfig Load(string path, IEnumerable<string>? overrides = null)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: configuration file not found");
        return Parse(File.ReadAllText(path), path, overrides);
    }

    /// <summary>
    /// The overfitting thresholds a config file sets (its <c>overfit_*</c> keys; defaults for the rest), read without
    /// validating the other keys: a report of a run whose model folder has moved still draws the run's own bands.
    /// </summary>
    public static Reporting.OverfitThresholds ReadOverfitThresholds(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: configuration file not found");
        var reader = new TrainConfigReader();
        reader.ReadYaml(File.ReadAllText(path), path);
        return OverfitOf(key => (reader.Entries.TryGetValue(key, out var e) ? e.Value : null) ?? ConfigKeys.All.Single(k => k.Name == key).Default).Thresholds;
    }

    // The watch keys as one record, from resolved entries or from a file's own keys with the defaults.
    private static OverfitConfig OverfitOf(Func<string, object?> get)
    {
        double D(string key) => Convert.ToDouble(get(key), CultureInfo.InvariantCulture);
        return new OverfitConfig(D("overfit_loss"), D("overfit_token_accuracy"), D("overfit_entropy"), D("overfit_epochs"), (bool)get("stop_on_overfit")!, D("drift_margin"));
    }

    /// <summary>As <see cref="Load"/>, from YAML text; <paramref name="path"/> names it in messages.</summary>
    public static TrainConfig Parse(string yaml, string path, IEnumerable<string>? overrides = null)
    {
        var reader = new TrainConfigReader();
        reader.ReadYaml(yaml, path);
        foreach (var o in overrides ?? []) reader.ReadOverride(o);
        var entries = new Dictionary<string, ConfigEntry>(reader.Entries, StringComparer.Ordinal);
        foreach (var k in ConfigKeys.All)
            if (!entries.ContainsKey(k.Name)) entries[k.Name] = new ConfigEntry(k, k.Default, ConfigSource.Default, null);
        Derive(entries);
        Validate(entries);
        return new TrainConfig(path, entries, reader.Ignored);
    }

    // Defaults that depend on other keys, as LLaMA-Factory and transformers derive them.
    private static void Derive(Dictionary<string, ConfigEntry> e)
    {
        if (e["lora_alpha"].Value is null)
            e["lora_alpha"] = e["lora_alpha"] with { Value = (double)(long)e["lora_rank"].Value! * 2, Note = "2 × lora_rank" };
        if (e["eval_steps"].Value is null)
            e["eval_steps"] = e["eval_steps"] with { Value = e["logging_steps"].Value, Note = "logging_steps" };
        if (e["do_eval"].Value is null)
            e["do_eval"] = e["do_eval"] with { Value = (string)e["eval_strategy"].Value! != "no", Note = "eval_strategy != no" };
        if (e["metric_for_best_model"].Value is null && e["load_best_model_at_end"].Value is true)
            e["metric_for_best_model"] = e["metric_for_best_model"] with { Value = "loss", Note = "load_best_model_at_end" };
    }

    private static void Validate(Dictionary<string, ConfigEntry> e)
    {
        string W(string k) => e[k].Location ?? "configuration";
        bool Given(string k) => e[k].Source != ConfigSource.Default;

        // model_name_or_path: a local folder; a hub id must be downloaded first.
        if (e["model_name_or_path"].Value is not string model) throw new UserException($"{W("model_name_or_path")}: model_name_or_path is required (a local Hugging Face model folder)");
        if (!Directory.Exists(model))
        {
            bool hubLike = !System.IO.Path.IsPathRooted(model) && model.Count(c => c == '/') == 1 && !model.StartsWith('.');
            throw new UserException(hubLike
                ? $"{W("model_name_or_path")}: model_name_or_path: '{model}' is not a local folder; SharpTune does not download models — download the files first (e.g. huggingface-cli download {model} --local-dir models/{model.Split('/')[1]}) and point model_name_or_path at that folder"
                : $"{W("model_name_or_path")}: model_name_or_path: folder '{model}' not found (expected a local Hugging Face model folder with config.json)");
        }
        if (!File.Exists(System.IO.Path.Combine(model, "config.json")))
            throw new UserException($"{W("model_name_or_path")}: model_name_or_path: '{model}' has no config.json (expected a Hugging Face model folder)");
        if (e["adapter_name_or_path"].Value is string adapter)
        {
            if (adapter.Contains(',')) throw new UserException($"{W("adapter_name_or_path")}: adapter_name_or_path: one adapter folder is supported, got a comma list");
            if (!Directory.Exists(adapter)) throw new UserException($"{W("adapter_name_or_path")}: adapter_name_or_path: folder '{adapter}' not found (expected a PEFT adapter folder; hub ids must be downloaded first)");
            if ((string)e["finetuning_type"].Value! != "lora") throw new UserException($"{W("adapter_name_or_path")}: adapter_name_or_path needs finetuning_type: lora");
        }
        if (e["output_dir"].Value is not string) throw new UserException($"{W("output_dir")}: output_dir is required (where checkpoints and the final model go)");

        bool full = (string)e["finetuning_type"].Value! == "full";
        if (full && e["use_rslora"].Value is true)
            throw new UserException($"{W("use_rslora")}: use_rslora is only valid for finetuning_type: lora");
        if (e["lora_target"].Value is string target && target != "all" && target != "all-linear")
        {
            try { LoraTargets.Parse(target, "lora_target"); }
            catch (UserException ex) { throw new UserException($"{W("lora_target")}: {ex.Message}"); }
        }

        // Data: LLaMA-Factory's own checks.
        bool training = e["do_train"].Value is true;
        if (training && e["dataset"].Value is null) throw new UserException($"{W("dataset")}: dataset is required for training (a comma list of dataset_info.json names or files)");
        double valSize = (double)e["val_size"].Value!;
        if (valSize > 0 && e["eval_dataset"].Value is not null) throw new UserException($"{W("val_size")}: val_size cannot be used together with eval_dataset");
        if (valSize > 0 && e["dataset"].Value is null) throw new UserException($"{W("val_size")}: val_size needs dataset to split");
        if (e["mask_history"].Value is true && e["train_on_prompt"].Value is true)
            throw new UserException($"{W("mask_history")}: mask_history cannot be used together with train_on_prompt");

        // Thinking: think_block and enable_thinking must agree.
        if (e["think_block"].Value is string tb && Given("enable_thinking") && (tb == "answer") != (e["enable_thinking"].Value is true))
            throw new UserException($"{W("think_block")}: think_block: {tb} contradicts enable_thinking: {ConfigFormat.Value(e["enable_thinking"].Value)} (answer goes with true, prompt with false)");

        // Evaluation: transformers' Trainer checks.
        bool hasEval = e["eval_dataset"].Value is not null || valSize > 0;
        string evalStrategy = (string)e["eval_strategy"].Value!;
        if (evalStrategy != "no" && !hasEval) throw new UserException($"{W("eval_strategy")}: eval_strategy: {evalStrategy} needs evaluation data (eval_dataset or val_size)");
        if ((long)e["generative_eval.samples"].Value! > 0 && !hasEval)
            throw new UserException($"{W("generative_eval.samples")}: generative_eval.samples needs evaluation data (eval_dataset or val_size)");
        if (e["load_best_model_at_end"].Value is true)
        {
            string save = (string)e["save_strategy"].Value!;
            if (evalStrategy == "no" || evalStrategy != save)
                throw new UserException($"{W("load_best_model_at_end")}: load_best_model_at_end needs eval_strategy and save_strategy to be the same and not no (got {evalStrategy} and {save})");
            if (save == "steps" && (long)e["save_steps"].Value! % (long)e["eval_steps"].Value! != 0)
                throw new UserException($"{W("save_steps")}: with load_best_model_at_end, save_steps ({e["save_steps"].Value}) must be a multiple of eval_steps ({e["eval_steps"].Value})");
        }
        if (e["resume_from_checkpoint"].Value is string resume && !Directory.Exists(resume))
            throw new UserException($"{W("resume_from_checkpoint")}: resume_from_checkpoint: folder '{resume}' not found");
    }

    private object? Get(string key) => _entries[key].Value;

    private string? GetString(string key) => Get(key) as string;

    private string Where(string key) => _entries[key].Location ?? Path ?? "configuration";

    // model
    /// <summary><c>model_name_or_path</c> as given.</summary>
    public string ModelNameOrPath => GetString("model_name_or_path")!;

    /// <summary>The model folder as a full path.</summary>
    public string ModelPath => System.IO.Path.GetFullPath(ModelNameOrPath);

    /// <summary><c>adapter_name_or_path</c>, or null.</summary>
    public string? AdapterPath => GetString("adapter_name_or_path") is { } a ? System.IO.Path.GetFullPath(a) : null;

    /// <summary>The renderer <c>template</c> resolved to (<see cref="TemplateTable"/>).</summary>
    public TemplateChoice Template { get; }

    /// <summary><c>default_system</c>, or null.</summary>
    public string? DefaultSystem => GetString("default_system");

    /// <summary>The effective <c>enable_thinking</c>: forced by the template (qwen3_nothink: false), else the key.</summary>
    public bool EnableThinking => Template.EnableThinking ?? (bool)Get("enable_thinking")!;

    // method
    /// <summary><c>do_train</c>.</summary>
    public bool DoTrain => (bool)Get("do_train")!;

    /// <summary><c>finetuning_type</c> is full.</summary>
    public bool FullFineTuning => GetString("finetuning_type") == "full";

    /// <summary><c>lora_rank</c>.</summary>
    public int LoraRank => (int)(long)Get("lora_rank")!;

    /// <summary><c>lora_alpha</c> (default 2 × rank).</summary>
    public double LoraAlpha => (double)Get("lora_alpha")!;

    /// <summary><c>lora_dropout</c>.</summary>
    public double LoraDropout => (double)Get("lora_dropout")!;

    /// <summary><c>lora_target</c> as parsed LoRA targets (<c>all</c>: the seven projections).</summary>
    public IReadOnlyList<LoraTarget> LoraTargetList => GetString("lora_target") is "all" or "all-linear" ? LoraTargets.All : LoraTargets.Parse(GetString("lora_target")!, "lora_target");

    /// <summary><c>use_rslora</c>.</summary>
    public bool UseRslora => (bool)Get("use_rslora")!;

    /// <summary><c>bf16</c>.</summary>
    public bool Bf16 => (bool)Get("bf16")!;

    /// <summary><c>gradient_checkpointing</c>.</summary>
    public bool GradientCheckpointing => (bool)Get("gradient_checkpointing")!;

    /// <summary>The LoRA configuration these keys describe.</summary>
    public LoraConfig Lora => new() { Rank = LoraRank, Alpha = LoraAlpha, Dropout = LoraDropout, UseRslora = UseRslora, Targets = LoraTargetList };

    // dataset
    /// <summary><c>dataset</c> names or files (empty when unset).</summary>
    public IReadOnlyList<string> Dataset => (Get("dataset") as IReadOnlyList<string>) ?? [];

    /// <summary><c>dataset_dir</c>.</summary>
    public string DatasetDir => GetString("dataset_dir")!;

    /// <summary><c>eval_dataset</c> names or files (empty when unset).</summary>
    public IReadOnlyList<string> EvalDataset => (Get("eval_dataset") as IReadOnlyList<string>) ?? [];

    /// <summary><c>val_size</c>: 0 none, a fraction in (0, 1), or a whole count ≥ 1.</summary>
    public double ValSize => (double)Get("val_size")!;

    /// <summary><c>max_samples</c>, or null.</summary>
    public int? MaxSamples => Get("max_samples") is long l ? (int)Math.Min(l, int.MaxValue) : null;

    /// <summary><c>cutoff_len</c>.</summary>
    public int CutoffLen => (int)(long)Get("cutoff_len")!;

    /// <summary><c>train_on_prompt</c>.</summary>
    public bool TrainOnPrompt => (bool)Get("train_on_prompt")!;

    /// <summary><c>mask_history</c>.</summary>
    public bool MaskHistory => (bool)Get("mask_history")!;

    /// <summary><c>overwrite_cache</c>.</summary>
    public bool OverwriteCache => (bool)Get("overwrite_cache")!;

    /// <summary><c>disable_shuffling</c>.</summary>
    public bool DisableShuffling => (bool)Get("disable_shuffling")!;

    /// <summary><c>truncation</c>: left, history, drop or error.</summary>
    public string Truncation => GetString("truncation")!;

    /// <summary>The effective <c>think_block</c>: the key, else answer when enable_thinking, else prompt.</summary>
    public string ThinkBlock => GetString("think_block") ?? (EnableThinking ? "answer" : "prompt");

    // train
    /// <summary><c>per_device_train_batch_size</c>.</summary>
    public int TrainBatchSize => (int)(long)Get("per_device_train_batch_size")!;

    /// <summary><c>gradient_accumulation_steps</c>.</summary>
    public int GradientAccumulationSteps => (int)(long)Get("gradient_accumulation_steps")!;

    /// <summary><c>learning_rate</c>.</summary>
    public double LearningRate => (double)Get("learning_rate")!;

    /// <summary><c>num_train_epochs</c>.</summary>
    public double NumTrainEpochs => (double)Get("num_train_epochs")!;

    /// <summary><c>max_steps</c> (-1: from epochs).</summary>
    public long MaxSteps => (long)Get("max_steps")!;

    /// <summary><c>lr_scheduler_type</c>.</summary>
    public string LrSchedulerType => GetString("lr_scheduler_type")!;

    /// <summary><c>warmup_ratio</c>.</summary>
    public double WarmupRatio => (double)Get("warmup_ratio")!;

    /// <summary><c>warmup_steps</c>.</summary>
    public int WarmupSteps => (int)(long)Get("warmup_steps")!;

    /// <summary><c>weight_decay</c>.</summary>
    public double WeightDecay => (double)Get("weight_decay")!;

    /// <summary><c>adam_beta1</c>.</summary>
    public double AdamBeta1 => (double)Get("adam_beta1")!;

    /// <summary><c>adam_beta2</c>.</summary>
    public double AdamBeta2 => (double)Get("adam_beta2")!;

    /// <summary><c>adam_epsilon</c>.</summary>
    public double AdamEpsilon => (double)Get("adam_epsilon")!;

    /// <summary><c>max_grad_norm</c> (0: no clipping).</summary>
    public double MaxGradNorm => (double)Get("max_grad_norm")!;

    /// <summary><c>seed</c>.</summary>
    public long Seed => (long)Get("seed")!;

    /// <summary><c>group_by_length</c>.</summary>
    public bool GroupByLength => (bool)Get("group_by_length")!;

    /// <summary><c>max_time</c> as a duration, or null.</summary>
    public TimeSpan? MaxTime => Get("max_time") is double s ? TimeSpan.FromSeconds(s) : null;

    // output
    /// <summary><c>output_dir</c> as a full path.</summary>
    public string OutputDir => System.IO.Path.GetFullPath(GetString("output_dir")!);

    /// <summary><c>overwrite_output_dir</c>.</summary>
    public bool OverwriteOutputDir => (bool)Get("overwrite_output_dir")!;

    /// <summary><c>logging_steps</c>.</summary>
    public int LoggingSteps => (int)(long)Get("logging_steps")!;

    /// <summary><c>save_steps</c>.</summary>
    public int SaveSteps => (int)(long)Get("save_steps")!;

    /// <summary><c>save_total_limit</c>, or null.</summary>
    public int? SaveTotalLimit => Get("save_total_limit") is long l ? (int)l : null;

    /// <summary><c>save_strategy</c>: steps, epoch or no.</summary>
    public string SaveStrategy => GetString("save_strategy")!;

    /// <summary><c>plot_loss</c>.</summary>
    public bool PlotLoss => (bool)Get("plot_loss")!;

    /// <summary><c>resume_from_checkpoint</c> as a full path, or null.</summary>
    public string? ResumeFromCheckpointPath => GetString("resume_from_checkpoint") is { } p ? System.IO.Path.GetFullPath(p) : null;

    /// <summary><c>resume_from_checkpoint: true</c>: the newest checkpoint in output_dir.</summary>
    public bool ResumeFromLatestCheckpoint => Get("resume_from_checkpoint") is true;

    // eval
    /// <summary><c>per_device_eval_batch_size</c>.</summary>
    public int EvalBatchSize => (int)(long)Get("per_device_eval_batch_size")!;

    /// <summary><c>eval_strategy</c>: no, steps or epoch.</summary>
    public string EvalStrategy => GetString("eval_strategy")!;

    /// <summary><c>eval_steps</c> (default logging_steps).</summary>
    public int EvalSteps => (int)(long)Get("eval_steps")!;

    /// <summary><c>do_eval</c> (default: eval_strategy is not no).</summary>
    public bool DoEval => (bool)Get("do_eval")!;

    /// <summary><c>load_best_model_at_end</c>.</summary>
    public bool LoadBestModelAtEnd => (bool)Get("load_best_model_at_end")!;

    /// <summary><c>metric_for_best_model</c> (default loss with load_best_model_at_end), or null.</summary>
    public string? MetricForBestModel => GetString("metric_for_best_model");

    /// <summary>The <c>generative_eval</c> block.</summary>
    public GenerativeEvalConfig GenerativeEval => new((int)(long)Get("generative_eval.samples")!, (int)(long)Get("generative_eval.max_new_tokens")!, Get("generative_eval.labels") as IReadOnlyList<string>);

    /// <summary>Overfitting thresholds, <c>stop_on_overfit</c> and <c>drift_margin</c>.</summary>
    public OverfitConfig Overfit => OverfitOf(Get);

    /// <summary>
    /// The preprocessing options these keys describe: <c>cutoff_len</c>, <c>truncation</c>, <c>train_on_prompt</c>,
    /// <c>mask_history</c>, and the prompt settings — the template as resolved (a built-in name, or null for the model
    /// folder's own), the effective <c>think_block</c> and <c>default_system</c>.
    /// </summary>
    public Preprocessing.PreprocessOptions ToPreprocessOptions() => new()
    {
        CutoffLen = CutoffLen,
        Truncation = Enum.Parse<Preprocessing.TruncationMode>(Truncation, ignoreCase: true),
        TrainOnPrompt = TrainOnPrompt,
        MaskHistory = MaskHistory,
        AllowRenderMismatch = (bool)Get("allow_render_mismatch")!,
        AllowRenderMismatchHint = $"set allow_render_mismatch: true in {Path ?? "the training configuration"}",
        Prompt = new Preprocessing.PromptSettings
        {
            Template = Template.TextStackTemplate,
            ThinkBlock = ThinkBlock == "answer" ? Preprocessing.ThinkBlockPlacement.Answer : Preprocessing.ThinkBlockPlacement.Prompt,
            DefaultSystem = DefaultSystem,
        },
    };

    /// <summary>The dataset keys as a <see cref="DatasetSelection"/> (dataset, eval_dataset, dataset_dir, val_size, max_samples, seed).</summary>
    public DatasetSelection DatasetSelection => new(Dataset, EvalDataset, DatasetDir, ValSize, MaxSamples, Seed);

    /// <summary>Reads the training and evaluation records (<see cref="DatasetResolver"/>); errors name the dataset, file and line.</summary>
    public ResolvedDatasets ResolveDatasets() => DatasetResolver.Resolve(DatasetSelection);

    /// <summary>
    /// The resolved configuration as text for <c>--print-config</c>: one line per key (<c>key: value  # source</c>,
    /// the source being <c>file:line</c>, <c>override</c> or <c>default</c>), the template resolution, then the ignored keys.
    /// </summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("# resolved configuration").Append(Path is null ? "" : " of " + Path).Append('\n');
        string? group = null;
        int width = ConfigKeys.All.Max(k => k.Name.Length) + 2;
        foreach (var e in Entries)
        {
            if (e.Key.Group != group)
            {
                group = e.Key.Group;
                sb.Append("### ").Append(group).Append('\n');
            }
            var value = ConfigFormat.Value(e.Value);
            string source = e.Source switch
            {
                ConfigSource.File => "file " + e.Location,
                ConfigSource.Override => e.Location!,
                _ => e.Note is null ? "default" : $"default ({e.Note})",
            };
            sb.Append((e.Key.Name + ":").PadRight(width)).Append(value.PadRight(Math.Max(12, value.Length + 2))).Append("# ").Append(source).Append('\n');
        }
        sb.Append($"# template resolves to {Template.Description}; enable_thinking={ConfigFormat.Value(EnableThinking)}, think_block={ThinkBlock}\n");
        foreach (var i in IgnoredKeys)
            sb.Append($"# ignored: {i.Name}: {i.Value} ({i.Location}) — {i.Reason}\n");
        return sb.ToString();
    }
}
