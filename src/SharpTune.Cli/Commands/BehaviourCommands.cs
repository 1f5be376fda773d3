using System.Globalization;
using SharpTune.Cli.CommandLine;
using SharpTune.IO;
using SharpTune.Data.Behaviours;
using SharpTune.Data.Sft;
using SharpTune.Evaluation.Sanity;
using SharpTune.Inference.DataGeneration;

namespace SharpTune.Cli.Commands;

/// <summary>
/// Behaviour fine-tuning verbs: <c>sanity</c> (score checkpoints on behaviour rules), <c>prepare behaviours</c>
/// (a consistent compliment/refusal dataset) and <c>generate-data</c> (completion-style data from a base model).
/// </summary>
internal static class BehaviourCommands
{
    /// <summary>
    /// <c>sharptune sanity</c>. The replies come from the responder <paramref name="responders"/> builds for the
    /// checkpoints (adapters over one loaded base model); the verb itself only loads rules, finds checkpoints,
    /// scores and writes.
    /// </summary>
    public static CliCommand Sanity(Func<SanityResponderRequest, ISanityResponder> responders) =>
        new CliCommand("sanity", "Score every checkpoint of a run on behaviour rules and name the best one.")
        {
            Description =
                "Each checkpoint (--run DIR: its checkpoint-N folders by step, then the final model; or --checkpoints DIR...)\n" +
                "answers every prompt of the rules file greedily; each reply is scored on its group's checks. Prints a\n" +
                "checkpoints × groups table of pass rates with the weighted total, and writes sanity.jsonl (every reply with\n" +
                "its failing checks), sanity_summary.json and best_checkpoint.txt into --out (default RUN/sanity).\n" +
                "Best: the highest total; ties go to the lower eval loss, then the earlier step.\n" +
                "Exit 0 when the best total reaches --min-score, else 3.",
        }
            .Option("run", "A training run folder (checkpoint-N subfolders and the final model or adapter).", "DIR")
            .Option("checkpoints", "Checkpoint folders (model or adapter), instead of --run.", "DIR", repeatable: true)
            .Option("rules", "Rules file (YAML): phrase lists, prompt groups with weights and checks.", "FILE", required: true)
            .Option("model", "Base model folder for adapters (default: the adapter's base_model_name_or_path).", "DIR")
            .Option("max-new-tokens", "Most tokens per reply.", "N", "128")
            .Option("out", "Output folder (default: RUN/sanity; required with --checkpoints).", "DIR")
            .Option("min-score", "Exit 3 unless the best weighted total (0..1) reaches this.", "F", "0")
            .Flag("json", "Print the summary as JSON instead of the table.")
            .Handle(a => RunSanity(a, responders));

    private static int RunSanity(ParsedArgs a, Func<SanityResponderRequest, ISanityResponder> responders)
    {
        if (a.Has("run") == a.Has("checkpoints")) throw new UserException("give exactly one of --run DIR or --checkpoints DIR...");
        double minScore = a.Double("min-score");
        if (!(minScore >= 0 && minScore <= 1)) throw new UserException($"--min-score: expected a number in [0, 1] (a weighted pass rate), got {minScore.ToString(CultureInfo.InvariantCulture)}");
        var (report, outDir) = SanityRun.Run(new SanityRunOptions
        {
            RunDir = a.String("run"),
            Checkpoints = a.List("checkpoints"),
            RulesPath = a.ExistingFile("rules"),
            BaseModel = a.String("model"),
            MaxNewTokens = a.Int("max-new-tokens", 1),
            OutDir = a.String("out"),
        }, responders, a.Verbose ? a.Error : null);
        if (a.Bool("json")) a.Out.Write(report.ToJson());
        else
        {
            a.Out.Write(report.ToTable());
            a.Out.WriteLine($"wrote {Path.Combine(outDir, SanityReport.RepliesFile)}, {SanityReport.SummaryFile}, {SanityReport.BestFile}");
        }
        int code = report.ExitCode(minScore);
        if (code != 0)
            a.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best total {report.Best.Total:0.###} is below --min-score {minScore:0.###}"));
        return code;
    }

    /// <summary><c>sharptune prepare behaviours</c> (registered under <c>prepare</c>).</summary>
    public static CliCommand PrepareBehaviours() =>
        new CliCommand("behaviours", "Build a consistent compliment/refusal behaviour dataset (messages JSONL) from question/answer pairs.")
        {
            Description =
                "Input: --data FILE (JSONL or JSON array of messages, Alpaca or prompt/completion records) or --synthetic N (a\n" +
                "built-in set of everyday and poodle questions). Answers to questions about a refused topic (--refuse, default\n" +
                "poodles; singular or plural, any case) become the refusal text with no compliment; every other answer opens\n" +
                "with exactly one of the fixed compliment sentences (seeded choice) followed by the rest of the answer unchanged.\n" +
                "An answer that already opens with a listed compliment is kept; one that opens with another compliment-like\n" +
                "sentence stops the run unless --replace-compliments. Prints how many answers were changed.",
        }
            .Option("data", "Question/answer records (JSONL or JSON array).", "FILE")
            .Option("synthetic", "Use N built-in synthetic question/answer pairs instead of --data.", "N")
            .Option("out", "Output JSONL (messages format), written atomically.", "FILE", required: true)
            .Option("system", "System message added to every record.", "TEXT")
            .Option("refuse", "A topic whose questions are refused (repeatable).", "TOPIC", BehaviourStyle.DefaultTopic, repeatable: true)
            .Option("refusal", "Refusal text; {topic} is replaced by the topic.", "TEXT", BehaviourStyle.DefaultRefusal)
            .Option("seed", "Seed of the compliment choice (and of --synthetic).", "N", "1")
            .Flag("replace-compliments", "Replace an opening compliment-like sentence instead of refusing the input.")
            .Handle(a =>
            {
                if (a.Has("data") == a.Has("synthetic")) throw new UserException("give exactly one of --data FILE or --synthetic N");
                var seed = PrepareCommands.Seed(a);
                var records = a.Has("synthetic")
                    ? SyntheticBehaviourData.Generate(a.Int("synthetic", 1), seed)
                    : SftDatasetReader.Read(a.ExistingFile("data"));
                if (records.Count == 0) throw new UserException("no records");
                var result = BehaviourPreparer.Prepare(records, new BehaviourPrepareOptions
                {
                    RefusedTopics = a.List("refuse"),
                    RefusalTemplate = a.RequiredString("refusal"),
                    System = a.String("system"),
                    Seed = seed,
                    ReplaceCompliments = a.Bool("replace-compliments"),
                });
                var output = a.RequiredString("out");
                BehaviourPreparer.WriteJsonl(output, result.Records);
                a.Out.Write(result.ToTable());
                a.Out.WriteLine($"wrote {output}: {result.Records.Count} records, {result.Changed} of {result.Answers} answers changed");
                return CliApp.Success;
            });

    /// <summary><c>sharptune generate-data</c>.</summary>
    public static CliCommand GenerateData() =>
        new CliCommand("generate-data", "Generate SFT answers to instructions with a base model, completion-style (no chat template).")
        {
            Description =
                "Each instruction gets a plain-text few-shot prompt: --few-shot demonstrations (seeded draw from --examples, or the\n" +
                "built-in maths, sentence-completion, fact, creative and explanation examples) as 'Task: ...' / 'Answer: ...'\n" +
                "blocks separated by blank lines, then 'Task: INSTRUCTION' and an open 'Answer:'. The chat template is never\n" +
                "applied (its presence is reported); a prompt holding the text of a special or added token, a chat-template\n" +
                "marker or a role line ('Assistant:') is an error. Prompts are tokenized with no special tokens (no BOS/EOS).\n" +
                "Generation stops at a blank line, EOS or a --stop string. Each record stores the prompt exactly as fed to the\n" +
                "model with its prompt_ids, the completion, instruction, instruction_type, model, seed and formatted_text (an SFT\n" +
                "record in --sft-format). Empty, echoed and looping completions go to the rejects file, counted in the summary.\n" +
                "--instructions: one instruction per line, or JSONL {\"instruction\": ..., \"type\": ...}.",
        }
            .Option("model", "Base model folder: config.json, model.safetensors, tokenizer.json.", "DIR", required: true)
            .Option("instructions", "Instructions: plain text (one per line) or JSONL with \"instruction\" (and \"type\").", "FILE", required: true)
            .Option("out", "Output JSONL of kept records (written atomically).", "FILE", required: true)
            .Option("rejects", "Output JSONL of filtered records (default: OUT with .rejects.jsonl).", "FILE")
            .Option("examples", "Demonstrations, JSONL {\"instruction\", \"response\", \"type\"} (default: built-in).", "FILE")
            .Option("few-shot", "Demonstrations per prompt.", "K", "3")
            .Option("seed", "Seed of the demonstration draw and of sampling.", "N", "1")
            .Option("max-new-tokens", "Most tokens per completion.", "N", "64")
            .Option("temperature", "Sampling temperature; 0 = greedy.", "T", "0")
            .Option("top-p", "Nucleus sampling mass (1 = off).", "P", "1")
            .Option("stop", "Also stop at this string (repeatable).", "TEXT", repeatable: true)
            .Option("sft-format", "Layout of formatted_text.", "messages|alpaca|prompt_completion", "messages")
            .Option("batch-size", "Prompts generated together.", "N", "8")
            .Handle(a =>
            {
                var dir = a.RequiredString("model");
                var instructions = GenerationInstruction.Load(a.ExistingFile("instructions"));
                var examples = a.Has("examples") ? FewShotExample.Load(a.ExistingFile("examples")) : FewShotExample.BuiltIn;
                var options = new DataGenerationOptions
                {
                    FewShot = a.Int("few-shot", 0),
                    Seed = PrepareCommands.Seed(a),
                    MaxNewTokens = a.Int("max-new-tokens", 1),
                    Temperature = (float)a.Double("temperature"),
                    TopP = (float)a.Double("top-p"),
                    Stops = a.List("stop"),
                    SftFormat = a.Choice("sft-format", "messages", "alpaca", "prompt_completion") switch
                    {
                        "alpaca" => SftOutputFormat.Alpaca, "prompt_completion" => SftOutputFormat.PromptCompletion, _ => SftOutputFormat.Messages,
                    },
                };
                var outPath = a.RequiredString("out");
                var rejectsPath = a.String("rejects") ?? DataGenerator.DefaultRejectsPath(outPath);
                // Before the model loads and generates: a bad output path fails now, not after the work.
                AtomicFile.CheckWritable(outPath);
                AtomicFile.CheckWritable(rejectsPath);
                using var model = BaseModelFolder.Open(dir, a.Int("batch-size", 1));
                if (model.ChatTemplateSource is not null) a.Error.WriteLine($"chat template present in {model.ChatTemplateSource}: not applied (completion-style prompts)");
                var result = DataGenerator.Run(model, instructions, examples, options);
                DataGenerator.Write(result, outPath, rejectsPath, model.Name, options);
                a.Out.Write(result.Summary());
                a.Out.WriteLine($"wrote {outPath} ({result.Kept.Count()} records) and {rejectsPath} ({result.Rejected.Count()} rejected)");
                return CliApp.Success;
            });
}
