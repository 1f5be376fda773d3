using System.Globalization;
using SharpTune.Cli.CommandLine;
using SharpTune.Data;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Sft;
using SharpTune.Data.Synthetic;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Numerics;
using SharpTune.Preprocessing;
using SharpTune.Text.Tokenization;
using SharpTune.Training;
using SharpTune.Training.Loop;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune demo</c>: the main job on built-in data, as a pipeline of named stages that share a context.
/// Today: synthetic MovieLens, preparation, tokenizer training, a tiny model, preprocessing and a short training run
/// on the engine; the full training loop and evaluation stages append to <see cref="Stages"/>.
/// </summary>
internal static class DemoCommand
{
    /// <summary>State passed from stage to stage.</summary>
    internal sealed class DemoContext(string outDir, ulong seed, TextWriter output)
    {
        public string OutDir { get; } = outDir;
        public ulong Seed { get; } = seed;
        public TextWriter Out { get; } = output;
        public string DataDir => Path.Combine(OutDir, "data");
        public string DatasetDir => Path.Combine(OutDir, "dataset");
        public string TokenizerDir => Path.Combine(OutDir, "tokenizer");
        public string ModelDir => Path.Combine(OutDir, "model");
        public string CacheDir => Path.Combine(OutDir, "cache");
        public string TrainDir => Path.Combine(OutDir, "train");
        public SyntheticMovieLensResult? Data { get; set; }
        public PrepareSummary? Prepared { get; set; }
        public TokenizedDataset? TrainSet { get; set; }
        public TokenizedDataset? EvalSet { get; set; }
        public PromptSettings? Prompt { get; set; }
    }

    // The demo's tiny model: a Qwen3-architecture decoder small enough to train on 2 cores.
    private static ModelConfig TinyModel(int vocabSize, Tokenizer tokenizer) => new()
    {
        Architecture = ModelArchitecture.Qwen3, HiddenSize = 128, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 32,
        IntermediateSize = 384, VocabSize = vocabSize, TieWordEmbeddings = true, MaxPositionEmbeddings = 1024, RopeTheta = 10000,
        EosTokenIds = tokenizer.TokenToId("<|im_end|>") is int eos ? [eos] : [],
    };

    /// <summary>One step of the demo.</summary>
    internal sealed record DemoStage(string Name, string What, Action<DemoContext> Run);

    /// <summary>The stages, in order.</summary>
    internal static readonly IReadOnlyList<DemoStage> Stages =
    [
        new("data", "generate the built-in synthetic MovieLens", c =>
        {
            c.Data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = c.DataDir, Seed = c.Seed });
            c.Out.WriteLine($"  {c.Data.Ratings:N0} ratings by {c.Data.Users:N0} users on {c.Data.Movies:N0} movies in {c.DataDir}");
        }),
        new("prepare", "turn the ratings into Yes/No SFT records", c =>
        {
            c.Prepared = MovieLensPreparer.Prepare(new MovieLensPrepareOptions
            {
                RatingsPath = c.Data!.RatingsPath,
                MoviesPath = c.Data.MoviesPath,
                OutputDirectory = c.DatasetDir,
                Seed = c.Seed,
            });
            c.Out.WriteLine();
            c.Out.Write(PrepareCommands.SummaryTable(c.Prepared));
            c.Out.WriteLine();
            foreach (var f in new[] { MovieLensPreparer.TrainFile, MovieLensPreparer.EvalFile, MovieLensPreparer.TestFile, MovieLensPreparer.SummaryFile })
                c.Out.WriteLine($"  {Path.Combine(c.DatasetDir, f)}");
        }),
        new("tokenizer", "train a byte-level BPE tokenizer with ChatML special tokens on the training records", c =>
        {
            var records = SftDatasetReader.Read(Path.Combine(c.DatasetDir, MovieLensPreparer.TrainFile));
            // A few thousand records hold every title pattern and the fixed prompt text; more only slows training.
            var texts = records.Take(3000).SelectMany(r => r.Turns.Select(t => t.Content).Prepend(r.System ?? ""));
            var trained = BpeTrainer.Train(texts, new BpeTrainerOptions(4096, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], 2));
            if (Directory.Exists(c.TokenizerDir)) Directory.Delete(c.TokenizerDir, recursive: true);
            TokenizerJsonWriter.Write(trained, c.TokenizerDir);
            c.Out.WriteLine($"  {trained.Vocab.Count + trained.SpecialTokens.Count:N0} tokens ({trained.Merges.Count:N0} merges) in {c.TokenizerDir}");
        }),
        new("model", "initialize a tiny Qwen3-architecture model with that tokenizer", c =>
        {
            var tokenizer = Tokenizer.Load(Path.Combine(c.TokenizerDir, "tokenizer.json"));
            var config = TinyModel(tokenizer.MaxId + 1, tokenizer);
            if (Directory.Exists(c.ModelDir)) Directory.Delete(c.ModelDir, recursive: true);
            ModelInitializer.WriteFolder(config, c.Seed, TensorDType.F32, c.TokenizerDir, c.ModelDir);
            c.Out.WriteLine($"  {CheckpointLayout.For(config).ParameterCount:N0} parameters ({config.NumLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize:N0}) in {c.ModelDir}");
        }),
        new("preprocess", "render, tokenize and mask train and eval; check render parity and masking", c =>
        {
            var options = new PreprocessOptions { CutoffLen = 1024 };
            PreprocessInputs? evalInputs = null;
            foreach (var file in new[] { MovieLensPreparer.TrainFile, MovieLensPreparer.EvalFile })
            {
                var path = Path.Combine(c.DatasetDir, file);
                var inputs = PreprocessInputs.FromFolder(c.ModelDir, path, null, options);
                var result = PreprocessPipeline.Run(inputs, new PreprocessCache(c.CacheDir), rebuild: false);
                if (file == MovieLensPreparer.TrainFile) c.TrainSet = result.Dataset;
                else (c.EvalSet, evalInputs) = (result.Dataset, inputs);
                c.Prompt = inputs.Options.Prompt; // resolved (template text recorded), for checkpoints
                var r = result.Report;
                var lengths = Enumerable.Range(0, result.Dataset.Count).Select(result.Dataset.Length).ToList();
                var st = LengthStatistics.Compute(lengths, options.CutoffLen);
                c.Out.WriteLine($"  {file}: {r.Kept:N0} samples, {r.Truncated} truncated, {r.Dropped} dropped, {r.RenderMismatches} render mismatches; " +
                                $"tokens p50 {st.P50}, p95 {st.P95}, max {st.Max}; {r.SupervisedTokens:N0} supervised of {r.SupervisedTokens + r.MaskedTokens:N0}{(result.FromCache ? " (cache)" : "")}");
            }
            // Every eval sample must supervise exactly its answer and <|im_end|>.
            var eval = SftDatasetReader.Read(Path.Combine(c.DatasetDir, MovieLensPreparer.EvalFile));
            var p = new SftPreprocessor(evalInputs!.Renderer, evalInputs.Tokenizer, evalInputs.Options);
            int flagged = eval.Count(rec => { var s = p.ProcessOne(rec); return MaskingInspector.Inspect(rec, s.Ids, s.Labels, evalInputs.Tokenizer, evalInputs.Options).Problem is not null; });
            if (flagged > 0) throw new InvalidOperationException($"{flagged} eval samples supervise more or less than their answer + end-of-turn token");
            var prompt = p.Builder.InferencePrompt(eval[0]);
            c.Out.WriteLine($"  masking: all {eval.Count} eval samples supervise exactly the answer + <|im_end|>; the inference prompt of eval[0] ends with {Escape(prompt[^40..])}");
        }),
        new("train", $"fine-tune the tiny model on the training samples ({TrainSteps} steps of {TrainBatch}, full fine-tuning) and evaluate before and after", c =>
        {
            using var folder = ModelFolder.Open(c.ModelDir);
            using var backend = ComputeBackends.Create();
            var train = c.TrainSet!;
            var eval = c.EvalSet!;
            var args = new TrainingArguments
            {
                OutputDir = c.TrainDir, OverwriteOutputDir = true, PerDeviceTrainBatchSize = TrainBatch, PerDeviceEvalBatchSize = EvalBatch, MaxSteps = TrainSteps,
                LearningRate = 3e-3, WeightDecay = 0.01, MaxGradNorm = 1.0, LrSchedulerType = LearningRateScheduleType.Cosine, WarmupSteps = TrainSteps / 10,
                LoggingSteps = TrainSteps / 4, SaveSteps = TrainSteps, Seed = c.Seed,
            };
            using var model = TrainableDecoder.CreateFull(folder.Config, folder.Weights, backend, new TrainingOptions { MaxTokens = TrainingRun.RequiredTokens(train, eval, args) });
            var before = TeacherForcedEvaluation.Run(model, eval, EvalBatch, args.PadTokenId);
            c.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  eval before: loss {before.Loss:F4}, token accuracy {before.TokenAccuracy:F3} on {eval.Count} samples"));
            var run = new TrainingRun(args, new TrainingRunInputs
            {
                Model = model, TrainSet = train, EvalSet = eval, BaseModelPath = c.ModelDir, PromptSettings = c.Prompt, Observers = [new DemoProgress(c.Out)],
            });
            var result = run.Run();
            var after = result.EvalMetrics!;
            c.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  eval after:  loss {after["eval_loss"]:F4}, token accuracy {after["eval_token_accuracy"]:F3} ({result.TrainMetrics["train_runtime"]:F1} s of training)"));
            c.Out.WriteLine($"  checkpoint (weights, optimizer state, trainer state) in {result.LastCheckpoint}; final model and logs in {c.TrainDir}");
        }),
    ];

    /// <summary>Prints the training log lines of the demo's run.</summary>
    private sealed class DemoProgress(TextWriter output) : ITrainingObserver
    {
        public void OnLog(TrainingLogEntry entry)
        {
            if (entry["loss"] is not double loss) return;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  step {entry.Step}/{entry.MaxSteps}: loss {loss:F4}, token accuracy {entry["token_accuracy"]:F3}, lr {entry["learning_rate"]:G3}, {entry.Throughput:N0} tokens/s"));
        }
    }

    private const int TrainSteps = 40, TrainBatch = 8, EvalBatch = 16;

    private static string Escape(string s) => "\"" + s.Replace("\n", "\\n") + "\"";

    public static CliCommand Create() =>
        new CliCommand("demo", "Run the main job on the built-in synthetic data.")
        {
            Description = "Stages: " + string.Join(" -> ", Stages.Select(s => s.Name)) + ".\n" +
                          string.Join("\n", Stages.Select(s => $"  {s.Name}: {s.What}")),
        }
            .Option("out", "output directory", "DIR", "out/demo")
            .Option("seed", "seed of the synthetic data and the splits", "N", "13")
            .Handle(a =>
            {
                var context = new DemoContext(a.RequiredString("out"), PrepareCommands.Seed(a), a.Out);
                for (int i = 0; i < Stages.Count; i++)
                {
                    var stage = Stages[i];
                    a.Out.WriteLine($"[{i + 1}/{Stages.Count}] {stage.Name}: {stage.What}");
                    a.Out.Flush();
                    stage.Run(context);
                }
                a.Out.WriteLine($"\ndemo done; everything is under {context.OutDir}");
                return CliApp.Success;
            });
}
