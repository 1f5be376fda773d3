using SharpTune.IO;

namespace SharpTune.Data.MovieLens;

/// <summary>
/// A LLaMA-Factory <c>dataset_info.json</c> for a <c>prepare movielens</c> folder, so a training config can name its
/// splits (<c>dataset: movielens_train</c>, <c>eval_dataset: movielens_eval</c>, <c>dataset_dir: DIR</c>). The
/// entries map every column of the records (instruction, input, output, system, history): LLaMA-Factory reads the
/// system and history columns only when mapped. As in LLaMA-Factory, the user message is the instruction and the input
/// joined by one newline; inference and reports must read the records through the same entry to see the same prompt.
/// </summary>
public static class MovieLensDatasetInfo
{
    /// <summary>The file name.</summary>
    public const string FileName = "dataset_info.json";

    /// <summary>The dataset names of the three splits.</summary>
    public const string TrainName = "movielens_train", EvalName = "movielens_eval", TestName = "movielens_test";

    /// <summary>The file's text.</summary>
    public static string Text()
    {
        static string Entry(string name, string file) =>
            $"  \"{name}\": {{\"file_name\": \"{file}\", \"formatting\": \"alpaca\", " +
            "\"columns\": {\"prompt\": \"instruction\", \"query\": \"input\", \"response\": \"output\", \"system\": \"system\", \"history\": \"history\"}}";
        return "{\n" + string.Join(",\n",
            Entry(TrainName, MovieLensPreparer.TrainFile), Entry(EvalName, MovieLensPreparer.EvalFile), Entry(TestName, MovieLensPreparer.TestFile)) + "\n}\n";
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="preparedDir"/> (atomically) and returns its path.</summary>
    public static string Write(string preparedDir)
    {
        var path = Path.Combine(preparedDir, FileName);
        AtomicFile.WriteAllText(path, Text());
        return path;
    }
}
