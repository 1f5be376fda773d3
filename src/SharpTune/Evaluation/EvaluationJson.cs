using System.Text.Encodings.Web;
using System.Text.Json;

namespace SharpTune.Evaluation;

/// <summary>
/// The JSON form of results (docs/evaluation.md): <c>n</c>, <c>labels</c>, <c>positive</c>, <c>accuracy</c>,
/// <c>macro_f1</c>, <c>unparseable</c>, <c>unparseable_rate</c>, <c>unparseable_by_reason</c>, <c>per_class</c>
/// (label → precision, recall, f1, support), <c>confusion</c> (reference → predicted or unparseable → count), with
/// scores <c>roc_auc</c>, <c>log_loss</c>, <c>best_threshold</c>, <c>best_threshold_accuracy</c>, with the bootstrap
/// <c>intervals</c> (level, resamples, seed, accuracy [low, high], macro_f1 [low, high]), and <c>threshold</c> for
/// baselines that have one.
/// </summary>
public static class EvaluationJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A report (overall metrics, then <c>by</c> with one object per slice) as indented UTF-8 JSON with a final newline.</summary>
    public static byte[] Serialize(EvaluationReport report) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("predictions", report.Source);
        WriteFields(w, report.Overall);
        if (report.By is not null)
        {
            w.WriteStartObject("by");
            w.WriteString("field", report.By);
            w.WriteStartObject("slices");
            foreach (var s in report.Slices)
            {
                w.WriteStartObject(s.Value);
                WriteFields(w, s.Result);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    /// <summary>Named results (the baselines) as one object: name → result.</summary>
    public static byte[] Serialize(IReadOnlyList<KeyValuePair<string, ClassificationResult>> named, Action<Utf8JsonWriter>? header = null) => Build(w =>
    {
        w.WriteStartObject();
        header?.Invoke(w);
        foreach (var (name, result) in named)
        {
            w.WriteStartObject(name);
            WriteFields(w, result);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    /// <summary>One result as an object.</summary>
    public static byte[] Serialize(ClassificationResult result) => Build(w =>
    {
        w.WriteStartObject();
        WriteFields(w, result);
        w.WriteEndObject();
    });

    private static byte[] Build(Action<Utf8JsonWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Options)) write(w);
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }

    /// <summary>Writes a result's fields into the current object.</summary>
    public static void WriteFields(Utf8JsonWriter w, ClassificationResult r)
    {
        w.WriteNumber("n", r.N);
        w.WriteStartArray("labels");
        foreach (var l in r.Labels) w.WriteStringValue(l);
        w.WriteEndArray();
        if (r.Positive is null) w.WriteNull("positive"); else w.WriteString("positive", r.Positive);
        w.WriteNumber("accuracy", r.Accuracy);
        w.WriteNumber("macro_f1", r.MacroF1);
        w.WriteNumber("unparseable", r.Unparseable);
        w.WriteNumber("unparseable_rate", r.UnparseableRate);
        w.WriteStartObject("unparseable_by_reason");
        foreach (var (reason, count) in r.UnparseableByReason) w.WriteNumber(reason, count);
        w.WriteEndObject();
        w.WriteStartObject("per_class");
        foreach (var c in r.PerClass)
        {
            w.WriteStartObject(c.Label);
            w.WriteNumber("precision", c.Precision);
            w.WriteNumber("recall", c.Recall);
            w.WriteNumber("f1", c.F1);
            w.WriteNumber("support", c.Support);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("confusion");
        int k = r.Labels.Count;
        for (int i = 0; i < k; i++)
        {
            w.WriteStartObject(r.Labels[i]);
            for (int j = 0; j < k; j++) w.WriteNumber(r.Labels[j], r.Confusion[i, j]);
            w.WriteNumber("unparseable", r.Confusion[i, k]);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        if (r.Scores is { } s)
        {
            Nullable(w, "roc_auc", s.RocAuc);
            if (s.LogLoss is not null || s.BestThreshold is not null)
            {
                Nullable(w, "log_loss", s.LogLoss);
                Nullable(w, "best_threshold", s.BestThreshold);
                Nullable(w, "best_threshold_accuracy", s.BestThresholdAccuracy);
            }
        }
        if (r.AccuracyInterval is { } a && r.MacroF1Interval is { } f && r.Bootstrap is { } b)
        {
            w.WriteStartObject("intervals");
            w.WriteNumber("level", b.Level);
            w.WriteNumber("resamples", b.Resamples);
            w.WriteNumber("seed", b.Seed);
            w.WriteStartArray("accuracy");
            w.WriteNumberValue(a.Low);
            w.WriteNumberValue(a.High);
            w.WriteEndArray();
            w.WriteStartArray("macro_f1");
            w.WriteNumberValue(f.Low);
            w.WriteNumberValue(f.High);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        if (r.Threshold is { } t) w.WriteNumber("threshold", t);
    }

    private static void Nullable(Utf8JsonWriter w, string name, double? v)
    {
        if (v is { } x) w.WriteNumber(name, x); else w.WriteNull(name);
    }

    /// <summary>
    /// The results in a JSON file written by <c>eval</c> or <c>baselines</c>: a file with <c>accuracy</c> at the top is
    /// one result named after the file; otherwise each member holding an object with <c>accuracy</c> is one, named
    /// FILE.member (e.g. baselines.majority).
    /// </summary>
    public static List<KeyValuePair<string, JsonElement>> ReadResults(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new UserException($"{path}: malformed JSON at line {e.LineNumber + 1}; expected a result file of sharptune eval --json or baselines --json");
        }
        var root = doc.RootElement;
        var stem = Path.GetFileNameWithoutExtension(path);
        var results = new List<KeyValuePair<string, JsonElement>>();
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("accuracy", out _))
            results.Add(KeyValuePair.Create(stem, root.Clone()));
        else if (root.ValueKind == JsonValueKind.Object)
            foreach (var p in root.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("accuracy", out _))
                    results.Add(KeyValuePair.Create($"{stem}.{p.Name}", p.Value.Clone()));
        doc.Dispose();
        if (results.Count == 0)
            throw new UserException($"{path}: no result in it (expected \"accuracy\" at the top, or objects holding it, as eval --json and baselines --json write)");
        return results;
    }
}
