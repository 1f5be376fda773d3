using SharpTune.Data.MovieLens;
using SharpTune.Data.Sft;
using SharpTune.Inference;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Demo;

/// <summary>
/// Training through a dataset_info.json entry joins an Alpaca instruction and input with one newline (LLaMA-Factory);
/// inference given the same entry reads the test records the same way, so the prompts match.
/// </summary>
public sealed class DatasetDescriptionInInferenceTests
{
    [Fact]
    public void InferenceReadsRecordsThroughTheTrainingDatasetEntry()
    {
        using var dir = TestEnvironment.TempDir();
        File.WriteAllText(Path.Combine(dir.Path, MovieLensPreparer.TestFile),
            "{\"instruction\": \"Will they like it?\", \"input\": \"History: A, B\", \"output\": \"Yes\", \"system\": \"Be brief.\", \"history\": [], \"user_id\": 7}\n");
        MovieLensDatasetInfo.Write(dir.Path);
        var entry = DatasetInfo.Load(Path.Combine(dir.Path, MovieLensDatasetInfo.FileName)).Get(MovieLensDatasetInfo.TestName);
        var path = Path.Combine(dir.Path, MovieLensPreparer.TestFile);

        var asTrained = Assert.Single(InferenceInput.Read(path, entry.Description));
        Assert.Equal("Will they like it?\nHistory: A, B", asTrained.Record.Turns[0].Content);
        Assert.Equal("Be brief.", asTrained.Record.System);
        Assert.Equal("Yes", asTrained.Reference);
        Assert.Equal("7", Assert.Single(asTrained.IdFields).Value);
        // The same record read by the training resolver: identical turns.
        var trained = Assert.Single(SftDatasetReader.Read(path, entry.Description));
        Assert.Equal(trained.Turns.Select(t => t.Content), asTrained.Record.Turns.Select(t => t.Content));

        // Detected from the keys instead, the join is a blank line: a different prompt.
        var detected = Assert.Single(InferenceInput.Read(path));
        Assert.Equal("Will they like it?\n\nHistory: A, B", detected.Record.Turns[0].Content);
    }
}
