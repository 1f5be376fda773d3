using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Data;
using SharpTune.IO;
using SharpTune.Numerics;

namespace SharpTune.Inference.DataGeneration;

/// <summary>The SFT layout of each record's <c>formatted_text</c>.</summary>
public enum SftOutputFormat
{
    /// <summary><c>{"messages": [{"role": "user", …}, {"role": "assistant", …}]}</c>.</summary>
    Messages,

    /// <summary><c>{"instruction", "input", "output"}</c>.</summary>
    Alpaca,

    /// <summary><c>{"prompt", "completion"}</c>.</summary>
    PromptCompletion,
}

/// <summary>Options of <see cref="DataGenerator"/>.</summary>
public sealed record DataGenerationOptions
{
    /// <summary>Demonstrations per prompt (drawn without repetition, seeded).</summary>
    public int FewShot { get; init; } = 3;

    /// <summary>Seed of the demonstration draw and of sampling.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Most tokens per completion.</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>0 = greedy; else sampling at this temperature.</summary>
    public float Temperature { get; init; }

    /// <summary>Nucleus mass when sampling (1 = off).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Extra stop strings (a blank line always stops).</summary>
    public IReadOnlyList<string> Stops { get; init; } = [];

    /// <summary>Layout of <c>formatted_text</c>.</summary>
    public SftOutputFormat SftFormat { get; init; } = SftOutputFormat.Messages;
}

/// <summary>One generated record (kept or rejected).</summary>
/// <param name="Instruction">The instruction.</param>
/// <param name="Prompt">The prompt exactly as tokenized and fed to the model.</param>
/// <param name="PromptIds">The ids the model generated from (the tokenizer's ids of <paramref name="Prompt"/>, no special tokens).</param>
/// <param name="Completion">The completion, trimmed, cut at the first stop.</param>
/// <param name="FinishReason">Why generation stopped.</param>
/// <param name="ExampleTypes">The types of the demonstrations in the prompt.</param>
/// <param name="Reject">Why it was set aside, or null when kept.</param>
public sealed record GeneratedRecord(GenerationInstruction Instruction, string Prompt, int[] PromptIds, string Completion, FinishReason FinishReason, IReadOnlyList<string> ExampleTypes, RejectReason? Reject);

/// <summary>The outcome of a run.</summary>
public sealed class DataGenerationResult
{
    /// <summary>Every record, in instruction order.</summary>
    public required IReadOnlyList<GeneratedRecord> Records { get; init; }

    /// <summary>Where a chat template was found (not applied), or null.</summary>
    public string? ChatTemplateSource { get; init; }

    /// <summary>Records kept.</summary>
    public IEnumerable<GeneratedRecord> Kept => Records.Where(r => r.Reject is null);

    /// <summary>Records set aside.</summary>
    public IEnumerable<GeneratedRecord> Rejected => Records.Where(r => r.Reject is not null);

    /// <summary>A readable summary: counts kept, rejected per filter, and finish reasons.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"instructions   {Records.Count}\n");
        sb.Append(CultureInfo.InvariantCulture, $"kept           {Kept.Count()}\n");
        foreach (var reason in Enum.GetValues<RejectReason>())
            sb.Append(CultureInfo.InvariantCulture, $"rejected {Name(reason),-6}{Records.Count(r => r.Reject == reason),6}\n");
        foreach (var reason in Enum.GetValues<FinishReason>())
            sb.Append(CultureInfo.InvariantCulture, $"stopped by {reason.ToString().ToLowerInvariant(),-4}{Records.Count(r => r.FinishReason == reason),5}\n");
        sb.Append(ChatTemplateSource is null ? "chat template: none in the folder\n" : $"chat template: present in {ChatTemplateSource}, not applied\n");
        return sb.ToString();
    }

    internal static string Name(RejectReason r) => r switch { RejectReason.Empty => "empty", RejectReason.Echo => "echo", _ => "loop" };
}

/// <summary>
/// <c>generate-data</c>: completion-style generation of SFT answers with a base model. Each instruction gets a
/// few-shot prompt (<see cref="CompletionPrompt"/>) that is checked for template contamination, tokenized with no
/// special tokens, and completed until a blank line, EOS or a stop string; completions that are empty, echo the
/// prompt or loop are kept aside as rejects.
/// </summary>
public static class DataGenerator
{
    /// <summary>The stop that ends every completion: the blank line that separates the demonstrations.</summary>
    public const string BlankLine = "\n\n";

    /// <summary>Builds every prompt, checks it, and generates.</summary>
    public static DataGenerationResult Run(ICompletionModel model, IReadOnlyList<GenerationInstruction> instructions, IReadOnlyList<FewShotExample> examples, DataGenerationOptions options)
    {
        if (instructions.Count == 0) throw new UserException("no instructions");
        if (options.FewShot < 0) throw new UserException($"--few-shot: expected a non-negative number, got {options.FewShot}");
        if (options.FewShot > examples.Count) throw new UserException($"--few-shot {options.FewShot}: only {examples.Count} examples are available");
        foreach (var e in examples) FewShotExample.Validated(e);

        var rng = new SplitMix64(options.Seed);
        var prompts = new List<(string Text, int[] Ids, IReadOnlyList<string> Types)>(instructions.Count);
        foreach (var instruction in instructions)
        {
            var shots = Draw(examples, options.FewShot, rng);
            var prompt = CompletionPrompt.Build(shots, instruction.Text);
            if (CompletionPrompt.Contamination(prompt, model.SpecialTokenTexts) is { } why)
                throw new UserException($"{instruction.Source}: template contamination: the prompt {why}; completion-style prompts must be plain text (check the instruction and the examples)");
            var ids = model.Encode(prompt);
            if (ids.Length + options.MaxNewTokens > model.ContextLength)
                throw new UserException($"{instruction.Source}: the prompt has {ids.Length} tokens; with --max-new-tokens {options.MaxNewTokens} it exceeds the model's context of {model.ContextLength} (use a smaller --few-shot or a shorter instruction)");
            prompts.Add((prompt, ids, shots.Select(s => s.Type).ToArray()));
        }

        var generation = new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens,
            Temperature = options.Temperature,
            TopP = options.TopP,
            Seed = (int)(options.Seed % int.MaxValue),
            EosTokenIds = model.EosTokenIds,
            StopStrings = [BlankLine, .. options.Stops],
        };
        generation.Validate();
        var results = model.Generate(prompts.Select(p => p.Ids).ToArray(), generation);
        var records = new List<GeneratedRecord>(instructions.Count);
        for (int i = 0; i < instructions.Count; i++)
        {
            var completion = (results[i].Text ?? "").Trim();
            var reject = CompletionFilter.Check(completion, instructions[i].Text, prompts[i].Text);
            records.Add(new GeneratedRecord(instructions[i], prompts[i].Text, prompts[i].Ids, completion, results[i].FinishReason, prompts[i].Types, reject));
        }
        return new DataGenerationResult { Records = records, ChatTemplateSource = model.ChatTemplateSource };
    }

    private static IReadOnlyList<FewShotExample> Draw(IReadOnlyList<FewShotExample> examples, int k, SplitMix64 rng)
    {
        // Partial Fisher–Yates: k distinct examples in drawn order.
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var picked = new FewShotExample[k];
        for (int i = 0; i < k; i++)
        {
            int j = i + rng.Next(order.Length - i);
            (order[i], order[j]) = (order[j], order[i]);
            picked[i] = examples[order[i]];
        }
        return picked;
    }

    /// <summary>Writes kept records to <paramref name="outPath"/> and rejected ones (with <c>reject_reason</c>) to <paramref name="rejectsPath"/>, each atomically.</summary>
    public static void Write(DataGenerationResult result, string outPath, string rejectsPath, string modelName, DataGenerationOptions options)
    {
        AtomicFile.WriteText(outPath, w => { foreach (var r in result.Kept) w.WriteLine(ToJson(r, modelName, options)); });
        AtomicFile.WriteText(rejectsPath, w => { foreach (var r in result.Rejected) w.WriteLine(ToJson(r, modelName, options)); });
    }

    /// <summary>The default rejects file beside <paramref name="outPath"/>: <c>NAME.rejects.jsonl</c>.</summary>
    public static string DefaultRejectsPath(string outPath)
    {
        var dir = Path.GetDirectoryName(outPath) ?? "";
        var name = Path.GetFileName(outPath);
        var stem = name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? name[..^6] : name;
        return Path.Combine(dir, stem + ".rejects.jsonl");
    }

    /// <summary>One record as a JSON line.</summary>
    public static string ToJson(GeneratedRecord r, string modelName, DataGenerationOptions options)
    {
        var o = new Dictionary<string, object?>
        {
            ["prompt"] = r.Prompt,
            ["completion"] = r.Completion,
            ["instruction"] = r.Instruction.Text,
            ["instruction_type"] = r.Instruction.Type,
            ["model"] = modelName,
            ["seed"] = options.Seed,
            ["formatted_text"] = Formatted(r.Instruction.Text, r.Completion, options.SftFormat),
            ["sft_format"] = options.SftFormat switch { SftOutputFormat.Alpaca => "alpaca", SftOutputFormat.PromptCompletion => "prompt_completion", _ => "messages" },
            ["finish_reason"] = r.FinishReason.ToString().ToLowerInvariant(),
            ["prompt_ids"] = r.PromptIds,
            ["few_shot_types"] = r.ExampleTypes,
            ["source"] = r.Instruction.Source,
        };
        if (r.Reject is { } reason) o["reject_reason"] = DataGenerationResult.Name(reason);
        return JsonSerializer.Serialize(o, Json);
    }

    /// <summary>The SFT record of an instruction and its completion in <paramref name="format"/>.</summary>
    public static object Formatted(string instruction, string completion, SftOutputFormat format) => format switch
    {
        SftOutputFormat.Alpaca => new Dictionary<string, string> { ["instruction"] = instruction, ["input"] = "", ["output"] = completion },
        SftOutputFormat.PromptCompletion => new Dictionary<string, string> { ["prompt"] = instruction, ["completion"] = completion },
        _ => new Dictionary<string, object>
        {
            ["messages"] = new[]
            {
                new Dictionary<string, string> { ["role"] = "user", ["content"] = instruction },
                new Dictionary<string, string> { ["role"] = "assistant", ["content"] = completion },
            },
        },
    };

    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
