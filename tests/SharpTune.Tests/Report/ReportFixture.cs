using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Report;

/// <summary>
/// A pipeline output folder as <c>sharptune demo</c> lays it out: <c>train/</c> (the fixture trainer_state.json,
/// checkpoint-20 and -40, prompt_settings.json with the chatml template), <c>train.yaml</c>, <c>dataset/</c>
/// (summary.json, train.json), <c>tokenizer/</c> (a byte-level BPE trained on the data), and optionally
/// <c>eval.json</c>, <c>baselines.json</c> and <c>sanity/</c> from tests/data/report.
/// </summary>
internal sealed class ReportFixture : IDisposable
{
    public const int Records = 40, CutoffLen = 100;

    private readonly TempDir _dir = TestEnvironment.TempDir();

    public static string DataDir => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "report");

    public string Root => _dir.Path;
    public string RunDir => Path.Combine(Root, "train");
    public string OutDir => Path.Combine(Root, "report");

    /// <summary>Untruncated lengths are not known here; the tests compare with what `stats` prints.</summary>
    public string TrainJson => Path.Combine(Root, "dataset", "train.json");

    public ReportFixture(bool results = true, bool data = true)
    {
        Directory.CreateDirectory(RunDir);
        File.Copy(Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "training-run", "trainer_state.json"), Path.Combine(RunDir, "trainer_state.json"));
        Directory.CreateDirectory(Path.Combine(RunDir, "checkpoint-20"));
        Directory.CreateDirectory(Path.Combine(RunDir, "checkpoint-40"));
        File.WriteAllText(Path.Combine(RunDir, "all_results.json"), "{\"epoch\": 2.0, \"eval_loss\": 0.6921, \"train_loss\": 0.9}\n");
        PromptSettingsFile.Write(Path.Combine(RunDir, PromptSettingsFile.FileName), new PromptSettings { Template = "chatml" });
        File.WriteAllText(Path.Combine(Root, "train.yaml"), $"model_name_or_path: model\nstage: sft\ntemplate: chatml\ncutoff_len: {CutoffLen}  # tokens\nlearning_rate: 5.0e-5\n");
        if (data) WriteData();
        if (results)
        {
            File.Copy(Path.Combine(DataDir, "eval.json"), Path.Combine(Root, "eval.json"));
            File.Copy(Path.Combine(DataDir, "baselines.json"), Path.Combine(Root, "baselines.json"));
            Directory.CreateDirectory(Path.Combine(Root, "sanity"));
            foreach (var f in Directory.GetFiles(Path.Combine(DataDir, "sanity")))
                File.Copy(f, Path.Combine(Root, "sanity", Path.GetFileName(f)));
        }
    }

    private void WriteData()
    {
        var dataset = Path.Combine(Root, "dataset");
        Directory.CreateDirectory(dataset);
        var rng = new Random(7);
        var records = new List<Dictionary<string, string>>();
        for (int i = 0; i < Records; i++)
        {
            var history = string.Join(", ", Enumerable.Range(0, rng.Next(2, 24)).Select(_ => $"Movie {rng.Next(1, 99)} ({rng.Next(1, 6)})"));
            records.Add(new() { ["instruction"] = $"History: {history}. Will the user like Movie 7?", ["input"] = "", ["output"] = i % 3 == 0 ? "Yes" : "No", ["system"] = "Answer Yes or No." });
        }
        File.WriteAllText(TrainJson, JsonSerializer.Serialize(records));
        File.WriteAllText(Path.Combine(dataset, "summary.json"), """
            {"format": "movielens", "inputs": {"ratings": {"path": "ml/ratings.csv", "sha256": "00", "rows_read": 1300, "rows_rejected": 0, "rejected_by_reason": {}},
                                              "movies": {"path": "ml/movies.csv", "sha256": "01", "rows_read": 99, "rows_rejected": 0, "rejected_by_reason": {}}},
             "ratings_accepted": 1234, "users": {"total": 50, "kept": 48, "skipped": 2},
             "splits": {"train": {"file": "train.json", "samples": 40, "yes": 14, "no": 26}, "eval": {"file": "eval.json", "samples": 10, "yes": 4, "no": 6},
                        "test": {"file": "test_raw.jsonl", "samples": 12, "yes": 5, "no": 7}}}
            """);
        var corpus = Path.Combine(Root, "corpus.jsonl");
        File.WriteAllLines(corpus, records.Select(r => JsonSerializer.Serialize(new { text = r["instruction"] + " " + r["output"] })));
        var (code, _, err) = Cli("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--out", Path.Combine(Root, "tokenizer"));
        Assert.True(code == 0, err);
    }

    public static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    public void Dispose() => _dir.Dispose();
}
