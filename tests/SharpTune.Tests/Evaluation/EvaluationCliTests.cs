using System.Text;
using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Synthetic;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Evaluation;

public class EvaluationCliTests
{
    private static (int Code, string Out, string Err) RunWithInput(string stdin, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(stdin));
        return (code, o.ToString(), e.ToString());
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => RunWithInput("", args);

    private static void UserError(string expected, (int Code, string Out, string Err) result)
    {
        Assert.Equal(CliApp.UserError, result.Code);
        Assert.Equal("error: " + expected + "\n", result.Err.Replace("\r\n", "\n"));
    }

    private static string Write(TempDir d, string name, params string[] lines)
    {
        var path = d.File(name);
        File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));
        return path;
    }

    // ---- extract-answer ----

    [Fact]
    public void ExtractAnswerAddsTheAnswerAndKeepsTheRestOfEachLine()
    {
        var input = "{\"index\": 0, \"output\": \"<think>\\nhmm, No?\\n</think>\\n\\nYes.\", \"user_id\": 7}\n" +
                    "\n" +
                    "{\"output\":\"Maybe yes, maybe no\",\"answer\":\"Yes\",\"x\":{\"answer\":1}}\n" +
                    "{\"output\": \"<think>never closed\"}\n" +
                    "{\"output\": \"Noé\", \"nested\": [1, {\"answer\": 2}]}\n";
        var (code, output, err) = RunWithInput(input, "extract-answer", "--labels", "Yes,No");
        Assert.Equal(0, code);
        Assert.Equal(
            "{\"index\": 0, \"output\": \"<think>\\nhmm, No?\\n</think>\\n\\nYes.\", \"user_id\": 7, \"answer\": \"Yes\"}\n" +
            "{\"output\":\"Maybe yes, maybe no\",\"answer\":null,\"x\":{\"answer\":1}}\n" +
            "{\"output\": \"<think>never closed\", \"answer\": null}\n" +
            "{\"output\": \"Noé\", \"nested\": [1, {\"answer\": 2}], \"answer\": null}\n", output);
        Assert.Equal("extract-answer: 4 records: Yes 1, No 0; unparseable 3: think_unclosed 1, ambiguous 1, no_label 1; 1 empty lines skipped\n", err);
    }

    [Fact]
    public void ExtractAnswerReadsAndWritesFiles()
    {
        using var d = TestEnvironment.TempDir();
        var input = Write(d, "in.jsonl", "{\"output\": \"Answer: **no**\"}", "{}".Replace("{}", "{\"output\": \"\"}"));
        var output = d.File("out.jsonl");
        var (code, stdout, _) = Run("extract-answer", "--labels", "Yes,No", "--input", input, "--output", output);
        Assert.Equal(0, code);
        Assert.Equal("", stdout);
        Assert.Equal("{\"output\": \"Answer: **no**\", \"answer\": \"No\"}\n{\"output\": \"\", \"answer\": null}\n", File.ReadAllText(output));
        Assert.Single(Directory.GetFiles(d.Path, "out.jsonl*")); // no temporary left behind
    }

    [Fact]
    public void ExtractAnswerBadInputIsOneLine()
    {
        using var d = TestEnvironment.TempDir();
        var bad = Write(d, "bad.jsonl", "{\"output\": \"Yes\"}", "{\"output\": \"Yes\"");
        UserError($"{bad}:2: malformed JSON (Expected depth to be zero at the end of the JSON payload); expected one JSON object a line",
            Run("extract-answer", "--labels", "Yes,No", "--input", bad));
        var noOutput = Write(d, "none.jsonl", "{\"text\": \"Yes\"}");
        UserError($"{noOutput}:1: no \"output\" string; expected lines like {{\"output\": \"generated text\"}}",
            Run("extract-answer", "--labels", "Yes,No", "--input", noOutput));
        UserError("stdin:1: expected a JSON object, got a array", RunWithInput("[1]\n", "extract-answer", "--labels", "Yes,No"));
        UserError("--labels: expected at least two labels (e.g. Yes,No), got only 'Yes'", Run("extract-answer", "--labels", "Yes"));
        // an error leaves no partial --output
        var output = d.File("out.jsonl");
        Assert.Equal(CliApp.UserError, Run("extract-answer", "--labels", "Yes,No", "--input", bad, "--output", output).Code);
        Assert.Empty(Directory.GetFiles(d.Path, "*out.jsonl*"));
    }

    // ---- eval ----

    private static string Predictions(TempDir d) => Write(d, "preds.jsonl",
        "{\"index\": 0, \"output\": \"Yes\", \"answer\": \"Yes\", \"label\": \"Yes\", \"correct\": true, \"p\": 0.9, \"user_id\": 1}",
        "{\"index\": 1, \"output\": \"No\", \"answer\": \"No\", \"label\": \"Yes\", \"correct\": false, \"p\": 0.4, \"user_id\": 1}",
        "{\"index\": 2, \"output\": \"<think>\", \"answer\": null, \"label\": \"No\", \"correct\": false, \"p\": 0.3, \"user_id\": 2}",
        "{\"index\": 3, \"output\": \"No\", \"answer\": \"No\", \"label\": \"No\", \"correct\": true, \"p\": 0.2, \"user_id\": 2}",
        "",
        "{\"index\": 4, \"output\": \"**Yes**\", \"label\": \"No\", \"p\": 0.6, \"user_id\": 10}");

    [Fact]
    public void EvalPrintsTheMetricsTable()
    {
        using var d = TestEnvironment.TempDir();
        var path = Predictions(d);
        var (code, output, err) = Run("eval", "--predictions", path, "--labels", "Yes,No", "--bootstrap", "100");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.StartsWith($"{path}: 5 records, labels Yes, No (positive Yes)\n", output);
        Assert.Contains("accuracy        0.4000  [", output);
        Assert.Contains("unparseable     1 (20.00%): null_answer 1\n", output);
        Assert.Contains("ROC AUC         0.8333\n", output);
        Assert.Contains("best threshold  p >= 0.4 (accuracy 0.8000)\n", output);
        // line 6 has no answer: "**Yes**" is extracted, so it is a wrong Yes
        Assert.Contains("Yes                  1          1            0\n", output);
        Assert.Contains("No                   1          1            1\n", output);
    }

    [Fact]
    public void EvalJsonHasTheDocumentedKeysAndSlices()
    {
        using var d = TestEnvironment.TempDir();
        var path = Predictions(d);
        var outFile = d.File("model.json");
        var (code, output, _) = Run("eval", "--predictions", path, "--by", "user_id", "--json", "--out", outFile, "--bootstrap", "50", "--seed", "3");
        Assert.Equal(0, code);
        Assert.Equal(output, File.ReadAllText(outFile));
        var root = JsonDocument.Parse(output).RootElement;
        foreach (var key in new[] { "n", "accuracy", "macro_f1", "unparseable", "unparseable_rate", "per_class", "confusion", "roc_auc", "log_loss", "best_threshold", "intervals" })
            Assert.True(root.TryGetProperty(key, out _), key);
        Assert.Equal(["No", "Yes"], root.GetProperty("labels").EnumerateArray().Select(e => e.GetString())); // sorted references
        Assert.Equal("Yes", root.GetProperty("positive").GetString());
        Assert.Equal(0.4, root.GetProperty("accuracy").GetDouble(), 15);
        Assert.Equal(1, root.GetProperty("confusion").GetProperty("No").GetProperty("unparseable").GetInt32());
        Assert.Equal(1, root.GetProperty("per_class").GetProperty("No").GetProperty("support").GetInt32() - 2);
        Assert.Equal(3UL, root.GetProperty("intervals").GetProperty("seed").GetUInt64());
        var slices = root.GetProperty("by").GetProperty("slices");
        Assert.Equal(["1", "2", "10"], slices.EnumerateObject().Select(p => p.Name)); // numeric order
        Assert.Equal(0.5, slices.GetProperty("2").GetProperty("accuracy").GetDouble());
        Assert.Equal(1, slices.GetProperty("10").GetProperty("n").GetInt32());
    }

    [Fact]
    public void EvalBadInputIsOneLine()
    {
        using var d = TestEnvironment.TempDir();
        var malformed = Write(d, "m.jsonl", "{\"label\": \"Yes\", \"answer\": \"Yes\"}", "", "{\"label\": \"Yes\", answer}");
        UserError($"{malformed}:3: malformed JSON ('a' is an invalid start of a property name); expected one JSON object a line",
            Run("eval", "--predictions", malformed));
        var oneWithout = Write(d, "w.jsonl", "{\"label\": \"Yes\", \"answer\": \"Yes\"}", "{\"answer\": \"No\"}");
        UserError($"{oneWithout}:2: no \"label\" (the reference answer); every record needs one", Run("eval", "--predictions", oneWithout));
        var none = Write(d, "n.jsonl", "{\"output\": \"Yes\"}", "{\"output\": \"No\"}");
        UserError($"{none}: no record has a \"label\" (the reference answer); eval needs predictions of labelled records", Run("eval", "--predictions", none));
        var allYes = Write(d, "y.jsonl", "{\"label\": \"Yes\", \"answer\": \"Yes\"}");
        UserError($"{allYes}: the reference labels (give the label set with --labels): expected at least two labels (e.g. Yes,No), got only 'Yes'",
            Run("eval", "--predictions", allYes));
        Assert.Equal(0, Run("eval", "--predictions", allYes, "--labels", "Yes,No").Code);
        UserError("--labels: expected at least two labels (e.g. Yes,No), got only 'Yes'", Run("eval", "--predictions", allYes, "--labels", "Yes"));
        var other = Write(d, "o.jsonl", "{\"label\": \"Maybe\", \"answer\": \"Yes\"}");
        UserError($"{other}:1: label 'Maybe' is not one of the labels Yes,No", Run("eval", "--predictions", other, "--labels", "Yes,No"));
        var badAnswer = Write(d, "a.jsonl", "{\"label\": \"Yes\", \"answer\": \"yes\"}");
        UserError($"{badAnswer}:1: answer 'yes' is not one of the labels Yes,No (null marks an unparseable answer)", Run("eval", "--predictions", badAnswer, "--labels", "Yes,No"));
        var neither = Write(d, "x.jsonl", "{\"label\": \"Yes\"}");
        UserError($"{neither}:1: neither \"answer\" nor \"output\"; expected a prediction with one of them", Run("eval", "--predictions", neither, "--labels", "Yes,No"));
        var partial = Write(d, "s.jsonl", "{\"label\": \"Yes\", \"answer\": \"Yes\", \"p\": 0.7}", "{\"label\": \"No\", \"answer\": \"Yes\"}");
        UserError($"{partial}:2: no \"p\" or \"scores\" while other records have them; score every record or none", Run("eval", "--predictions", partial));
        var badP = Write(d, "p.jsonl", "{\"label\": \"Yes\", \"answer\": \"Yes\", \"p\": 1.5}");
        UserError($"{badP}:1: \"p\" must be a probability in [0, 1], got 1.5", Run("eval", "--predictions", badP));
        UserError("--positive: 'Maybe' is not one of the labels Yes,No", Run("eval", "--predictions", allYes, "--labels", "Yes,No", "--positive", "Maybe"));
        UserError($"{d.File("absent.jsonl")}: file not found", Run("eval", "--predictions", d.File("absent.jsonl")));
        UserError("eval needs --predictions FILE (or --compare A.json B.json ...)", Run("eval"));
        var empty = Write(d, "e.jsonl", "");
        UserError($"{empty}: no predictions (the file has no records)", Run("eval", "--predictions", empty));
    }

    // ---- baselines and compare ----

    private static string PrepareSynthetic(TempDir d)
    {
        var data = SyntheticMovieLens.Generate(new SyntheticMovieLensOptions { OutputDirectory = d.File("data"), Users = 80, Movies = 300, Seed = 3 });
        MovieLensPreparer.Prepare(new MovieLensPrepareOptions { RatingsPath = data.RatingsPath, MoviesPath = data.MoviesPath, OutputDirectory = d.File("prepared"), TestRatio = 0.2 });
        return d.File("prepared");
    }

    [Fact]
    public void BaselinesPrintAndWriteTheirResultsAndCompareShowsThemBesideAModel()
    {
        using var d = TestEnvironment.TempDir();
        var prepared = PrepareSynthetic(d);
        var outFile = d.File("baselines.json");
        var (code, output, err) = Run("baselines", "--prepared", prepared, "--out", outFile, "--bootstrap", "20", "--mf-epochs", "5");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Matches(@"^baselines on .*: thresholds and majority from [\d,]+ train records, scored on [\d,]+ test records\n", output);
        Assert.Matches(@"\nmetric +majority +user_history_mean +item_mean +matrix_factorization\n", output);
        var root = JsonDocument.Parse(File.ReadAllText(outFile)).RootElement;
        foreach (var name in new[] { "majority", "user_history_mean", "item_mean", "matrix_factorization" })
        {
            var r = root.GetProperty(name);
            Assert.True(r.GetProperty("accuracy").GetDouble() > 0.3);
            Assert.Equal(name != "majority", r.TryGetProperty("threshold", out _));
            Assert.Equal(name != "majority", r.TryGetProperty("roc_auc", out _));
            Assert.True(r.TryGetProperty("intervals", out _));
        }
        var (jsonCode, json, _) = Run("baselines", "--prepared", prepared, "--json", "--bootstrap", "20", "--mf-epochs", "5");
        Assert.Equal(0, jsonCode);
        Assert.Equal(File.ReadAllText(outFile), json);

        var model = Predictions(d);
        var modelJson = d.File("model.json");
        Assert.Equal(0, Run("eval", "--predictions", model, "--out", modelJson).Code);
        var (cmpCode, cmp, cmpErr) = Run("eval", "--compare", modelJson, outFile);
        Assert.Equal("", cmpErr);
        Assert.Equal(0, cmpCode);
        var header = cmp.Split('\n')[0];
        Assert.Matches(@"^metric +model +baselines\.majority +baselines\.user_history_mean +baselines\.item_mean +baselines\.matrix_factorization$", header);
        Assert.Matches(@"\naccuracy +0\.4000 +0\.\d{4} +0\.\d{4} +0\.\d{4} +0\.\d{4}\n", cmp);
        Assert.Matches(@"\nlog loss +\d\.\d{4} +- +- +- +-\n", cmp);
        var (jCode, jOut, _) = Run("eval", "--compare", modelJson, outFile, "--json");
        Assert.Equal(0, jCode);
        var merged = JsonDocument.Parse(jOut).RootElement;
        Assert.Equal(["model", "baselines.majority", "baselines.user_history_mean", "baselines.item_mean", "baselines.matrix_factorization"],
            merged.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.4, merged.GetProperty("model").GetProperty("accuracy").GetDouble(), 15);
        UserError("--compare: expected result files, e.g. eval --compare model.json baselines.json", Run("eval", "--compare"));
        UserError($"{model}: malformed JSON at line 2; expected a result file of sharptune eval --json or baselines --json", Run("eval", "--compare", model));
    }

    [Fact]
    public void BaselinesBadInputIsOneLine()
    {
        using var d = TestEnvironment.TempDir();
        var prepared = PrepareSynthetic(d);
        UserError($"{Path.Combine(d.Path, "summary.json")}: file not found; --prepared must be an output folder of sharptune prepare movielens",
            Run("baselines", "--prepared", d.Path));
        UserError("--mf-factors: expected an integer in 1–1024, got 0", Run("baselines", "--prepared", prepared, "--mf-factors", "0"));
        // an input changed since prepare: sha256 differs
        var ratings = d.File("data/ratings.csv");
        File.AppendAllText(ratings, "1,1,4.0,1\n");
        var (code, _, err) = Run("baselines", "--prepared", prepared);
        Assert.Equal(CliApp.UserError, code);
        Assert.Matches($@"^error: {System.Text.RegularExpressions.Regex.Escape(ratings)}: changed since prepare movielens wrote .*summary\.json \(sha256 [0-9a-f]{{16}}… now, [0-9a-f]{{16}}… recorded\); rerun prepare movielens\n$", err);
        // the input moved: named, with the flag that fixes it
        File.Move(ratings, d.File("moved.csv"));
        UserError($"{Path.Combine(prepared, "summary.json")}: inputs.ratings.path '{ratings}' not found (from the current directory or {prepared}); pass --ratings PATH",
            Run("baselines", "--prepared", prepared));
    }
}
