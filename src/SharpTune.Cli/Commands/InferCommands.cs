using System.Globalization;
using SharpTune.Cli.CommandLine;
using SharpTune.Engine;
using SharpTune.Evaluation;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Training;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune infer</c> (batch inference or label scoring over a dataset with the training prompt), <c>sharptune
/// chat</c> (interactive multi-turn chat) and <c>sharptune export</c> (LLaMA-Factory's merge config → a merged model folder).
/// </summary>
internal static class InferCommands
{
    public static IEnumerable<CliCommand> Create(Func<string, IModelFolder> openFolder) => [Infer(openFolder), Chat(openFolder), Export()];

    // maxNewTokens: infer answers labels (16), chat replies in prose (512).
    private static CliCommand PromptOptions(this CliCommand c, int maxNewTokens) => c
        .Option("adapter", "A PEFT LoRA adapter folder applied to the model.", "DIR")
        .Option("run", "A train output folder, checkpoint or preprocessing cache entry: its prompt_settings.json (and its adapter, if it holds one).", "DIR")
        .Option("template", "Chat template (built-in name or .jinja); with --run only as prompt drift.", "NAME|PATH")
        .Option("default-system", "System prompt for records without one; with --run only as prompt drift.", "TEXT")
        .Option("enable-thinking", "LLaMA-Factory's think-block key (false = think block in the prompt).", "true|false")
        .Option("think-block", "Where Qwen3's empty think block belongs: prompt or answer.", "prompt|answer")
        .Option("template-kwarg", "Extra template variable KEY=JSON (repeatable).", "K=V", repeatable: true)
        .Flag("allow-prompt-drift", "Let prompt flags override the run's saved prompt settings (the differences are printed).")
        .Option("max-new-tokens", "Most tokens to generate per record (per reply in chat).", "N", maxNewTokens.ToString(CultureInfo.InvariantCulture))
        .Option("temperature", "Sampling temperature; 0 = greedy.", "T", "0")
        .Option("top-k", "Sample from the k most likely tokens (0 = all).", "K", "0")
        .Option("top-p", "Nucleus sampling probability mass (1 = off).", "P", "1")
        .Option("seed", "Sampling seed (each record draws from its own stream of it).", "N", "0")
        .Option("stop", "Stop when this string appears in the generated text (repeatable).", "TEXT", repeatable: true)
        .Option("eos-id", "End-of-sequence id (repeatable; default: generation_config.json's, else config.json's); the template's end-of-turn token always stops.", "ID", repeatable: true)
        .Option("weights", "Weight storage: auto, f32 or bf16.", "auto|f32|bf16", "auto");

    private static CliCommand Infer(Func<string, IModelFolder> openFolder) =>
        new CliCommand("infer", "Batch inference over a dataset with exactly the training prompt; predictions as JSONL.")
        {
            Description = """
                Records: Alpaca (system, history), messages, ShareGPT (the last assistant message is the reference), prompt/completion,
                test_raw.jsonl from prepare movielens, or {"prompt": ...} lines. Prompts come from the same prompt builder as training;
                with --run DIR every prompt setting comes from the run, and a contradicting flag is an error unless --allow-prompt-drift.
                Greedy decoding, stopping at EOS, the template's end-of-turn token and --stop strings; continuous batching.
                --score --labels Yes,No: the log-probability of each label after the prompt (no generation) and p, the positive
                label's probability over the label set. Output: one JSON line per record in input order (index, output, answer, label,
                correct, finish_reason, prompt_tokens, generated_tokens, scores, p, prompt, id fields); rerunning with the same --output
                resumes after the records already written (same model, adapter, data and settings, else an error).
                """,
        }
            .Option("model", "Model folder: config.json, safetensors weights, tokenizer files.", "DIR", required: true)
            .Option("data", "Records (JSON array or JSON Lines); or --dataset-info FILE --dataset NAME.", "FILE")
            .Option("dataset-info", "A dataset_info.json: read the records of its entry --dataset as training read them (LLaMA-Factory's columns and one-newline Alpaca join).", "FILE")
            .Option("dataset", "The entry of --dataset-info to infer for.", "NAME")
            .Option("output", "Predictions JSONL (resumable; OUTPUT.partial while running, OUTPUT.infer.json records the settings).", "FILE", required: true)
            .PromptOptions(maxNewTokens: 16)
            .Option("labels", "Label set, comma-separated (e.g. Yes,No): answers are extracted to it (default with --run: the run's generative_eval labels).", "LIST")
            .Option("positive", "The label whose probability is p (default: the first label).", "LABEL")
            .Flag("score", "Score the labels teacher-forced instead of generating (needs --labels).")
            .Flag("save-prompts", "Write each rendered prompt into its line.")
            .Flag("add-special-tokens", "Add the tokenizer's special tokens when encoding (off: as training, the template holds any BOS).")
            .Option("batch-size", "Sequences run together.", "N", "8")
            .Flag("no-prefix-cache", "Compute every prompt whole (default: a prompt's leading tokens that a prompt already in the KV cache shares are copied, not recomputed).")
            .Handle(a => RunInfer(a, openFolder));

    private static (PromptSettings Prompt, string? Adapter) ResolvePrompt(ParsedArgs a)
    {
        var r = ResolveRun(a);
        return (r.Prompt, r.Adapter);
    }

    // The prompt settings and adapter to infer with, and the run folder when --run is given.
    private static (PromptSettings Prompt, string? Adapter, RunFolder? Run) ResolveRun(ParsedArgs a)
    {
        string? Lookup(string key) => key == "template_kwargs" ? PreprocessCommands.TemplateKwargs(a) : a.Has(key.Replace('_', '-')) ? a.String(key.Replace('_', '-')) : null;
        string Describe(string key) => key == "template_kwargs" ? "--template-kwarg" : "--" + key.Replace('_', '-');
        string? adapter = a.Has("adapter") ? a.RequiredString("adapter") : null;
        if (!a.Has("run"))
        {
            if (a.Bool("allow-prompt-drift")) throw new UserException("--allow-prompt-drift applies to --run DIR");
            return (PreprocessSettingsBinder.Bind(k => PromptDrift.Keys.Contains(k) ? Lookup(k) : null, Describe).Prompt, adapter, null);
        }
        var run = RunFolder.Open(a.RequiredString("run"));
        if (run.ModelPath is { } runModel && a.Has("model") && Path.TrimEndingDirectorySeparator(Path.GetFullPath(a.RequiredString("model"))) != runModel)
            a.Error.WriteLine($"warning: --run {a.RequiredString("run")} is a full fine-tuning run whose weights are in {runModel}, " +
                              $"but --model is {a.RequiredString("model")}: the answers are that model's, not the run's (give --model {runModel})");
        if (adapter is not null && run.AdapterPath is not null && Path.GetFullPath(adapter) != run.AdapterPath)
            throw new UserException($"--adapter {adapter} and --run {a.RequiredString("run")} (which holds the adapter {run.AdapterPath}) disagree; give one of them");
        var (settings, diffs) = PromptDrift.Apply(run.Prompt, Lookup, a.Bool("allow-prompt-drift"), Describe);
        foreach (var d in diffs) a.Error.WriteLine($"prompt drift from {run.Checkpoint}: {d}");
        return (settings, adapter ?? run.AdapterPath, run);
    }

    /// <summary>
    /// The label set: <c>--labels</c>, else the run's (its generative evaluation's, recorded in prompt_settings.json),
    /// so answers are extracted to the labels the run was evaluated with; a --labels that differs from the run's is noted.
    /// </summary>
    private static LabelSet? ResolveLabels(ParsedArgs a, RunFolder? run)
    {
        var saved = run?.Settings.Labels;
        if (!a.Has("labels"))
        {
            if (saved is null) return null;
            a.Error.WriteLine($"labels {string.Join(",", saved)} from {Path.Combine(run!.Checkpoint, PromptSettingsFile.FileName)}");
            return new LabelSet(saved, $"{Path.Combine(run.Checkpoint, PromptSettingsFile.FileName)}: labels");
        }
        var labels = LabelSet.Parse(a.RequiredString("labels"));
        if (saved is not null && !labels.Labels.SequenceEqual(saved, StringComparer.Ordinal))
            a.Error.WriteLine($"note: --labels {string.Join(",", labels.Labels)} differs from the run's labels {string.Join(",", saved)} ({run!.Checkpoint})");
        return labels;
    }

    private static GenerationOptions Generation(ParsedArgs a) => new()
    {
        MaxNewTokens = a.Int("max-new-tokens", 0),
        Temperature = (float)a.Double("temperature"),
        TopK = a.Int("top-k", 0),
        TopP = (float)a.Double("top-p"),
        Seed = a.Int("seed"),
        EosTokenIds = a.List("eos-id").Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new UserException($"--eos-id: expected a non-negative token id, got '{s}'")).ToArray(),
        StopStrings = a.List("stop"),
    };

    private static WeightStorage Storage(ParsedArgs a) =>
        a.Choice("weights", "auto", "f32", "bf16") switch { "f32" => WeightStorage.F32, "bf16" => WeightStorage.BF16, _ => WeightStorage.Auto };

    private static int RunInfer(ParsedArgs a, Func<string, IModelFolder> openFolder)
    {
        var (prompt, adapter, run) = ResolveRun(a);
        var labels = ResolveLabels(a, run);
        string dataPath;
        Data.Sft.DatasetDescription? description = null;
        if (a.Has("dataset-info"))
        {
            if (a.Has("data")) throw new UserException("give --data FILE or --dataset-info FILE --dataset NAME, not both");
            (description, dataPath) = Data.Sft.DatasetDescription.Load(a.RequiredString("dataset-info"), a.String("dataset") ?? throw new UserException("--dataset-info needs --dataset NAME"));
        }
        else if (a.Has("dataset")) throw new UserException("--dataset NAME needs --dataset-info FILE");
        else dataPath = a.String("data") ?? throw new UserException("missing --data FILE (or --dataset-info FILE --dataset NAME)");
        var settings = new InferenceSettings
        {
            DataPath = dataPath,
            Description = description,
            OutputPath = a.RequiredString("output"),
            AdapterPath = adapter,
            Prompt = prompt,
            Generation = Generation(a),
            Labels = labels,
            Positive = a.String("positive"),
            Score = a.Bool("score"),
            SavePrompts = a.Bool("save-prompts"),
            AddSpecialTokens = a.Bool("add-special-tokens"),
            BatchSize = a.Int("batch-size", 1),
            PrefixCache = !a.Bool("no-prefix-cache"),
            Weights = Storage(a),
            Warning = w => a.Error.WriteLine("warning: " + w),
        };
        string dir = a.RequiredString("model");
        if (!Directory.Exists(dir)) throw new UserException($"--model: folder not found: {dir}");
        using var folder = openFolder(dir);
        using var backend = ComputeBackends.Create();
        bool terminal = !Console.IsErrorRedirected && ReferenceEquals(a.Error, Console.Error);
        long last = 0;
        var summary = BatchInference.Run(folder, settings, backend, terminal ? (done, total) =>
        {
            long now = Environment.TickCount64;
            if (now - last < 200 && done < total) return;
            last = now;
            a.Error.Write($"\rinfer: {done}/{total} records");
            if (done == total) a.Error.WriteLine();
        } : null);
        a.Error.WriteLine(summary.Line());
        return CliApp.Success;
    }

    private static CliCommand Chat(Func<string, IModelFolder> openFolder) =>
        new CliCommand("chat", "Interactive multi-turn chat with a model (the run's template and prompt settings), tokens streamed.")
        {
            Description = """
                Type a message and press Enter; the reply streams as it is generated. Commands: /reset forgets the conversation,
                /system TEXT sets the system prompt (and resets), /exit (or end of input) quits. When stdin is not a terminal,
                each line is one user message and each reply is printed on its own line.
                """,
        }
            .Option("model", "Model folder.", "DIR", required: true)
            .Option("system", "System prompt (default: the run's default_system, else the template's).", "TEXT")
            .PromptOptions(maxNewTokens: 512)
            .Option("context", "Most tokens of a conversation (prompt + reply).", "N", "4096")
            .Handle(a => RunChat(a, openFolder));

    private static int RunChat(ParsedArgs a, Func<string, IModelFolder> openFolder)
    {
        var (prompt, adapterPath) = ResolvePrompt(a);
        var options = Generation(a);
        options.Validate();
        string dir = a.RequiredString("model");
        if (!Directory.Exists(dir)) throw new UserException($"--model: folder not found: {dir}");
        using var folder = openFolder(dir);
        var tokenizer = folder.Tokenizer ?? throw new UserException($"{dir}: no tokenizer (tokenizer.json) to chat with");
        var builder = BatchInference.Builder(folder, prompt);
        options = options with { EosTokenIds = BatchInference.StopIds(folder, builder, tokenizer, options.EosTokenIds) };
        int context = Math.Min(a.Int("context", 2), Math.Max(2, folder.Config.MaxPositionEmbeddings));
        // A conversation never runs past the model's trained length: a larger --context is capped, and said so.
        if (a.Has("context") && a.Int("context", 2) > context)
            a.Error.WriteLine($"warning: --context {a.Int("context", 2)} is past the model's max_position_embeddings {folder.Config.MaxPositionEmbeddings} (config.json); conversations are limited to {context} tokens");
        var adapter = adapterPath is null ? null : PeftAdapter.Load(adapterPath, folder.Config);
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(folder.Config, folder.Weights, backend, Storage(a), maxPositions: context);
        using var attached = adapter is null ? null : LoraAttachment.Attach(weights, adapter);
        using var model = new DecoderModel(weights, maxTokens: 512, maxLogitRows: 1);
        using var session = new ChatSession(model, builder, tokenizer, options, context, a.String("system"));
        bool interactive = !Console.IsInputRedirected && ReferenceEquals(a.In, Console.In);
        if (interactive) a.Out.WriteLine("chat: /reset forgets the conversation, /system TEXT sets the system prompt, /exit quits");
        while (true)
        {
            if (interactive) a.Out.Write("User: ");
            var line = a.In.ReadLine();
            if (line is null || line.Trim() == "/exit") break;
            var text = line.Trim();
            if (text.Length == 0) continue;
            if (text == "/reset") { session.Reset(); a.Out.WriteLine("(conversation reset)"); continue; }
            if (text == "/system" || text.StartsWith("/system ", StringComparison.Ordinal))
            {
                var system = text.Length > 7 ? text[8..].Trim() : "";
                session.System = system.Length == 0 ? null : system;
                session.Reset();
                a.Out.WriteLine(system.Length == 0 ? "(system prompt cleared; conversation reset)" : "(system prompt set; conversation reset)");
                continue;
            }
            if (interactive) a.Out.Write("Assistant: ");
            session.Send(line, piece => { a.Out.Write(piece); a.Out.Flush(); });
            a.Out.WriteLine();
        }
        return CliApp.Success;
    }

    private static CliCommand Export() =>
        new CliCommand("export", "Merge a LoRA adapter into its base model from a LLaMA-Factory merge config (export_dir, export_size, …).")
        {
            Description = """
                Reads LLaMA-Factory's export keys: model_name_or_path, adapter_name_or_path, template, export_dir, export_size (GB per
                shard, default 5), export_legacy_format (false), finetuning_type (lora), export_device and trust_remote_code (no effect).
                Writes export_dir atomically: config.json, model.safetensors (or shards with model.safetensors.index.json when the
                weights exceed export_size), the tokenizer files, and the chat template (the template key's when it is a built-in
                or .jinja file, else the base model's). Example: LLaMA-Factory's examples/merge_lora/qwen3_lora_sft.yaml with local paths.
                """,
        }
            .Argument("CONFIG", "The merge config (YAML).")
            .Handle(a =>
            {
                var config = MergeExportConfig.Load(a.Positionals[0]);
                var r = MergeExport.Run(config);
                a.Out.WriteLine($"wrote {config.ExportDir}: {r.Shards.Count} safetensors file(s), {r.Modules} LoRA modules merged{(config.AdapterPath is null ? "" : $" from {config.AdapterPath}")}, chat template from {r.ChatTemplate}");
                return CliApp.Success;
            });
}
