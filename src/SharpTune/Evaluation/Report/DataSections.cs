using System.Globalization;
using System.Text.Json;
using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Evaluation.Report;

/// <summary>The report's data and masking sections: splits and label balance, the token-length histogram, two masked samples.</summary>
internal static class DataSections
{
    /// <summary>How many samples the masking section shows.</summary>
    public const int MaskingSamples = 2;

    public static ReportSection Data(ReportInputs inputs, Preprocessed? pre, string? preMissing)
    {
        var blocks = new List<ReportBlock>();
        var commands = new List<string>();
        if (inputs.Prepared.Found is { } summaryPath)
        {
            var s = ReportJson.Read(summaryPath);
            var dir = Path.GetDirectoryName(summaryPath)!;
            var flags = s.TryGetProperty("inputs", out var inputsJson) && inputsJson.ValueKind == JsonValueKind.Object
                ? string.Concat(inputsJson.EnumerateObject().Select(i => $" --{i.Name} {ReportJson.Text(i.Value, "path")}")) : "";
            commands.Add($"sharptune prepare movielens{flags} --out {dir}");
            if (s.TryGetProperty("splits", out var splits) && splits.ValueKind == JsonValueKind.Object)
            {
                var rows = new List<IReadOnlyList<string>>();
                foreach (var sp in splits.EnumerateObject())
                {
                    double n = ReportJson.Number(sp.Value, "samples") ?? 0, yes = ReportJson.Number(sp.Value, "yes") ?? 0, no = ReportJson.Number(sp.Value, "no") ?? 0;
                    rows.Add([sp.Name, ReportJson.Text(sp.Value, "file") ?? "–", Int(n), Int(yes), Int(no), n > 0 ? Pct(yes / n) : "–"]);
                }
                blocks.Add(new TableBlock($"Splits and label balance ({summaryPath})", ["split", "file", "samples", "Yes", "No", "Yes share"], rows));
            }
            else blocks.Add(new MissingBlock($"{summaryPath}: no \"splits\" object; splits not shown."));
            if (s.TryGetProperty("users", out var users))
                blocks.Add(new TextBlock($"Users: {ReportJson.Cell(users.GetProperty("total"))} total, {ReportJson.Cell(users.GetProperty("kept"))} kept; ratings accepted: {(s.TryGetProperty("ratings_accepted", out var ra) ? ReportJson.Cell(ra) : "–")}."));
        }
        else blocks.Add(new MissingBlock(inputs.Prepared.MissingText));

        if (pre is null) blocks.Add(new MissingBlock("No token-length histogram: " + preMissing));
        else
        {
            commands.Add($"sharptune stats --data {pre.DataPath} --tokenizer {pre.TokenizerDir} --cutoff-len {pre.Options.CutoffLen}");
            var st = LengthStatistics.Compute(pre.Lengths, pre.Options.CutoffLen);
            blocks.Add(new ChartBlock("token_lengths", "token lengths",
                ReportSvg.LengthHistogram(ReportSvg.Histogram(pre.Lengths, pre.Options.CutoffLen), pre.Options.CutoffLen, $"token lengths of {pre.Lengths.Count} samples")));
            blocks.Add(new TableBlock("Token lengths (full training render, before truncation)",
                ["samples", "min", "mean", "p50", "p90", "p99", "max", "cutoff_len", "over cutoff_len"],
                [[Int(st.Count), Int(st.Min), st.Mean.ToString("0.0", CultureInfo.InvariantCulture), Int(st.P50), Int(st.P90), Int(st.P99), Int(st.Max),
                  Int(pre.Options.CutoffLen), $"{st.OverCutoff} ({Pct(st.OverCutoff / (double)st.Count)})"]]));
            if (pre.Empty > 0) blocks.Add(new TextBlock($"{pre.Empty} record(s) produced no sample and are left out of the histogram."));
        }
        return new ReportSection("data", "Data", commands, blocks);
    }

    public static ReportSection Masking(Preprocessed? pre, string? preMissing)
    {
        if (pre is null) return new ReportSection("masking", "Masking", [], [new MissingBlock("No masking samples: " + preMissing)]);
        var blocks = new List<ReportBlock>
        {
            new TextBlock("Supervised tokens (those with a label; the loss is computed on them only) are highlighted; everything else is masked (label -100)."),
        };
        var p = new SftPreprocessor(pre.Stack.Renderer, pre.Stack.Tokenizer, pre.Options);
        int shown = 0;
        for (int i = 0; i < pre.Records.Count && shown < MaskingSamples; i++)
        {
            var s = p.ProcessOne(pre.Records[i]);
            if (s.Ids.Length == 0) continue;
            var inspection = MaskingInspector.Inspect(pre.Records[i], s.Ids, s.Labels, pre.Stack.Tokenizer, pre.Options);
            string events = s.Events.Count == 0 ? "" : " (" + string.Join("; ", s.Events.Select(e => e.Detail)) + ")";
            blocks.Add(new MaskedSampleBlock($"sample {i} ({pre.Records[i].Source}): {inspection.Masked} masked, {inspection.Supervised} supervised tokens{events}",
                Spans(s.Ids, s.Labels, pre.Stack.Tokenizer), inspection.SupervisedText, inspection.Problem));
            shown++;
        }
        if (shown == 0) blocks.Add(new MissingBlock($"{pre.DataPath}: no record produced a sample."));
        return new ReportSection("masking", "Masking",
            [$"sharptune inspect-masking --data {pre.DataPath} --tokenizer {pre.TokenizerDir} --cutoff-len {pre.Options.CutoffLen}"], blocks);
    }

    // Runs of masked / supervised tokens, each decoded as a whole (a multi-byte character split over tokens stays whole).
    private static List<TokenSpan> Spans(int[] ids, int[] labels, ITextTokenizer tokenizer)
    {
        var spans = new List<TokenSpan>();
        for (int t = 0; t < ids.Length;)
        {
            bool sup = labels[t] != LabelMasker.IgnoreIndex;
            int start = t;
            while (t < ids.Length && labels[t] != LabelMasker.IgnoreIndex == sup) t++;
            spans.Add(new TokenSpan(tokenizer.Decode(ids.AsSpan(start, t - start), skipSpecialTokens: false), sup));
        }
        return spans;
    }

    private static string Int(double v) => v.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Pct(double f) => (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}

/// <summary>The training data as the run processed it: records, the tokenizer stack, the options, and each record's untruncated length.</summary>
internal sealed record Preprocessed(string DataPath, string TokenizerDir, IReadOnlyList<SftRecord> Records, TextStack Stack, PreprocessOptions Options, IReadOnlyList<int> Lengths, int Empty)
{
    /// <summary>Loads the data and tokenizer the inputs name, with the run's prompt settings and the cutoff.</summary>
    public static Preprocessed Load(string dataPath, string tokenizerDir, PreprocessOptions options, DatasetDescription? description = null)
    {
        var stack = TextStack.Open(tokenizerDir, options.Prompt);
        options = options with { Prompt = options.Prompt with { TemplateSource = stack.Template.Source } };
        var records = SftDatasetReader.Read(dataPath, description);
        // As `stats`: measure the untruncated render; the cutoff only classifies.
        var measure = new SftPreprocessor(stack.Renderer, stack.Tokenizer, options with { CutoffLen = int.MaxValue, Truncation = TruncationMode.Left });
        var lengths = new int[records.Count];
        Parallel.For(0, records.Count, i => lengths[i] = measure.ProcessOne(records[i]).Ids.Length);
        var kept = lengths.Where(l => l > 0).ToList();
        return new Preprocessed(dataPath, tokenizerDir, records, stack, options, kept, lengths.Length - kept.Count);
    }
}
