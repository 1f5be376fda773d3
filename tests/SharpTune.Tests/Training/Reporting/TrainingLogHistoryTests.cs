using SharpTune.Tests.Support;
using SharpTune.Training.Reporting;

namespace SharpTune.Tests.Training.Reporting;

public class TrainingLogHistoryTests
{
    internal static string FixtureState => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "training-run", "trainer_state.json");

    [Fact]
    public void ReadsTransformersLogHistoryAndTheBestCheckpoint()
    {
        var h = TrainingLogHistory.ReadTrainerState(FixtureState);
        Assert.Equal(13, h.Records.Count); // 8 training logs, 4 evaluations, the final summary
        var loss = h.Series("loss")!;
        Assert.Equal([5.0, 10, 15, 20, 25, 30, 35, 40], loss.Steps);
        Assert.Equal(1.9292, loss.Values[0]);
        Assert.Equal([10.0, 20, 30, 40], h.Series("eval_loss")!.Steps);
        Assert.Equal(8, h.Series(LogKeys.LearningRate)!.Values.Length);
        Assert.Equal(4.990486745229364e-05, h.Series(LogKeys.LearningRate)!.Values[0]);
        Assert.Equal(20, h.BestCheckpointStep);
        Assert.Null(h.Series("no_such_metric"));
    }

    [Fact]
    public void ReadsLlamaFactoryTrainerLogWithItsFieldNames()
    {
        using var d = TestEnvironment.TempDir();
        var path = Path.Combine(d.Path, "trainer_log.jsonl");
        File.WriteAllText(path,
            """
            {"current_steps": 5, "total_steps": 20, "loss": 1.5, "lr": 4e-05, "epoch": 0.25, "percentage": 25.0, "elapsed_time": "0:00:05", "remaining_time": "0:00:15", "mean_token_accuracy": 0.5}
            {"current_steps": 10, "total_steps": 20, "loss": 1.25, "lr": 3e-05, "epoch": 0.5, "percentage": 50.0, "elapsed_time": "0:00:10", "remaining_time": "0:00:10"}
            {"current_steps": 10, "total_steps": 20, "eval_loss": 1.4, "epoch": 0.5, "percentage": 50.0, "elapsed_time": "0:00:11", "remaining_time": "0:00:11", "eval_accuracy": 0.61}

            """);
        var h = TrainingLogHistory.ReadTrainerLog(path);
        Assert.Equal(3, h.Records.Count);
        Assert.Equal([4e-05, 3e-05], h.Series(LogKeys.LearningRate)!.Values);
        Assert.Equal([5.0, 10], h.Series("loss")!.Steps);
        var acc = h.Series(LogKeys.TokenAccuracy)!;
        Assert.Equal("mean_token_accuracy", acc.Key);
        Assert.Equal([0.5], acc.Values);
        Assert.Equal([0.61], h.Series(LogKeys.EvalTokenAccuracy)!.Values);
        Assert.Equal(0, h.EntriesReplacedByResume);
    }

    [Fact]
    public void OtherNamesOfAMetricAreAcceptedPerEntry()
    {
        using var d = TestEnvironment.TempDir();
        var path = Path.Combine(d.Path, "trainer_state.json");
        File.WriteAllText(path, """
            {"log_history": [
              {"eval_loss": 1.0, "eval_first_answer_token_accuracy": 0.5, "eval_generative_accuracy": 0.4, "step": 10},
              {"eval_loss": 0.9, "eval_first_token_accuracy": 0.6, "eval_gen_accuracy": 0.55, "step": 20}
            ]}
            """);
        var h = TrainingLogHistory.ReadTrainerState(path);
        Assert.Equal([0.5, 0.6], h.Series(LogKeys.EvalFirstAnswerTokenAccuracy)!.Values);
        Assert.Equal([0.4, 0.55], h.Series(LogKeys.EvalGenerativeAccuracy)!.Values);
    }

    [Fact]
    public void AResumedRunsRepeatedStepsReplaceTheEarlierEntries()
    {
        using var d = TestEnvironment.TempDir();
        var path = Path.Combine(d.Path, "trainer_log.jsonl");
        File.WriteAllText(path, string.Join("\n",
            """{"current_steps": 10, "loss": 2.0}""",
            """{"current_steps": 20, "loss": 1.5}""",
            """{"current_steps": 20, "eval_loss": 1.6}""",
            """{"current_steps": 30, "loss": 1.2}""",
            // killed after step 30; resumed from checkpoint-20: step 30 is logged again
            """{"current_steps": 30, "loss": 1.1}""",
            """{"current_steps": 40, "loss": 1.0}""",
            // resumed again from checkpoint-20 after a crash at 40, logging every 5 steps
            """{"current_steps": 25, "loss": 1.3}""") + "\n");
        var h = TrainingLogHistory.ReadTrainerLog(path);
        Assert.Equal([10.0, 20, 25], h.Series("loss")!.Steps);
        Assert.Equal([2.0, 1.5, 1.3], h.Series("loss")!.Values);
        Assert.Equal([1.6], h.Series("eval_loss")!.Values);
        Assert.Equal(3, h.EntriesReplacedByResume); // 30 (first run), then 30 and 40 (second run)
    }

    [Fact]
    public void AnUnfinishedLastLineIsLeftOutAndCounted_AMalformedLineElsewhereIsAnError()
    {
        using var d = TestEnvironment.TempDir();
        var path = Path.Combine(d.Path, "trainer_log.jsonl");
        File.WriteAllText(path, "{\"current_steps\": 10, \"loss\": 2.0}\n{\"current_steps\": 20, \"lo");
        var h = TrainingLogHistory.ReadTrainerLog(path);
        Assert.Single(h.Records);
        Assert.Equal(1, h.TruncatedLinesLeftOut);

        File.WriteAllText(path, "{\"current_steps\": 10, \"loss\": 2.0}\n{\"current_steps\": 20, \"lo\n{\"current_steps\": 30, \"loss\": 1.0}\n");
        var e = Assert.Throws<UserException>(() => TrainingLogHistory.ReadTrainerLog(path));
        Assert.StartsWith($"{path}:2: not valid JSON: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        File.WriteAllText(path, "{\"loss\": 2.0}\n");
        e = Assert.Throws<UserException>(() => TrainingLogHistory.ReadTrainerLog(path));
        Assert.Equal($"{path}:1: field 'current_steps' must be a step number (an integer ≥ 0)", e.Message);
    }

    [Fact]
    public void PythonsNonFiniteWordsAreReadAndLeftOutOfTheSeries()
    {
        using var d = TestEnvironment.TempDir();
        var path = Path.Combine(d.Path, "trainer_state.json");
        File.WriteAllText(path, """
            {"log_history": [
              {"loss": 1.0, "grad_norm": Infinity, "step": 1, "note": "NaN in a string stays text"},
              {"loss": NaN, "grad_norm": -Infinity, "step": 2},
              {"loss": 0.5, "grad_norm": 2.0, "step": 3}
            ]}
            """);
        var h = TrainingLogHistory.ReadTrainerState(path);
        var loss = h.Series("loss")!;
        Assert.Equal([1.0, 3], loss.Steps);
        Assert.Equal(1, loss.NonFiniteLeftOut);
        Assert.Equal(2, h.Series("grad_norm")!.NonFiniteLeftOut);
        Assert.False(h.Records[0].Values.ContainsKey("note"));
    }

    [Fact]
    public void MalformedTrainerStateIsOneLineNamingFileAndLine()
    {
        using var d = TestEnvironment.TempDir();
        var path = Path.Combine(d.Path, "trainer_state.json");
        File.WriteAllText(path, "{\n  \"log_history\": [\n    {\"loss\": 1.0,, \"step\": 1}\n  ]\n}\n");
        var e = Assert.Throws<UserException>(() => TrainingLogHistory.ReadTrainerState(path));
        Assert.StartsWith($"{path}:3: not valid JSON: ", e.Message);
        Assert.DoesNotContain("LineNumber", e.Message);

        File.WriteAllText(path, "{\"global_step\": 3}");
        e = Assert.Throws<UserException>(() => TrainingLogHistory.ReadTrainerState(path));
        Assert.Equal($"{path}: field 'log_history' must be a list of log entries", e.Message);

        File.WriteAllText(path, "{\"log_history\": [{\"loss\": 1.0, \"step\": \"one\"}]}");
        e = Assert.Throws<UserException>(() => TrainingLogHistory.ReadTrainerState(path));
        Assert.Equal($"{path}: log_history[0]: field 'step' must be a step number (an integer ≥ 0)", e.Message);
    }

    [Fact]
    public void RunFolderPrefersTheStateThenTheLogThenTheNewestCheckpoint()
    {
        using var d = TestEnvironment.TempDir();
        var run = d.Path;
        Assert.Equal($"{run}: no trainer_state.json or trainer_log.jsonl (is this a train output folder?)",
            Assert.Throws<UserException>(() => TrainingLogHistory.ReadRunFolder(run)).Message);
        Assert.Equal($"{run}/nope: no such folder", Assert.Throws<UserException>(() => TrainingLogHistory.ReadRunFolder(run + "/nope")).Message);

        Directory.CreateDirectory(Path.Combine(run, "checkpoint-5"));
        Directory.CreateDirectory(Path.Combine(run, "checkpoint-10"));
        Directory.CreateDirectory(Path.Combine(run, ".checkpoint-15.tmp")); // unfinished: not a checkpoint
        File.WriteAllText(Path.Combine(run, "checkpoint-10", "trainer_state.json"), """{"log_history": [{"loss": 3.0, "step": 10}]}""");
        var h = TrainingLogHistory.ReadRunFolder(run);
        Assert.Equal(Path.Combine(run, "checkpoint-10", "trainer_state.json"), h.SourcePath);
        Assert.Equal([5L, 10], h.CheckpointSteps);

        File.WriteAllText(Path.Combine(run, "trainer_log.jsonl"), "{\"current_steps\": 12, \"loss\": 2.0}\n");
        h = TrainingLogHistory.ReadRunFolder(run);
        Assert.Equal([2.0], h.Series("loss")!.Values);

        File.Copy(FixtureState, Path.Combine(run, "trainer_state.json"));
        h = TrainingLogHistory.ReadRunFolder(run);
        Assert.Equal(8, h.Series("loss")!.Values.Length);
        Assert.Equal([5L, 10], h.CheckpointSteps);
        Assert.Equal(20, h.BestCheckpointStep);
    }
}
