namespace SharpTune.Training.Configuration;

/// <summary>
/// Every key a training configuration accepts, with LLaMA-Factory's (and transformers') names, meanings and defaults;
/// the infrastructure keys that are accepted and ignored; and the result-changing keys SharpTune does not implement.
/// </summary>
public static class ConfigKeys
{
    private static ConfigKey K(string name, string group, ConfigValueKind kind, object? def, string meaning) => new(name, group, kind, def, meaning);

    private static readonly ConfigValueKind B = ConfigValueKind.Bool, I = ConfigValueKind.Int, D = ConfigValueKind.Double,
        S = ConfigValueKind.String, C = ConfigValueKind.Choice;

    /// <summary>The supported keys, in README order.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        // model
        K("model_name_or_path", "model", S, null, "local Hugging Face model folder (config.json, safetensors, tokenizer files); required"),
        K("adapter_name_or_path", "model", S, null, "a PEFT LoRA adapter folder to continue training") with { Nullable = true },
        K("template", "model", S, null, "chat template name (see the template table); null: the model folder's own chat_template") with { Nullable = true },
        K("default_system", "model", S, null, "system prompt for records without one (training and inference alike)") with { Nullable = true },
        K("enable_thinking", "model", B, true, "reasoning templates (qwen3): true puts the empty <think></think> block in the supervised answer, false in the prompt"),

        // method
        K("stage", "method", C, "sft", "training stage; only sft") with { Choices = ["sft"] },
        K("do_train", "method", B, true, "run training (false: evaluation only)"),
        K("finetuning_type", "method", C, "lora", "lora or full") with { Choices = ["lora", "full"] },
        K("lora_rank", "method", I, 8L, "LoRA rank r") with { Min = 1 },
        K("lora_alpha", "method", D, null, "LoRA alpha; null: 2 × lora_rank") with { Nullable = true, Min = 0, MinExclusive = true },
        K("lora_dropout", "method", D, 0.0, "dropout on the LoRA input") with { Min = 0, Max = 0.999 },
        K("lora_target", "method", S, "all", "all, or a comma list of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"),
        K("use_rslora", "method", B, false, "rank-stabilized scaling alpha/√r instead of alpha/r"),
        K("bf16", "method", B, false, "hold the frozen base weights in BF16 (LoRA) — master weights and activations stay fp32"),
        K("gradient_checkpointing", "method", B, false, "recompute each layer in the backward pass (less memory, same result)"),
        K("optim", "method", C, "adamw_torch", "optimizer; AdamW as torch.optim.AdamW") with { Choices = ["adamw_torch", "adamw_torch_fused"] },

        // dataset
        K("dataset", "dataset", ConfigValueKind.StringList, null, "comma list of dataset_info.json names or data files (relative to dataset_dir)") with { Nullable = true },
        K("dataset_dir", "dataset", S, "data", "folder holding dataset_info.json and the data files"),
        K("eval_dataset", "dataset", ConfigValueKind.StringList, null, "comma list of evaluation datasets") with { Nullable = true },
        K("val_size", "dataset", ConfigValueKind.CountOrFraction, 0.0, "evaluation records split off the training data: a count, or a fraction in (0, 1); seeded by seed"),
        K("max_samples", "dataset", I, null, "keep the first N records of each dataset") with { Nullable = true, Min = 1 },
        K("cutoff_len", "dataset", I, 2048L, "maximum tokens per sample") with { Min = 2 },
        K("train_on_prompt", "dataset", B, false, "supervise the prompt tokens too"),
        K("mask_history", "dataset", B, false, "supervise only the last assistant turn"),
        K("overwrite_cache", "dataset", B, false, "rebuild the preprocessing cache"),
        K("disable_shuffling", "dataset", B, false, "train in dataset order instead of a seeded permutation per epoch"),
        K("truncation", "dataset", C, "left", "over-length samples: left, history, drop or error") with { Choices = ["left", "history", "drop", "error"], SharpTuneOwn = true },
        K("allow_render_mismatch", "dataset", B, false, "count and report samples whose inference prompt tokenizes differently from the training prefix instead of failing") with { SharpTuneOwn = true },
        K("think_block", "dataset", C, null, "prompt or answer: where Qwen3's empty think block belongs; null: from enable_thinking") with { Choices = ["prompt", "answer"], Nullable = true, SharpTuneOwn = true },

        // train
        K("per_device_train_batch_size", "train", I, 8L, "samples per micro-batch") with { Min = 1 },
        K("gradient_accumulation_steps", "train", I, 1L, "micro-batches per optimizer step") with { Min = 1 },
        K("learning_rate", "train", D, 5e-5, "peak learning rate") with { Min = 0, MinExclusive = true },
        K("num_train_epochs", "train", D, 3.0, "epochs (may be fractional)") with { Min = 0, MinExclusive = true },
        K("max_steps", "train", I, -1L, "total optimizer steps; overrides num_train_epochs when > 0") with { Min = -1 },
        K("lr_scheduler_type", "train", C, "linear", "learning-rate schedule") with { Choices = ["constant", "constant_with_warmup", "linear", "cosine"] },
        K("warmup_ratio", "train", D, 0.0, "warmup as a fraction of the total steps") with { Min = 0, Max = 1 },
        K("warmup_steps", "train", I, 0L, "warmup steps (overrides warmup_ratio when > 0)") with { Min = 0 },
        K("weight_decay", "train", D, 0.0, "AdamW weight decay (not on biases and norm weights)") with { Min = 0 },
        K("adam_beta1", "train", D, 0.9, "AdamW beta1") with { Min = 0, Max = 0.999999 },
        K("adam_beta2", "train", D, 0.999, "AdamW beta2") with { Min = 0, Max = 0.999999 },
        K("adam_epsilon", "train", D, 1e-8, "AdamW epsilon") with { Min = 0, MinExclusive = true },
        K("max_grad_norm", "train", D, 1.0, "clip the global gradient norm (0: no clipping)") with { Min = 0 },
        K("seed", "train", I, 42L, "seed of LoRA init, dropout, shuffling and the val_size split") with { Min = 0 },
        K("group_by_length", "train", B, false, "batch samples of similar length together (transformers' length-grouped sampler)"),
        K("max_time", "train", ConfigValueKind.Duration, null, "wall-clock budget: 90m, 1.5h, 45s or seconds; stops at a step boundary with a checkpoint") with { Nullable = true, Min = 0, MinExclusive = true, SharpTuneOwn = true },

        // output
        K("output_dir", "output", S, null, "where checkpoints, logs and the final model go; required"),
        K("overwrite_output_dir", "output", B, false, "allow a non-empty output_dir"),
        K("logging_steps", "output", I, 500L, "log every N steps") with { Min = 1 },
        K("save_steps", "output", I, 500L, "checkpoint every N steps (save_strategy: steps)") with { Min = 1 },
        K("save_total_limit", "output", I, null, "keep only the newest N checkpoints") with { Nullable = true, Min = 1 },
        K("save_strategy", "output", C, "steps", "when to checkpoint") with { Choices = ["steps", "epoch", "no"] },
        K("plot_loss", "output", B, false, "draw training_loss.png (and training_eval_loss.png)"),
        K("resume_from_checkpoint", "output", ConfigValueKind.PathOrBool, null, "a checkpoint folder, or true for the newest in output_dir") with { Nullable = true },

        // eval
        K("per_device_eval_batch_size", "eval", I, 8L, "samples per evaluation batch") with { Min = 1 },
        K("eval_strategy", "eval", C, "no", "when to evaluate") with { Choices = ["no", "steps", "epoch"] },
        K("eval_steps", "eval", I, null, "evaluate every N steps; null: logging_steps") with { Nullable = true, Min = 1 },
        K("do_eval", "eval", B, null, "evaluate; null: true when eval_strategy is not no") with { Nullable = true },
        K("load_best_model_at_end", "eval", B, false, "keep the best checkpoint and put it at the root of output_dir"),
        K("metric_for_best_model", "eval", S, null, "metric that picks the best checkpoint; null: loss") with { Nullable = true },
        K("generative_eval.samples", "eval", I, 0L, "eval records to answer by greedy generation at each evaluation (0: off)") with { Min = 0, SharpTuneOwn = true },
        K("generative_eval.max_new_tokens", "eval", I, 16L, "generated tokens per answer") with { Min = 1, SharpTuneOwn = true },
        K("generative_eval.labels", "eval", ConfigValueKind.StringList, null, "answer labels to parse, e.g. [Yes, No]; null: exact-match answers") with { Nullable = true, SharpTuneOwn = true },

        // watch
        K("drift_margin", "watch", D, 10.0, "warn when teacher-forced first-answer-token accuracy and generative accuracy differ by more (points)") with { Min = 0, SharpTuneOwn = true },
        K("overfit_loss", "watch", D, 0.3, "overfitting: training loss below this") with { Min = 0, SharpTuneOwn = true },
        K("overfit_token_accuracy", "watch", D, 0.90, "overfitting: token accuracy above this") with { Min = 0, Max = 1, SharpTuneOwn = true },
        K("overfit_entropy", "watch", D, 0.5, "overfitting: mean entropy below this") with { Min = 0, SharpTuneOwn = true },
        K("overfit_epochs", "watch", D, 5.0, "overfitting: more epochs than this") with { Min = 0, SharpTuneOwn = true },
        K("stop_on_overfit", "watch", B, false, "stop (with a checkpoint) when an overfitting threshold is crossed"),
    ];

    private static readonly Dictionary<string, ConfigKey> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The key named <paramref name="name"/>, or null.</summary>
    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>
    /// Keys that configure infrastructure SharpTune does not have and that do not change the mathematics of a run;
    /// accepted with any value and listed once as ignored. Value: why it makes no difference.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Ignored { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["preprocessing_num_workers"] = "preprocessing runs on all cores",
        ["preprocessing_batch_size"] = "preprocessing batching does not change samples",
        ["dataloader_num_workers"] = "batches are read from the memory-mapped cache",
        ["dataloader_pin_memory"] = "no device transfer",
        ["dataloader_persistent_workers"] = "no loader processes",
        ["ddp_timeout"] = "single process",
        ["ddp_find_unused_parameters"] = "single process",
        ["trust_remote_code"] = "no remote code is run",
        ["flash_attn"] = "attention kernels compute the same result",
        ["enable_liger_kernel"] = "fused kernels compute the same result",
        ["use_unsloth_gc"] = "recomputation does not change the result",
        ["disable_gradient_checkpointing"] = "recomputation does not change the result (see gradient_checkpointing)",
        ["use_reentrant_gc"] = "recomputation does not change the result",
        ["deepspeed"] = "ZeRO sharding computes the same update",
        ["fsdp"] = "sharding computes the same update",
        ["fsdp_config"] = "sharding computes the same update",
        ["report_to"] = "SharpTune writes its own logs (trainer_log.jsonl, trainer_state.json)",
        ["run_name"] = "no experiment tracker",
        ["logging_dir"] = "logs go to output_dir",
        ["save_only_model"] = "checkpoints always hold the optimizer state",
        ["save_safetensors"] = "weights are always safetensors",
        ["use_fast_tokenizer"] = "one tokenizer implementation",
        ["low_cpu_mem_usage"] = "weights are memory-mapped",
        ["cache_dir"] = "models are local folders",
        ["compute_accuracy"] = "token accuracy is always computed",
        ["include_effective_tokens_per_second"] = "throughput is always logged",
        ["torch_compile"] = "no compiler; same result",
        ["tokenized_path"] = "the preprocessing cache is keyed by content",
        ["ignore_pad_token_for_loss"] = "padding never carries a label",
        ["print_param_status"] = "debug output",
        ["hf_hub_token"] = "no hub access",
        ["ms_hub_token"] = "no hub access",
        ["swanlab_project"] = "no experiment tracker",
        ["use_swanlab"] = "no experiment tracker",
        ["gradient_checkpointing_kwargs"] = "recomputation does not change the result",
        ["dataloader_drop_last"] = "handled like transformers' default (false)",
    };

    /// <summary>
    /// Keys that would change results and are not implemented: an error naming the key, unless the value is
    /// the neutral one (null, false, 0 or the listed word), which changes nothing and is listed as ignored.
    /// Value: (neutral value, what it would do).
    /// </summary>
    public static IReadOnlyDictionary<string, (string? Neutral, string What)> Unsupported { get; } = new Dictionary<string, (string?, string)>(StringComparer.Ordinal)
    {
        ["quantization_bit"] = (null, "quantized (QLoRA) training"),
        ["quantization_method"] = ("bnb", "quantized training"),
        ["packing"] = ("false", "sequence packing"),
        ["neat_packing"] = ("false", "sequence packing"),
        ["fp16"] = ("false", "fp16 mixed precision"),
        ["pure_bf16"] = ("false", "pure-BF16 training"),
        ["use_dora"] = ("false", "DoRA"),
        ["pissa_init"] = ("false", "PiSSA initialization"),
        ["loraplus_lr_ratio"] = (null, "LoRA+ learning rates"),
        ["additional_target"] = (null, "extra trainable modules"),
        ["create_new_adapter"] = ("false", "a second adapter"),
        ["use_galore"] = ("false", "GaLore"),
        ["use_apollo"] = ("false", "APOLLO"),
        ["use_badam"] = ("false", "BAdam"),
        ["use_muon"] = ("false", "the Muon optimizer"),
        ["use_adam_mini"] = ("false", "Adam-mini"),
        ["use_llama_pro"] = ("false", "LLaMA Pro block expansion"),
        ["use_dft_loss"] = ("false", "the DFT loss"),
        ["use_unsloth"] = ("false", "unsloth kernels"),
        ["shift_attn"] = ("false", "shift short attention"),
        ["rope_scaling"] = (null, "RoPE scaling"),
        ["mixture_of_depths"] = (null, "mixture of depths"),
        ["moe_aux_loss_coef"] = (null, "a router loss"),
        ["upcast_layernorm"] = ("false", "upcast norms"),
        ["upcast_lmhead_output"] = ("false", "upcast logits"),
        ["train_from_scratch"] = ("false", "random initialization"),
        ["resize_vocab"] = ("false", "vocabulary resizing"),
        ["add_tokens"] = (null, "new tokens"),
        ["add_special_tokens"] = (null, "new special tokens"),
        ["new_special_tokens_config"] = (null, "new special tokens"),
        ["streaming"] = ("false", "streamed datasets"),
        ["mix_strategy"] = ("concat", "interleaved dataset mixing"),
        ["interleave_probs"] = (null, "interleaved dataset mixing"),
        ["tool_format"] = (null, "a LLaMA-Factory tool format (SharpTune renders tools through the chat template)"),
        ["neftune_noise_alpha"] = (null, "NEFTune noise"),
        ["label_smoothing_factor"] = ("0", "label smoothing"),
        ["freeze_trainable_layers"] = (null, "freeze tuning"),
        ["freeze_trainable_modules"] = (null, "freeze tuning"),
        ["freeze_extra_modules"] = (null, "freeze tuning"),
        ["oft_rank"] = (null, "OFT"),
        ["eval_on_each_dataset"] = ("false", "per-dataset evaluation"),
        ["predict_with_generate"] = ("false", "generation at evaluation (see generative_eval)"),
        ["do_predict"] = ("false", "prediction runs"),
        ["early_stopping_steps"] = (null, "early stopping (see stop_on_overfit)"),
        ["images"] = (null, "multimodal data"),
        ["image_max_pixels"] = (null, "multimodal data"),
        ["media_dir"] = (null, "multimodal data"),
        ["lr_scheduler_kwargs"] = (null, "scheduler arguments"),
    };
}
