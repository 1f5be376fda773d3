using System.Globalization;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Data.Sft;
using SharpTune.Text;
using SharpTune.Text.Templates;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune generate</c>: greedy (or sampled) continuation of prompts with the KV-cache generator, one JSONL
/// line per prompt: <c>{"ids": [...], "text": "...", "finish_reason": "eos|stop|length"}</c>.
/// </summary>
internal static class GenerateCommand
{
    public static CliCommand Create(Func<string, IModelFolder> openFolder) =>
        new CliCommand("generate", "Generate continuations of prompts with a model (KV cache, batched).")
        {
            Description = """
                Prompts come from exactly one of --prompt TEXT, --prompt-ids "1 2 3" or --input FILE.jsonl (one object
                per line with "ids": [..] or "prompt": "text"). Output: one JSON line per prompt, in input order:
                {"ids": [generated ids only], "text": "decoded generated text", "finish_reason": "eos|stop|length"}.
                Greedy unless --temperature > 0. --chat renders text prompts as a user turn through the same prompt builder as
                training: the folder's chat_template, or --template (a built-in name or a .jinja file), with --system as the
                system prompt; with --run DIR it uses the prompt settings that run saved (prompt_settings.json: template, system
                prompt, think-block placement), so the model is asked exactly as it was trained.
                A plain text prompt is encoded with the tokenizer's special tokens (its post-processor, e.g. Llama's BOS), as
                transformers' tokenizer(prompt) does; a --chat prompt without them, since the rendered template holds them
                (--add-special-tokens true|false overrides either).
                Kernels: SHARPTUNE_KERNELS=avx512|avx2|vector128|scalar.
                """,
        }
            .Option("model", "Model folder: config.json, model.safetensors, tokenizer files.", "DIR", required: true)
            .Option("prompt", "A text prompt (needs the model's tokenizer).", "TEXT")
            .Option("prompt-ids", "A prompt as token ids separated by spaces or commas.", "IDS")
            .Option("input", "JSONL file of prompts: {\"ids\": [...]} or {\"prompt\": \"...\"} per line.", "FILE")
            .Option("max-new-tokens", "Most tokens to generate per prompt.", "N", "64")
            .Flag("chat", "Render text prompts through the model's chat template with the generation prompt.")
            .Option("run", "A preprocessing cache entry, checkpoint or run folder whose prompt_settings.json --chat renders with.", "DIR")
            .Option("template", "With --chat: the chat template, a built-in name (" + string.Join(", ", ChatTemplate.BuiltinNames) + ") or a .jinja file (default: the folder's chat_template).", "NAME|FILE")
            .Option("system", "With --chat: the system prompt of the conversation.", "TEXT")
            .Flag("allow-prompt-drift", "Let --template/--system override the settings --run saved (the differences are printed).")
            .Option("add-special-tokens", "Add the tokenizer's special tokens (e.g. BOS) when encoding text prompts: auto = for plain prompts, not for --chat prompts.", "auto|true|false", "auto")
            .Option("temperature", "Sampling temperature; 0 = greedy.", "T", "0")
            .Option("top-k", "Sample from the k most likely tokens (0 = all).", "K", "0")
            .Option("top-p", "Nucleus sampling probability mass (1 = off).", "P", "1")
            .Option("seed", "Sampling seed.", "N", "0")
            .Option("stop", "Stop when this string appears in the generated text (repeatable).", "TEXT", repeatable: true)
            .Option("eos-id", "End-of-sequence token id (repeatable; default: eos_token_id of generation_config.json, else of config.json).", "ID", repeatable: true)
            .Option("batch-size", "Prompts generated together.", "N", "8")
            .Option("weights", "Weight storage: auto (as in the checkpoint), f32 or bf16.", "auto|f32|bf16", "auto")
            .Option("output", "Write the JSONL here (atomically) instead of stdout.", "FILE")
            .Handle(a => Run(a, openFolder));

    private static int Run(ParsedArgs a, Func<string, IModelFolder> openFolder)
    {
        int sources = (a.Has("prompt") ? 1 : 0) + (a.Has("prompt-ids") ? 1 : 0) + (a.Has("input") ? 1 : 0);
        if (sources != 1) throw new UserException("give exactly one of --prompt, --prompt-ids, --input");
        string dir = a.RequiredString("model");
        if (!Directory.Exists(dir)) throw new UserException($"--model: folder not found: {dir}");
        var storage = a.Choice("weights", "auto", "f32", "bf16") switch { "f32" => WeightStorage.F32, "bf16" => WeightStorage.BF16, _ => WeightStorage.Auto };
        bool chat = a.Bool("chat");
        // transformers: tokenizer(text) adds the special tokens of the post-processor (Llama's BOS); a rendered chat
        // prompt already holds them (apply_chat_template tokenizes with add_special_tokens=False).
        bool special = a.Choice("add-special-tokens", "auto", "true", "false") switch { "true" => true, "false" => false, _ => !chat };
        if (a.Has("run") && !chat) throw new UserException("--run sets how --chat renders prompts; add --chat");
        foreach (var f in new[] { "template", "system" })
            if (a.Has(f) && !chat) throw new UserException($"--{f} sets how --chat renders prompts; add --chat");
        var settings = ChatSettings(a);
        using var folder = openFolder(dir);
        var config = folder.Config;
        var eos = a.Has("eos-id") ? a.List("eos-id").Select(s => ParseId(s, "--eos-id")).ToArray() : folder.EosTokenIds.ToArray();
        var options = new GenerationOptions
        {
            MaxNewTokens = a.Int("max-new-tokens", 0),
            Temperature = (float)a.Double("temperature"),
            TopK = a.Int("top-k", 0),
            TopP = (float)a.Double("top-p"),
            Seed = a.Int("seed"),
            EosTokenIds = eos,
            StopStrings = a.List("stop"),
        };
        options.Validate();
        bool needsTokenizer = a.Has("prompt") || options.StopStrings.Count > 0 || chat;
        var codec = folder.Tokenizer;
        if (codec is null && needsTokenizer)
            throw new UserException($"{dir}: no tokenizer could be loaded; text prompts, --chat and --stop need one (use --prompt-ids or ids in --input)");
        if (chat && a.Has("prompt-ids")) throw new UserException("--chat applies to text prompts, not --prompt-ids");

        // The same builder as training renders the user turn, with the run's settings when --run is given.
        var builder = chat ? new PromptBuilder(folder.ChatRenderer(settings), settings) : null;
        int[] Encode(string text) => codec!.Encode(builder is null ? text : ChatPrompt(builder, text), special);
        var prompts = new List<int[]>();
        if (a.Has("prompt")) prompts.Add(Encode(a.RequiredString("prompt")));
        else if (a.Has("prompt-ids")) prompts.Add(ParseIds(a.RequiredString("prompt-ids"), "--prompt-ids"));
        else prompts.AddRange(ReadInput(a.ExistingFile("input"), codec is null ? null : Encode, chat));
        if (prompts.Count == 0) throw new UserException("no prompts to generate for");
        for (int i = 0; i < prompts.Count; i++)
            foreach (var id in prompts[i])
                if ((uint)id >= (uint)config.VocabSize) throw new UserException($"prompt {i + 1}: token id {id} is outside the vocabulary (0..{config.VocabSize - 1})");

        int batch = Math.Min(a.Int("batch-size", 1), prompts.Count);
        int context = prompts.Max(p => p.Length) + options.MaxNewTokens;
        // transformers warns once (MaxLengthCriteria) and generates on: RoPE has no hard limit, but the model was not
        // trained past max_position_embeddings.
        if (context > config.MaxPositionEmbeddings)
            a.Error.WriteLine($"warning: the longest prompt ({prompts.Max(p => p.Length)} tokens) + --max-new-tokens {options.MaxNewTokens} can reach {context} positions, " +
                $"past the model's max_position_embeddings {config.MaxPositionEmbeddings} (config.json); the model may degrade there (transformers warns the same)");
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(config, folder.Weights, backend, storage, maxPositions: context);
        using var model = new DecoderModel(weights, maxTokens: 512, maxLogitRows: batch);
        using var generator = new Generator(model, batch, context);
        var results = generator.Generate(prompts, options, codec);

        void Write(TextWriter w)
        {
            foreach (var r in results)
                w.WriteLine(JsonSerializer.Serialize(new OutputLine(r.Ids.ToArray(), r.Text, r.FinishReason.ToString().ToLowerInvariant()), OutputJson));
        }
        if (a.Has("output")) AtomicFile.WriteText(a.RequiredString("output"), Write);
        else Write(a.Out);
        var counts = results.GroupBy(r => r.FinishReason).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        a.Error.WriteLine($"generated for {results.Count} prompt(s) on {backend.Name}: {string.Join(", ", counts)}");
        return CliApp.Success;
    }

    // --template and --system, alone or (as a repetition, never a contradiction) beside a run's saved settings.
    private static PromptSettings ChatSettings(ParsedArgs a)
    {
        string? Lookup(string key) => key switch { "template" => a.String("template"), "default_system" => a.String("system"), _ => null };
        string Describe(string key) => key == "default_system" ? "--system" : "--" + key;
        if (!a.Has("run"))
        {
            if (a.Bool("allow-prompt-drift")) throw new UserException("--allow-prompt-drift applies to --run DIR");
            return PreprocessSettingsBinder.Bind(k => PromptDrift.Keys.Contains(k) ? Lookup(k) : null, Describe).Prompt;
        }
        var (settings, diffs) = PromptDrift.Apply(PromptSettingsFile.Find(a.RequiredString("run")), Lookup, a.Bool("allow-prompt-drift"), Describe);
        foreach (var d in diffs) a.Error.WriteLine($"prompt drift from {a.RequiredString("run")}: {d}");
        return settings;
    }

    /// <summary>The inference prompt of one user message, as training renders the prompt of a record with that question.</summary>
    internal static string ChatPrompt(PromptBuilder builder, string userMessage) => builder.InferencePrompt(new SftRecord
    {
        Source = "--prompt", Index = 0, Kind = SftRecordKind.Conversation, Turns = [new SftTurn("user", userMessage)],
    });

    // Generated text is written as UTF-8, not \u escapes, so people can read it.
    private static readonly JsonSerializerOptions OutputJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private sealed record OutputLine(
        [property: System.Text.Json.Serialization.JsonPropertyName("ids")] int[] Ids,
        [property: System.Text.Json.Serialization.JsonPropertyName("text")] string? Text,
        [property: System.Text.Json.Serialization.JsonPropertyName("finish_reason")] string FinishReason);

    private static int ParseId(string s, string where) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new UserException($"{where}: expected a non-negative token id, got '{s}'");

    internal static int[] ParseIds(string text, string where)
    {
        var parts = text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UserException($"{where}: no token ids");
        return parts.Select(p => ParseId(p, where)).ToArray();
    }

    private static IEnumerable<int[]> ReadInput(string path, Func<string, int[]>? encode, bool chat)
    {
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement root;
            try { root = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new UserException($"{path}:{lineNo}: not valid JSON ({e.Message})"); }
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{path}:{lineNo}: expected a JSON object with \"ids\" or \"prompt\"");
            if (root.TryGetProperty("ids", out var ids))
            {
                if (chat) throw new UserException($"{path}:{lineNo}: --chat applies to text prompts, not \"ids\"");
                if (ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() == 0 || ids.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var v) || v < 0))
                    throw new UserException($"{path}:{lineNo}: field \"ids\" must be a non-empty array of non-negative integers");
                yield return ids.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            }
            else if (root.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String)
            {
                if (encode is null) throw new UserException($"{path}:{lineNo}: a text \"prompt\" needs the model's tokenizer, which could not be loaded");
                yield return encode(prompt.GetString()!);
            }
            else throw new UserException($"{path}:{lineNo}: expected a field \"ids\" (array of token ids) or \"prompt\" (string)");
        }
        if (lineNo == 0) throw new UserException($"{path}: no prompts");
    }
}
