using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Evaluation;
using SharpTune.Evaluation.Baselines;
using SharpTune.IO;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune extract-answer</c>, <c>eval</c> and <c>baselines</c>: answers out of generated text, metrics of
/// predictions, and classical recommenders on the same MovieLens test records. Design: docs/evaluation.md.
/// </summary>
internal static class EvaluationCommands
{
    public static IEnumerable<CliCommand> Create() => [ExtractAnswer(), Eval(), Baselines()];

    private static CliCommand ExtractAnswer() =>
        new CliCommand("extract-answer", "Add the extracted label (or null) as \"answer\" to JSONL lines with an \"output\" string.")
        {
            Description =
                "For each line {\"output\": \"...\", ...}: removes complete <think>...</think> blocks (an unclosed <think> is\n" +
                "unparseable), strips leading whitespace, markdown (* _ ` \" ' >) and a prefix such as 'Answer:' or 'The answer is',\n" +
                "takes a label that starts the text, else the only label that occurs as a whole word (none or several:\n" +
                "unparseable, null). The rest of each line is kept as it is. Counts go to stderr.",
        }
            .Option("labels", "the label set, comma-separated", "Yes,No", required: true)
            .Option("input", "JSONL file (default: stdin)", "FILE")
            .Option("output", "JSONL file, written atomically (default: stdout)", "FILE")
            .Handle(a =>
            {
                var extractor = new AnswerExtractor(LabelSet.Parse(a.RequiredString("labels")));
                var inputPath = a.String("input");
                if (inputPath is not null) SharpTune.IO.InputPaths.RequireFile(inputPath, $"--input: file not found: {inputPath}");
                using var input = inputPath is null ? a.In : new StreamReader(inputPath, new UTF8Encoding(false), true);
                var name = inputPath ?? "stdin";
                AnswerLineCounts counts;
                if (a.String("output") is { } outputPath)
                {
                    AnswerLineCounts? c = null;
                    AtomicFile.WriteText(outputPath, w => c = NotEmpty(AnswerLines.Rewrite(input, w, extractor, name), name));
                    counts = c!;
                }
                else counts = NotEmpty(AnswerLines.Rewrite(input, a.Out, extractor, name), name);
                var labels = string.Join(", ", extractor.Labels.Labels.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l} {counts.ByLabel.GetValueOrDefault(l):N0}")));
                long bad = counts.Unparseable.Values.Sum();
                var reasons = bad == 0 ? "" : ": " + string.Join(", ", counts.Unparseable.OrderBy(kv => kv.Key)
                    .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{AnswerExtraction.Key(kv.Key)} {kv.Value:N0}")));
                a.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"extract-answer: {counts.Records:N0} records: {labels}; unparseable {bad:N0}{reasons}{(counts.EmptyLines > 0 ? $"; {counts.EmptyLines:N0} empty lines skipped" : "")}"));
                return CliApp.Success;
            });

    // An input without records is refused (and, thrown inside the atomic write, leaves no output file).
    private static AnswerLineCounts NotEmpty(AnswerLineCounts counts, string name) =>
        counts.Records > 0 ? counts : throw new UserException($"{name}: no JSONL records to extract answers from; an empty result is refused");

    private static CliCommand Eval() =>
        new CliCommand("eval", "Metrics of a predictions file (infer's JSONL), or several result files side by side.")
        {
            Description =
                "Accuracy, per-class precision/recall/F1, macro F1, the confusion matrix with an unparseable column and the\n" +
                "unparseable rate; with p (or scores) on every record of a two-label set, ROC AUC, log loss and the\n" +
                "best-accuracy threshold; percentile-bootstrap 95% intervals of accuracy and macro F1. Lines without \"answer\"\n" +
                "get it extracted from \"output\". Unparseable answers count as wrong and belong to no predicted class.\n" +
                "--compare A.json B.json ... prints result files (eval --json/--out, baselines --json/--out) side by side.",
        }
            .Argument("FILES", "with --compare: result files", required: false, variadic: true)
            .Option("predictions", "predictions JSONL (index, output, answer, label, p, scores, id fields)", "FILE")
            .Option("labels", "the label set, comma-separated (default: the distinct reference labels, sorted)", "Yes,No")
            .Option("positive", "the positive label for score metrics (default: Yes when a label, else the first)", "LABEL")
            .Option("by", "also report each value of this field separately (e.g. user_id, finish_reason)", "FIELD")
            .Option("bootstrap", "bootstrap resamples for the intervals (0: none)", "N", "1000")
            .Option("seed", "seed of the bootstrap", "N", "0")
            .Flag("json", "print the result as JSON instead of tables")
            .Option("out", "also write the JSON result to this file (atomically)", "FILE")
            .Flag("compare", "print the result files given as arguments side by side")
            .Handle(a =>
            {
                if (a.Bool("compare"))
                {
                    if (a.Has("predictions")) throw new UserException("--compare takes result files as arguments, not --predictions");
                    if (a.Positionals.Count == 0) throw new UserException("--compare: expected result files, e.g. eval --compare model.json baselines.json");
                    var results = a.Positionals.SelectMany(EvaluationJson.ReadResults).ToList();
                    if (a.Bool("json"))
                    {
                        using var ms = new MemoryStream();
                        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
                        {
                            w.WriteStartObject();
                            foreach (var (name, e) in results) { w.WritePropertyName(name); e.WriteTo(w); }
                            w.WriteEndObject();
                        }
                        a.Out.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
                    }
                    else a.Out.Write(EvaluationTable.Compare(results));
                    return CliApp.Success;
                }
                if (a.Positionals.Count > 0) throw new UserException($"unexpected argument '{a.Positionals[0]}' (result files go with --compare)");
                var path = a.String("predictions") ?? throw new UserException("eval needs --predictions FILE (or --compare A.json B.json ...)");
                var options = new EvaluationOptions
                {
                    Labels = a.String("labels") is { } l ? LabelSet.Parse(l) : null,
                    Positive = a.String("positive"),
                    By = a.String("by"),
                    Bootstrap = Bootstrap(a),
                };
                var report = PredictionEvaluator.Evaluate(PredictionReader.ReadFile(path), path, options);
                var json = EvaluationJson.Serialize(report);
                if (a.String("out") is { } outPath) AtomicFile.WriteAllBytes(outPath, json);
                a.Out.Write(a.Bool("json") ? Encoding.UTF8.GetString(json) : EvaluationTable.Format(report));
                return CliApp.Success;
            });

    private static CliCommand Baselines() =>
        new CliCommand("baselines", "Classical recommenders on the test records of a prepare movielens folder.")
        {
            Description =
                "Re-reads the MovieLens files named in DIR/summary.json (their sha256 must match), rebuilds the same timelines\n" +
                "and split, and scores the test records with: majority (train's majority label), user_history_mean (mean of\n" +
                "the record's history ratings >= t), item_mean (the candidate's mean train rating >= t; the train global mean\n" +
                "for unseen movies) and matrix_factorization (biased MF by seeded SGD, users not in train folded in from the\n" +
                "record's history, prediction >= t). Each t is chosen on train for accuracy (ties: smallest). The JSON has the\n" +
                "shape of eval's, one object per baseline, so 'eval --compare' can put them beside a model.",
        }
            .Option("prepared", "output folder of prepare movielens", "DIR", required: true)
            .Option("ratings", "the ratings file, when not at the path summary.json records", "FILE")
            .Option("movies", "the movies file, when not at the path summary.json records", "FILE")
            .Option("mf-factors", "matrix factorization: latent factors", "N", "32")
            .Option("mf-epochs", "matrix factorization: SGD passes over the train ratings", "N", "30")
            .Option("mf-lr", "matrix factorization: SGD step size", "X", "0.01")
            .Option("mf-reg", "matrix factorization: L2 penalty per rating", "X", "0.05")
            .Option("mf-init-std", "matrix factorization: std of the initial factors", "X", "0.1")
            .Option("mf-seed", "matrix factorization: seed of the initialization and shuffles", "N", "1")
            .Option("bootstrap", "bootstrap resamples for the intervals (0: none)", "N", "1000")
            .Option("seed", "seed of the bootstrap", "N", "0")
            .Flag("json", "print the results as JSON instead of a table")
            .Option("out", "also write the JSON results to this file (atomically)", "FILE")
            .Handle(a =>
            {
                var report = MovieLensBaselines.Run(a.RequiredString("prepared"), new BaselineOptions
                {
                    RatingsPath = a.String("ratings"),
                    MoviesPath = a.String("movies"),
                    MatrixFactorization = new MatrixFactorizationOptions
                    {
                        Factors = a.Int("mf-factors"),
                        Epochs = a.Int("mf-epochs"),
                        LearningRate = a.Double("mf-lr"),
                        Regularization = a.Double("mf-reg"),
                        InitStd = a.Double("mf-init-std"),
                        Seed = UInt(a, "mf-seed"),
                    },
                    Bootstrap = Bootstrap(a),
                });
                var json = report.ToJson();
                if (a.String("out") is { } outPath) AtomicFile.WriteAllBytes(outPath, json);
                if (a.Bool("json")) a.Out.Write(Encoding.UTF8.GetString(json));
                else
                {
                    a.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"baselines on {report.Prepared}: thresholds and majority from {report.TrainSamples:N0} train records, scored on {report.TestSamples:N0} test records\n"));
                    using var doc = JsonDocument.Parse(json);
                    a.Out.Write(EvaluationTable.Compare(doc.RootElement.EnumerateObject()
                        .Where(p => p.Value.ValueKind == JsonValueKind.Object).Select(p => KeyValuePair.Create(p.Name, p.Value.Clone())).ToList()));
                }
                return CliApp.Success;
            });

    private static BootstrapOptions Bootstrap(ParsedArgs a) => new(a.Int("bootstrap", 0), UInt(a, "seed"));

    private static ulong UInt(ParsedArgs a, string name)
    {
        var s = a.RequiredString(name);
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new UserException($"--{name}: expected a non-negative integer, got '{s}'");
    }
}
