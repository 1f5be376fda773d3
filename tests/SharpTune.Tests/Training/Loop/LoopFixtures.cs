using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Tests.Models;
using SharpTune.Training;
using SharpTune.Training.Loop;

namespace SharpTune.Tests.Training.Loop;

/// <summary>A tiny model, datasets and helpers shared by the training-loop tests.</summary>
internal static class LoopFixtures
{
    public static readonly ModelConfig Qwen3 = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, hidden: 32, heads: 4, kvHeads: 2, headDim: 8, intermediate: 48, vocab: 67);

    public static readonly InMemoryTensorSource Weights = RandomModels.Weights(Qwen3, 3, false);

    /// <summary>Random samples of lengths in [minLength, maxLength]; the last ~half of each is supervised.</summary>
    public static TokenizedDataset Dataset(int count, int seed, int minLength = 4, int maxLength = 12, int vocab = 67)
    {
        var rng = new Random(seed);
        var b = new TokenizedDataset.Builder();
        for (int i = 0; i < count; i++)
        {
            int n = rng.Next(minLength, maxLength + 1);
            var ids = new int[n];
            var labels = new int[n];
            for (int t = 0; t < n; t++)
            {
                ids[t] = rng.Next(vocab - 1);
                labels[t] = t >= Math.Max(1, n / 2) ? ids[t] : LabelMasker.IgnoreIndex;
            }
            b.Add(ids, labels, i);
        }
        return b.Build();
    }

    public static TrainableDecoder Lora(IComputeBackend backend, int maxTokens, double dropout = 0, ulong seed = 1) =>
        TrainableDecoder.CreateLora(Qwen3, Weights, LoraInitializer.Initialize(Qwen3, new LoraConfig { Rank = 4, Alpha = 8, Dropout = dropout }, seed), backend,
            new TrainingOptions { MaxTokens = maxTokens, LogitChunk = 8 });

    public static TrainingArguments Args(string outputDir) => new()
    {
        OutputDir = outputDir, PerDeviceTrainBatchSize = 3, PerDeviceEvalBatchSize = 4, GradientAccumulationSteps = 2, NumTrainEpochs = 2,
        LearningRate = 5e-3, LrSchedulerType = LearningRateScheduleType.Cosine, WarmupRatio = 0.1, LoggingSteps = 1, SaveSteps = 2, Seed = 7,
        // The tiny random model's entropy already sits near 0.44 nats, under the default 0.5; tests that watch
        // warnings set the thresholds they test.
        Overfit = new SharpTune.Training.Reporting.OverfitThresholds { EntropyBelow = null },
    };

    /// <summary>Runs a whole loop with a fresh model; returns the result.</summary>
    public static TrainingRunResult Train(TrainingArguments args, TokenizedDataset train, TokenizedDataset? eval = null, double dropout = 0,
        IReadOnlyList<ITrainingObserver>? observers = null, IGenerativeEvaluator? generative = null, TimeProvider? clock = null,
        Action<string>? beforeCommit = null, CancellationTokenSource? cancel = null, string dataFingerprint = "data-1", SharpTune.Preprocessing.PromptSettings? prompt = null,
        Func<TrainingRunInputs, TrainingRunInputs>? configure = null)
    {
        using var backend = ComputeBackends.Create();
        using var model = Lora(backend, TrainingRun.RequiredTokens(train, eval, args), dropout);
        var inputs = new TrainingRunInputs
        {
            Model = model, TrainSet = train, EvalSet = eval, ModelFingerprint = "tiny-qwen3", DataFingerprint = dataFingerprint,
            Observers = observers ?? [], GenerativeEvaluator = generative, Clock = clock ?? TimeProvider.System, BeforeCheckpointCommit = beforeCommit, PromptSettings = prompt,
        };
        var run = new TrainingRun(args, configure is null ? inputs : configure(inputs));
        return run.Run(cancel?.Token ?? TestContext.Current.CancellationToken);
    }
}

/// <summary>An observer that records everything and can act on steps.</summary>
internal sealed class RecordingObserver : ITrainingObserver
{
    public List<StepReport> Steps { get; } = [];
    public List<TrainingLogEntry> Logs { get; } = [];
    public List<EvaluationReport> Evaluations { get; } = [];
    public List<CheckpointReport> Checkpoints { get; } = [];
    public List<TrainingWarning> Warnings { get; } = [];
    public TrainingStart? Start { get; private set; }
    public TrainingRunResult? End { get; private set; }
    public Action<StepReport>? OnEachStep { get; init; }

    public void OnTrainBegin(TrainingStart start) => Start = start;
    public void OnStep(StepReport step) { Steps.Add(step); OnEachStep?.Invoke(step); }
    public void OnLog(TrainingLogEntry entry) => Logs.Add(entry);
    public void OnEvaluate(EvaluationReport evaluation) => Evaluations.Add(evaluation);
    public void OnCheckpoint(CheckpointReport checkpoint) => Checkpoints.Add(checkpoint);
    public void OnWarning(TrainingWarning warning) => Warnings.Add(warning);
    public void OnTrainEnd(TrainingRunResult result) => End = result;
}

/// <summary>A clock that moves only when told.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => _ticks;
    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}

/// <summary>A generative evaluator returning fixed metrics and counting its calls.</summary>
internal sealed class FakeGenerativeEvaluator(double accuracy) : IGenerativeEvaluator
{
    public List<long> Calls { get; } = [];
    public IReadOnlyDictionary<string, double> Evaluate(TrainableDecoder model, long step, CancellationToken cancellation)
    {
        Calls.Add(step);
        return new Dictionary<string, double> { [GenerativeMetrics.Accuracy] = accuracy, ["f1"] = accuracy / 2, ["unparseable_rate"] = 0.25 };
    }
}

/// <summary>A generative evaluator whose accuracy is a function of the step.</summary>
internal sealed class StepGenerativeEvaluator(Func<long, double> accuracy) : IGenerativeEvaluator
{
    public IReadOnlyDictionary<string, double> Evaluate(TrainableDecoder model, long step, CancellationToken cancellation) =>
        new Dictionary<string, double> { [GenerativeMetrics.Accuracy] = accuracy(step) };
}

/// <summary>Collects the events the reporting side receives.</summary>
internal sealed class EventSink : SharpTune.Training.Reporting.ITrainingObserver
{
    public List<SharpTune.Training.Reporting.TrainingEvent> Events { get; } = [];
    public void OnEvent(SharpTune.Training.Reporting.TrainingEvent e) => Events.Add(e);
}
