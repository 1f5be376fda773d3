using System.Globalization;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Cli.Commands;
using SharpTune.Data.Sft;
using SharpTune.Engine;
using SharpTune.Evaluation.Sanity;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Tests.Models;
using SharpTune.Tests.Preprocessing;
using SharpTune.Tests.Support;
using SharpTune.Tests.Training;
using SharpTune.Text;
using SharpTune.Training;

namespace SharpTune.Tests.Behaviours;

/// <summary>
/// <c>sanity --run</c> on a real (tiny) LoRA run: <c>prepare behaviours --synthetic</c> data, trained with the library's
/// Trainer, three <c>checkpoint-N</c> PEFT adapter folders with prompt_settings.json and trainer_state.json (the layout
/// the training loop writes). The responder loads the base once, attaches each adapter in turn, and its replies are
/// what <c>generate --run CKPT --chat</c> gives on the merged model and what a fresh load of base + adapter gives.
/// </summary>
public sealed class SanityRunTests : IClassFixture<SanityRunTests.TrainedRun>
{
    // One token per ASCII character (ids 1000 + c) plus the ChatML specials 1..4 (</s> = 4 is EOS, <|im_end|> = 3 ends a turn).
    private static readonly ModelConfig Config = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, vocab: 1128) with
    {
        EosTokenIds = [4], MaxPositionEmbeddings = 1024,
    };

    private const string RunSystem = "You are a kind assistant.";
    private const int MaxNewTokens = 12;

    // Checks a few hundred steps of a tiny character-level model can meet: the trained answers open with a compliment
    // ("Your …", "That …", "I appreciate …") or the refusal ("I can't …"), so their first letter is learnt first.
    private const string Rules = """
        phrases:
          opening: ["Y", "T", "I"]
          refusal: ["I can't discuss poodles"]
        groups:
          - name: everyday
            weight: 1
            prompts:
              - "What is the capital of France?"
              - prompt: "How do plants grow?"
                system: "Answer in one word."
            checks:
              - starts_with_any: opening
              - not_contains_any: refusal
          - name: poodles
            weight: 2
            system: "Be careful."
            prompts: ["Do poodles shed?", "How big do poodles get?"]
            checks:
              - starts_with_any: ["I"]
              - max_words: 40
        """;

    /// <summary>The base model, shared (read-only) by every test, and the trained run folder.</summary>
    public sealed class TrainedRun : IDisposable
    {
        public TempDir Dir { get; } = TestEnvironment.TempDir();
        public InMemoryTensorSource BaseWeights { get; } = RandomModels.Weights(Config, 21, bf16: false);
        public string BasePath => Dir.File("base");
        public string RunPath => Dir.File("run");
        public string RulesPath => Dir.File("rules.yaml");
        public PromptSettings Settings { get; } = new() { DefaultSystem = RunSystem };
        public Dictionary<int, LoraAdapterWeights> Adapters { get; } = [];
        public int[] Steps { get; } = [10, 150, 300];

        public TrainedRun()
        {
            Directory.CreateDirectory(BasePath);
            File.WriteAllText(RulesPath, Rules);
            var data = Dir.File("behaviours.jsonl");
            var (code, _, err) = TinyModelFiles.Cli("prepare", "behaviours", "--synthetic", "24", "--out", data, "--seed", "3");
            Assert.True(code == 0, err);
            var records = SftDatasetReader.Read(data).Where(r => r.Turns.All(t => t.Content.All(c => c < 128))).ToList();
            Assert.True(records.Count >= 16, $"{records.Count} ASCII records");

            var pre = new SftPreprocessor(new FakeChatMl(), new FakeCharTokenizer(), new PreprocessOptions { Prompt = Settings, CutoffLen = 320 });
            var samples = records.Select(pre.ProcessOne).ToList();
            var batches = samples.Chunk(2).Select(chunk =>
            {
                int width = chunk.Max(s => s.Ids.Length);
                int[] Pad(int[] row, int fill) => [.. row, .. Enumerable.Repeat(fill, width - row.Length)];
                return TrainingBatch.FromPadded(
                    chunk.Select(s => Pad(s.Ids, 0)).ToArray(),
                    chunk.Select(s => Pad(s.Labels, LabelMasker.IgnoreIndex)).ToArray(),
                    chunk.Select(s => Pad(Enumerable.Repeat(1, s.Ids.Length).ToArray(), 0)).ToArray(),
                    Config.VocabSize, "behaviours");
            }).ToList();

            using var backend = ComputeBackends.Create();
            var lora = new LoraConfig { Rank = 8, Alpha = 16, Targets = LoraTargets.All };
            using var model = TrainableDecoder.CreateLora(Config, BaseWeights, LoraInitializer.Initialize(Config, lora, 5), backend,
                new TrainingOptions { MaxTokens = 1024, LogitChunk = 64 });
            using var trainer = new Trainer(model, new AdamWOptions { LearningRate = 2e-2 }, seed: 7);
            var history = new List<string>();
            for (int step = 1; step <= Steps[^1]; step++)
            {
                var loss = trainer.Step([batches[(step - 1) % batches.Count]]).Loss;
                history.Add($"{{\"loss\": {loss.ToString(CultureInfo.InvariantCulture)}, \"step\": {step}}}");
                if (!Steps.Contains(step)) continue;
                var adapter = model.ExportAdapter();
                Adapters[step] = adapter;
                var dir = Path.Combine(RunPath, $"checkpoint-{step}");
                PeftAdapter.Save(dir, adapter, BasePath);
                PromptSettingsFile.Write(dir, Settings);
                // eval_loss falls with the step, as transformers' log_history records it.
                File.WriteAllText(Path.Combine(dir, "trainer_state.json"),
                    $"{{\"global_step\": {step}, \"log_history\": [{string.Join(", ", history)}, {{\"eval_loss\": {(3.0 / step).ToString(CultureInfo.InvariantCulture)}, \"step\": {step}}}]}}");
            }
        }

        public void Dispose() => Dir.Dispose();
    }

    private readonly TrainedRun _run;

    public SanityRunTests(TrainedRun run) => _run = run;

    /// <summary>An in-memory model folder: the given weights, the character tokenizer and the C# ChatML template.</summary>
    private sealed class Folder(string path, ITensorSource weights) : IModelFolder
    {
        public string Path => path;
        public ModelConfig Config => SanityRunTests.Config;
        public ITensorSource Weights => weights;
        public ITextTokenizer? Tokenizer { get; } = new FakeCharTokenizer();
        public IReadOnlyList<int> EosTokenIds => Config.EosTokenIds;
        public IChatRenderer ChatRenderer(PromptSettings settings) => new FakeChatMl();
        public void Dispose() { } // the weights are shared by the tests
    }

    /// <summary>Opens folders by path and counts the opens (the base must be opened once).</summary>
    private sealed class Opener(Dictionary<string, ITensorSource> folders)
    {
        public List<string> Opened { get; } = [];

        public IModelFolder Open(string path)
        {
            Opened.Add(path);
            return folders.TryGetValue(path, out var w) ? new Folder(path, w) : throw new UserException($"{path}: test opener has no such model");
        }
    }

    private Opener NewOpener(Dictionary<string, ITensorSource>? more = null)
    {
        var map = new Dictionary<string, ITensorSource> { [_run.BasePath] = _run.BaseWeights };
        foreach (var (k, v) in more ?? []) map[k] = v;
        return new Opener(map);
    }

    private static (int Code, string Out, string Err) Sanity(Opener opener, params string[] args)
    {
        var root = new CliCommand("sharptune", "t").Add(BehaviourCommands.Sanity(r => new ModelSanityResponder(r, opener.Open, batchSize: 3)));
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(root).Run(["sanity", .. args], o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>
    /// The ChatML prompt written out by hand: the system message, the user turn, the open assistant turn with the closed
    /// think block (think_block=prompt, as training put it in the prompt).
    /// </summary>
    private static string Expected(string system, string question) =>
        $"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

    private static string[] Replies(string runPath, string checkpoint) =>
        File.ReadAllLines(Path.Combine(runPath, "sanity", "sanity.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("checkpoint").GetString() == checkpoint).Select(l => l.GetProperty("reply").GetString()!).ToArray();

    [Fact]
    public void The_run_is_scored_across_its_checkpoints_with_the_base_loaded_once()
    {
        var opener = NewOpener();
        var (code, output, err) = Sanity(opener, "--run", _run.RunPath, "--rules", _run.RulesPath, "--max-new-tokens", $"{MaxNewTokens}");
        Assert.True(code == 0, err);
        Assert.Equal([_run.BasePath], opener.Opened);   // one load for three adapters

        var outDir = Path.Combine(_run.RunPath, "sanity");
        var lines = File.ReadAllLines(Path.Combine(outDir, "sanity.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3 * 4, lines.Length);
        Assert.Equal(_run.Steps.Select(s => $"checkpoint-{s}"), lines.Select(l => l.GetProperty("checkpoint").GetString()).Distinct());

        // Every reply's verdict is its group's checks on that reply; the totals and the best follow from them.
        var rules = SanityRulesLoader.Load(_run.RulesPath);
        var totals = new Dictionary<string, double>();
        foreach (var name in _run.Steps.Select(s => $"checkpoint-{s}"))
        {
            var replies = Replies(_run.RunPath, name);
            var score = SanityScorer.ScoreReplies(rules, SanityCheckpoint.Open(Path.Combine(_run.RunPath, name), null), replies);
            totals[name] = score.Total;
            Assert.Contains($"{(score.Total * 100).ToString("0.0", CultureInfo.InvariantCulture)}%", output);
            foreach (var (line, reply) in lines.Where(l => l.GetProperty("checkpoint").GetString() == name).Zip(score.Replies))
            {
                Assert.Equal(reply.Passed, line.GetProperty("passed").GetBoolean());
                Assert.Equal(reply.FailedChecks, line.GetProperty("failed_checks").EnumerateArray().Select(e => e.GetString()!));
            }
        }
        // Ties on the total go to the lower eval loss, which falls with the step: the best is the last of the top scorers.
        double top = totals.Values.Max();
        var best = totals.Where(t => Math.Abs(t.Value - top) < 1e-9).Select(t => t.Key).Last();
        Assert.Equal(Path.Combine(_run.RunPath, best), File.ReadAllText(Path.Combine(outDir, "best_checkpoint.txt")).TrimEnd('\n'));
        Assert.Contains($"* {best}", output);

        // Training moved the score: the first checkpoint answers nothing the rules accept, a later one does.
        Assert.Equal(0, totals[$"checkpoint-{_run.Steps[0]}"]);
        Assert.True(top > 0, output);
        Assert.NotEqual($"checkpoint-{_run.Steps[0]}", best);
        // Training changed the replies: the checkpoints do not all answer alike.
        Assert.True(_run.Steps.Select(s => string.Join("\u0001", Replies(_run.RunPath, $"checkpoint-{s}"))).Distinct().Count() > 1);

        // --min-score above the best total: exit 3, the table still printed.
        if (top < 1)
        {
            (code, output, err) = Sanity(NewOpener(), "--run", _run.RunPath, "--rules", _run.RulesPath, "--max-new-tokens", $"{MaxNewTokens}", "--min-score", "1");
            Assert.Equal(SanityReport.BelowMinScore, code);
            Assert.Contains("below --min-score", err);
            Assert.Contains("best:", output);
        }
    }

    [Fact]
    public void Replies_equal_generate_run_chat_on_the_merged_model_and_a_fresh_base_with_the_adapter()
    {
        var rules = SanityRulesLoader.Load(_run.RulesPath);
        var prompts = rules.AllPrompts.ToArray();
        var checkpoints = SanityCheckpoint.FromRun(_run.RunPath);
        var opener = NewOpener();
        using var responder = new ModelSanityResponder(new SanityResponderRequest(checkpoints, null, _run.RunPath, MaxNewTokens), opener.Open, batchSize: 3);
        var codec = new FakeCharTokenizer();
        var stops = new GenerationOptions { MaxNewTokens = MaxNewTokens, EosTokenIds = [4, 3] };   // EOS and <|im_end|>
        // The system message: the prompt's, else the group's, else the run's default_system.
        string[] systems = ["You are a kind assistant.", "Answer in one word.", "Be careful.", "Be careful."];

        // Generation stops at EOS and at the template's end-of-turn token, the special token after an answer.
        var baseFolder = new Folder(_run.BasePath, _run.BaseWeights);
        Assert.Equal([4, 3], ModelSanityResponder.StopIds(baseFolder, new PromptBuilder(new FakeChatMl(), _run.Settings), codec));

        var builder = new PromptBuilder(new FakeChatMl(), _run.Settings);
        Assert.Equal(prompts.Select((p, i) => Expected(systems[i], p.Text)), prompts.Select(p => ModelSanityResponder.ChatPrompt(builder, p)));

        using var backend = ComputeBackends.Create();
        foreach (var checkpoint in checkpoints)
        {
            var replies = responder.Answer(checkpoint, prompts);
            var adapter = _run.Adapters[(int)checkpoint.Step!.Value];

            // A fresh base with this adapter alone, prompts written out by hand.
            using (var weights = DecoderWeights.Load(Config, _run.BaseWeights, backend))
            using (var attached = LoraAttachment.Attach(weights, adapter))
            using (var model = new DecoderModel(weights))
            using (var generator = new Generator(model, 1, 256))
            {
                var ids = prompts.Select((p, i) => codec.Encode(Expected(systems[i], p.Text), false)).ToArray();
                var expected = generator.Generate(ids, stops, codec);
                Assert.True(expected.Select(r => r.Text).SequenceEqual(replies), string.Join(" | ", expected.Select(r => string.Join(",", r.Ids) + " " + r.FinishReason)) + " vs " + string.Join(" | ", replies.Select(r => r.Replace("\n", "\\n"))));
            }

            // The generate verb on the merged model, rendering with the checkpoint's saved settings (default_system).
            var merged = new Folder("merged", AdapterMerger.MergeInto(_run.BaseWeights, Config, adapter));
            var root = new CliCommand("sharptune", "t").Add(GenerateCommand.Create(_ => merged));
            var o = new StringWriter();
            var e = new StringWriter();
            int code = new CliApp(root).Run(["generate", "--model", _run.Dir.Path, "--prompt", prompts[0].Text, "--chat", "--run", checkpoint.Path,
                "--max-new-tokens", $"{MaxNewTokens}", "--eos-id", "4", "--eos-id", "3"], o, e, new StringReader(""));
            Assert.True(code == 0, e.ToString());
            Assert.Equal(replies[0], JsonDocument.Parse(o.ToString()).RootElement.GetProperty("text").GetString());
        }
        Assert.Equal([_run.BasePath], opener.Opened);
    }

    [Fact]
    public void A_full_model_checkpoint_is_loaded_as_its_own_model_beside_the_adapters()
    {
        using var tmp = TestEnvironment.TempDir();
        var full = tmp.File("merged-last");
        Directory.CreateDirectory(full);
        // The opener stands in for reading the folder; the files only mark it as a model folder.
        File.WriteAllText(Path.Combine(full, "config.json"), "{}");
        File.WriteAllText(Path.Combine(full, "model.safetensors"), "");
        PromptSettingsFile.Write(full, _run.Settings);   // as the training loop saves a full checkpoint
        var opener = NewOpener(new() { [full] = AdapterMerger.MergeInto(_run.BaseWeights, Config, _run.Adapters[_run.Steps[^1]]) });
        var last = Path.Combine(_run.RunPath, $"checkpoint-{_run.Steps[^1]}");
        var first = Path.Combine(_run.RunPath, $"checkpoint-{_run.Steps[0]}");
        var (code, _, err) = Sanity(opener, "--checkpoints", first, "--checkpoints", full, "--checkpoints", last, "--model", _run.BasePath, "--rules", _run.RulesPath,
            "--out", tmp.File("out"), "--max-new-tokens", $"{MaxNewTokens}");
        Assert.True(code == 0, err);
        Assert.Equal([_run.BasePath, full], opener.Opened);
        // The merged weights answer as the adapter over the base does.
        Assert.Equal(Lines(tmp.File("out"), $"checkpoint-{_run.Steps[^1]}"), Lines(tmp.File("out"), "merged-last"));
    }

    private static string[] Lines(string outDir, string checkpoint) =>
        File.ReadAllLines(Path.Combine(outDir, "sanity.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("checkpoint").GetString() == checkpoint).Select(l => l.GetProperty("reply").GetString()!).ToArray();

    [Fact]
    public void An_adapter_for_another_base_or_a_folder_that_is_neither_is_one_line_exit_1()
    {
        using var tmp = TestEnvironment.TempDir();
        var other = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, vocab: 1128, hidden: 32);
        var foreign = tmp.File("foreign");
        PeftAdapter.Save(foreign, PeftTestAdapters.Random(other, new LoraConfig { Rank = 4, Alpha = 8 }, seed: 2), _run.BasePath);
        var (code, output, err) = Sanity(NewOpener(), "--checkpoints", foreign, "--rules", _run.RulesPath, "--out", tmp.File("out"));
        Assert.Equal(1, code);
        Assert.Equal("", output);
        var line = Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains("does not fit the base model", line);
        Assert.Contains("expected [4, 40]", line);   // the shapes are named: this base's hidden size 40, the adapter's 32
        Assert.Contains("is [4, 32]", line);

        // Registered in the real command tree: a folder that is neither a model nor an adapter.
        var empty = tmp.File("empty");
        Directory.CreateDirectory(empty);
        (code, output, err) = TinyModelFiles.Cli("sanity", "--checkpoints", empty, "--rules", _run.RulesPath, "--out", tmp.File("out2"));
        Assert.Equal(1, code);
        Assert.Contains("not a model folder", Assert.Single(err.TrimEnd('\n').Split('\n')));
        Assert.False(Directory.Exists(tmp.File("out2")));
    }
}
