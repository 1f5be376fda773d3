using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SharpTune.Evaluation;

/// <summary>Plain-text tables of results for the terminal.</summary>
public static class EvaluationTable
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>A report: the overall metrics, per-class table, confusion matrix and the slices.</summary>
    public static string Format(EvaluationReport report)
    {
        var sb = new StringBuilder();
        var r = report.Overall;
        sb.Append(C, $"{report.Source}: {r.N:N0} records, labels {string.Join(", ", r.Labels)}");
        if (r.Positive is not null) sb.Append(C, $" (positive {r.Positive})");
        sb.Append('\n');
        if (report.ScoresIgnored > 0)
            sb.Append(C, $"note: {report.ScoresIgnored:N0} records have scores, not used: score metrics need two labels\n");
        sb.Append('\n').Append(Format(r));
        if (report.By is not null)
        {
            sb.Append(C, $"\nby {report.By}:\n");
            int w = Math.Max(report.By.Length, report.Slices.Count == 0 ? 5 : report.Slices.Max(s => Math.Min(s.Value.Length, 40)));
            bool auc = r.Scores?.RocAuc is not null;
            sb.Append(report.By.PadRight(w)).Append("        n  accuracy  macro F1  unparseable").Append(auc ? "  ROC AUC" : "").Append('\n');
            foreach (var s in report.Slices)
            {
                var v = s.Value.Length > 40 ? s.Value[..37] + "..." : s.Value;
                var x = s.Result;
                sb.Append(v.PadRight(w)).Append(C, $" {x.N,8:N0}  {x.Accuracy,8:0.0000}  {x.MacroF1,8:0.0000}  {x.UnparseableRate,11:0.00%}");
                if (auc) sb.Append(C, $"  {(x.Scores?.RocAuc is { } a ? a.ToString("0.0000", C) : "-"),7}");
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>One result: headline metrics, per class, confusion.</summary>
    public static string Format(ClassificationResult r)
    {
        var sb = new StringBuilder();
        string Ci(ConfidenceInterval? ci) => ci is null ? "" : string.Create(C, $"  [{ci.Low:0.0000}, {ci.High:0.0000}]");
        sb.Append(C, $"accuracy        {r.Accuracy:0.0000}{Ci(r.AccuracyInterval)}\n");
        sb.Append(C, $"macro F1        {r.MacroF1:0.0000}{Ci(r.MacroF1Interval)}\n");
        if (r.Bootstrap is { } b) sb.Append(C, $"                ({b.Level:0.##%} bootstrap intervals, {b.Resamples:N0} resamples, seed {b.Seed})\n");
        sb.Append(C, $"unparseable     {r.Unparseable:N0} ({r.UnparseableRate:0.00%})");
        if (r.UnparseableByReason.Count > 0)
            sb.Append(": ").Append(string.Join(", ", r.UnparseableByReason.Select(kv => string.Create(C, $"{kv.Key} {kv.Value:N0}"))));
        sb.Append('\n');
        if (r.Scores is { } s)
        {
            sb.Append(C, $"ROC AUC         {Num(s.RocAuc)}\n");
            if (s.LogLoss is not null) sb.Append(C, $"log loss        {Num(s.LogLoss)}\n");
            if (s.BestThreshold is { } t)
                sb.Append(C, $"best threshold  p >= {t:0.######} (accuracy {s.BestThresholdAccuracy:0.0000})\n");
        }
        if (r.Threshold is { } th) sb.Append(C, $"threshold       {th:0.######}\n");

        int w = Math.Max(11, r.Labels.Max(l => l.Length));
        sb.Append('\n').Append("class".PadRight(w)).Append("  precision     recall         f1    support\n");
        foreach (var c in r.PerClass)
            sb.Append(c.Label.PadRight(w)).Append(C, $"  {c.Precision,9:0.0000}  {c.Recall,9:0.0000}  {c.F1,9:0.0000}  {c.Support,9:N0}\n");

        sb.Append("\nconfusion (rows: reference, columns: answer)\n").Append("".PadRight(w));
        int k = r.Labels.Count;
        int cw = Math.Max(9, r.Labels.Max(l => l.Length));
        foreach (var l in r.Labels) sb.Append("  ").Append(l.PadLeft(cw));
        sb.Append("  unparseable\n");
        for (int i = 0; i < k; i++)
        {
            sb.Append(r.Labels[i].PadRight(w));
            for (int j = 0; j < k; j++) sb.Append("  ").Append(r.Confusion[i, j].ToString("N0", C).PadLeft(cw));
            sb.Append("  ").Append(r.Confusion[i, k].ToString("N0", C).PadLeft(11)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Several results side by side (eval --compare): one column each, one row a metric.</summary>
    public static string Compare(IReadOnlyList<KeyValuePair<string, JsonElement>> results)
    {
        var labels = new List<string>();
        foreach (var (_, e) in results)
            if (e.TryGetProperty("per_class", out var pc) && pc.ValueKind == JsonValueKind.Object)
                foreach (var p in pc.EnumerateObject())
                    if (!labels.Contains(p.Name)) labels.Add(p.Name);

        var rows = new List<(string Name, Func<JsonElement, string> Cell)>
        {
            ("n", e => Get(e, "n") is { } v ? v.ToString("N0", C) : "-"),
            ("accuracy", e => Fixed(Get(e, "accuracy"))),
            ("  95% interval", e => Interval(e, "accuracy")),
            ("macro F1", e => Fixed(Get(e, "macro_f1"))),
            ("  95% interval", e => Interval(e, "macro_f1")),
        };
        foreach (var l in labels)
            rows.Add(($"F1 {l}", e => e.TryGetProperty("per_class", out var pc) && pc.TryGetProperty(l, out var c) ? Fixed(Get(c, "f1")) : "-"));
        rows.Add(("unparseable", e => Get(e, "unparseable_rate") is { } v ? v.ToString("0.00%", C) : "-"));
        rows.Add(("ROC AUC", e => Fixed(Get(e, "roc_auc"))));
        rows.Add(("log loss", e => Fixed(Get(e, "log_loss"))));
        rows.Add(("best threshold", e => Fixed(Get(e, "best_threshold"))));
        rows.Add(("threshold", e => Fixed(Get(e, "threshold"))));
        // Rows that are empty in every column are left out (e.g. log loss when nothing was scored).
        rows = rows.Where(row => results.Any(r => row.Cell(r.Value) != "-")).ToList();

        var cells = rows.Select(row => results.Select(r => row.Cell(r.Value)).ToArray()).ToArray();
        int nameW = Math.Max(6, rows.Max(r => r.Name.Length));
        var widths = results.Select((r, j) => Math.Max(r.Key.Length, cells.Max(c => c[j].Length))).ToArray();
        var sb = new StringBuilder();
        sb.Append("metric".PadRight(nameW));
        for (int j = 0; j < results.Count; j++) sb.Append("  ").Append(results[j].Key.PadLeft(widths[j]));
        sb.Append('\n');
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append(rows[i].Name.PadRight(nameW));
            for (int j = 0; j < results.Count; j++) sb.Append("  ").Append(cells[i][j].PadLeft(widths[j]));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static double? Get(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string Fixed(double? v) => v is { } x ? x.ToString("0.0000", C) : "-";

    private static string Num(double? v) => v is { } x ? x.ToString("0.0000", C) : "undefined (one class only)";

    private static string Interval(JsonElement e, string name) =>
        e.TryGetProperty("intervals", out var i) && i.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() == 2
            ? string.Create(C, $"[{a[0].GetDouble():0.0000}, {a[1].GetDouble():0.0000}]")
            : "-";
}
