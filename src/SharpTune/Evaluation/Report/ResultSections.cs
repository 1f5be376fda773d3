using System.Text.Json;
using SharpTune.Evaluation.Sanity;

namespace SharpTune.Evaluation.Report;

/// <summary>The report's results section (confusion matrix, metrics with intervals, the model beside each baseline) and behaviours section (checkpoints × checks, the best checkpoint, a few replies).</summary>
internal static class ResultSections
{
    /// <summary>Replies shown per check group.</summary>
    public const int RepliesPerGroup = 2;

    public static ReportSection Results(ReportInputs inputs)
    {
        var blocks = new List<ReportBlock>();
        var commands = new List<string>();
        JsonElement? model = null;
        if (inputs.Eval.Found is { } evalPath)
        {
            var e = ReportJson.Read(evalPath);
            if (ReportJson.Number(e, "accuracy") is null) throw new UserException($"{evalPath}: no \"accuracy\" at the top; expected a result of sharptune eval --json");
            model = e;
            commands.Add($"sharptune eval --predictions {ReportJson.Text(e, "predictions") ?? "PREDICTIONS"} --json --out {evalPath}");
            blocks.Add(Confusion(e, evalPath));
            blocks.Add(Metrics(e, evalPath));
            if (e.TryGetProperty("per_class", out var pc) && pc.ValueKind == JsonValueKind.Object)
                blocks.Add(new TableBlock("Per class", ["label", "precision", "recall", "F1", "support"],
                    pc.EnumerateObject().Select(c => (IReadOnlyList<string>)[c.Name, F(c.Value, "precision"), F(c.Value, "recall"), F(c.Value, "f1"), ReportJson.Format(ReportJson.Number(c.Value, "support"), "0")]).ToList()));
        }
        else blocks.Add(new MissingBlock(inputs.Eval.MissingText + " Run sharptune infer on the test split, then sharptune eval --json --out FILE."));

        var named = new List<(string Name, JsonElement Result, bool IsModel)>();
        if (model is { } m) named.Add(("model", m, true));
        if (inputs.Baselines.Found is { } basePath)
        {
            var b = ReportJson.Read(basePath);
            commands.Add($"sharptune baselines --prepared {ReportJson.Text(b, "prepared") ?? "DIR"} --json --out {basePath}");
            if (b.ValueKind == JsonValueKind.Object)
                foreach (var p in b.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.Object && ReportJson.Number(p.Value, "accuracy") is not null) named.Add((p.Name, p.Value, false));
            if (named.All(n => n.IsModel)) throw new UserException($"{basePath}: no baseline result in it (expected objects holding \"accuracy\", as baselines --json writes)");
        }
        else blocks.Add(new MissingBlock(inputs.Baselines.MissingText + " Run sharptune baselines --prepared DIR --json --out FILE."));

        if (named.Count > 0)
        {
            blocks.Add(new TableBlock("The model beside each baseline", ["result", "n", "accuracy", "accuracy interval", "macro F1", "macro F1 interval", "unparseable rate"],
                named.Select(n => (IReadOnlyList<string>)[n.Name, F(n.Result, "n", "0"), F(n.Result, "accuracy"), Iv(n.Result, "accuracy"), F(n.Result, "macro_f1"), Iv(n.Result, "macro_f1"), F(n.Result, "unparseable_rate")]).ToList()));
            blocks.Add(new ChartBlock("results_accuracy", "accuracy with intervals", ReportSvg.Intervals(
                named.Select(n => new ReportSvg.IntervalPoint(n.Name, ReportJson.Number(n.Result, "accuracy")!.Value, ReportJson.Interval(n.Result, "accuracy")?.Low, ReportJson.Interval(n.Result, "accuracy")?.High, n.IsModel)).ToList(),
                "accuracy", "accuracy: the model and the baselines")));
            if (named.Any(n => ReportJson.Interval(n.Result, "accuracy") is null))
                blocks.Add(new TextBlock("Results without an interval were evaluated without --bootstrap; they are drawn as a dot only."));
        }
        return new ReportSection("results", "Results", commands, blocks);
    }

    private static TableBlock Confusion(JsonElement e, string path)
    {
        if (!e.TryGetProperty("confusion", out var c) || c.ValueKind != JsonValueKind.Object)
            throw new UserException($"{path}: no \"confusion\" object; expected a result of sharptune eval --json");
        var refs = c.EnumerateObject().ToList();
        var predicted = refs.Count == 0 ? [] : refs[0].Value.EnumerateObject().Select(p => p.Name).ToList();
        double max = refs.SelectMany(r => r.Value.EnumerateObject()).Select(p => p.Value.GetDouble()).DefaultIfEmpty(0).Max();
        var rows = new List<IReadOnlyList<string>>();
        var shade = new List<IReadOnlyList<double?>>();
        foreach (var r in refs)
        {
            var row = new List<string> { r.Name };
            var sh = new List<double?> { null };
            foreach (var p in predicted)
            {
                double v = r.Value.TryGetProperty(p, out var x) ? x.GetDouble() : 0;
                row.Add(ReportJson.Format(v, "0"));
                sh.Add(max > 0 ? v / max : 0);
            }
            rows.Add(row);
            shade.Add(sh);
        }
        return new TableBlock("Confusion matrix (rows: reference, columns: predicted; unparseable replies in their own column)",
            ["reference \\ predicted", .. predicted], rows, shade);
    }

    private static TableBlock Metrics(JsonElement e, string path)
    {
        List<IReadOnlyList<string>> rows =
        [
            ["n", F(e, "n", "0"), ""],
            ["accuracy", F(e, "accuracy"), Iv(e, "accuracy")],
            ["macro F1", F(e, "macro_f1"), Iv(e, "macro_f1")],
            ["unparseable", $"{F(e, "unparseable", "0")} ({F(e, "unparseable_rate")})", ""],
        ];
        foreach (var k in new[] { "roc_auc", "log_loss", "best_threshold", "best_threshold_accuracy" })
            if (e.TryGetProperty(k, out _)) rows.Add([k, F(e, k), ""]);
        string level = e.TryGetProperty("intervals", out var iv) ? $"{ReportJson.Format(ReportJson.Number(iv, "level") * 100, "0")}% bootstrap interval ({ReportJson.Format(ReportJson.Number(iv, "resamples"), "0")} resamples)" : "interval (none: evaluated without --bootstrap)";
        return new TableBlock($"Metrics ({path})", ["metric", "value", level], rows);
    }

    public static ReportSection Behaviours(ReportInputs inputs)
    {
        if (inputs.Sanity.Found is not { } dir)
            return new ReportSection("behaviours", "Behaviours", [], [new MissingBlock(inputs.Sanity.MissingText + " Run sharptune sanity --run RUN_DIR --rules RULES.yaml.")]);
        var summaryPath = Path.Combine(dir, SanityReport.SummaryFile);
        var s = ReportJson.Read(summaryPath);
        var blocks = new List<ReportBlock>();
        var groups = s.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Array ? g.EnumerateArray().ToList() : [];
        var checkpoints = s.TryGetProperty("checkpoints", out var c) && c.ValueKind == JsonValueKind.Array ? c.EnumerateArray().ToList() : [];
        if (checkpoints.Count == 0) throw new UserException($"{summaryPath}: no \"checkpoints\" array; expected sanity_summary.json as sharptune sanity writes it");
        string best = s.TryGetProperty("best", out var b) ? ReportJson.Text(b, "name") ?? "" : "";
        var header = new List<string> { "checkpoint", "step", "eval_loss" };
        header.AddRange(groups.Select(x => ReportJson.Number(x, "weight") is double w && w != 1 ? $"{ReportJson.Text(x, "name")} (×{ReportJson.Format(w, "0.###")})" : ReportJson.Text(x, "name") ?? "?"));
        header.Add("total");
        var rows = new List<IReadOnlyList<string>>();
        var shade = new List<IReadOnlyList<double?>>();
        foreach (var cp in checkpoints)
        {
            string name = ReportJson.Text(cp, "name") ?? "?";
            var row = new List<string> { name == best ? name + " (best)" : name, F(cp, "step", "0"), F(cp, "eval_loss") };
            var sh = new List<double?> { null, null, null };
            foreach (var grp in groups)
            {
                double? rate = cp.TryGetProperty("pass_rates", out var pr) ? ReportJson.Number(pr, ReportJson.Text(grp, "name") ?? "") : null;
                row.Add(ReportJson.Format(rate * 100, "0.0") + "%");
                sh.Add(rate);
            }
            double? total = ReportJson.Number(cp, "total");
            row.Add(ReportJson.Format(total * 100, "0.0") + "%");
            sh.Add(total);
            rows.Add(row);
            shade.Add(sh);
        }
        blocks.Add(new TableBlock("Checkpoints × checks (pass rate per group, weighted total)", header, rows, shade));
        var bestFile = Path.Combine(dir, SanityReport.BestFile);
        blocks.Add(File.Exists(bestFile)
            ? new TextBlock($"Best checkpoint: {File.ReadAllText(bestFile).Trim()} (total {F(b, "total")}).")
            : new MissingBlock($"No {bestFile}."));

        var repliesPath = Path.Combine(dir, SanityReport.RepliesFile);
        if (File.Exists(repliesPath))
        {
            var replies = new List<IReadOnlyList<string>>();
            var perGroup = new Dictionary<string, int>();
            int lineNo = 0;
            foreach (var line in File.ReadLines(repliesPath))
            {
                lineNo++;
                if (line.Length == 0) continue;
                JsonElement r;
                try { using var doc = JsonDocument.Parse(line); r = doc.RootElement.Clone(); }
                catch (JsonException ex) { throw new UserException($"{repliesPath}:{lineNo}: malformed JSON: {ex.Message}", ex); }
                if (ReportJson.Text(r, "checkpoint") != best) continue;
                string group = ReportJson.Text(r, "group") ?? "?";
                if (perGroup.GetValueOrDefault(group) >= RepliesPerGroup) continue;
                perGroup[group] = perGroup.GetValueOrDefault(group) + 1;
                bool passed = r.TryGetProperty("passed", out var p) && p.ValueKind == JsonValueKind.True;
                string failed = r.TryGetProperty("failed_checks", out var fc) && fc.ValueKind == JsonValueKind.Array ? string.Join(", ", fc.EnumerateArray().Select(ReportJson.Cell)) : "";
                replies.Add([group, ReportJson.Text(r, "prompt") ?? "", ReportJson.Text(r, "reply") ?? "", passed ? "pass" : "fail: " + failed]);
            }
            blocks.Add(new TableBlock($"Replies of {best}", ["group", "prompt", "reply", "result"], replies));
        }
        else blocks.Add(new MissingBlock($"No {repliesPath}: replies not shown."));
        return new ReportSection("behaviours", "Behaviours", [$"sharptune sanity --rules {ReportJson.Text(s, "rules") ?? "RULES.yaml"} (output in {dir})"], blocks);
    }

    private static string F(JsonElement o, string name, string format = "0.0000") => ReportJson.Format(ReportJson.Number(o, name), format);

    private static string Iv(JsonElement o, string metric) => ReportJson.Interval(o, metric) is { } i ? $"[{ReportJson.Format(i.Low)}, {ReportJson.Format(i.High)}]" : "–";
}
