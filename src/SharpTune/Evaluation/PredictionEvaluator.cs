using System.Globalization;

namespace SharpTune.Evaluation;

/// <summary>Options of <c>sharptune eval</c>.</summary>
public sealed record EvaluationOptions
{
    /// <summary>The label set; null to use the distinct reference labels, sorted ordinally.</summary>
    public LabelSet? Labels { get; init; }

    /// <summary>The positive label for score metrics; null for Yes when it is a label, else the first label.</summary>
    public string? Positive { get; init; }

    /// <summary>A field to slice by (a known field such as finish_reason, or an id field such as user_id), or null.</summary>
    public string? By { get; init; }

    /// <summary>Bootstrap settings (Resamples 0: no intervals).</summary>
    public BootstrapOptions Bootstrap { get; init; } = new();
}

/// <summary>
/// Turns predictions (<see cref="PredictionRecord"/>) into metrics: checks that every record has a reference label in
/// the label set, takes its <c>answer</c> (a label or null) or extracts one from <c>output</c> with
/// <see cref="AnswerExtractor"/> when the line has no <c>answer</c>, and takes <c>p</c> (or the softmax of
/// <c>scores</c>) as the positive label's probability when every record has one.
/// </summary>
public static class PredictionEvaluator
{
    /// <summary>Evaluates the records of <paramref name="source"/> (its name is used in errors).</summary>
    public static EvaluationReport Evaluate(IReadOnlyList<PredictionLine> lines, string source, EvaluationOptions options)
    {
        if (lines.Count == 0) throw new UserException($"{source}: no predictions (the file has no records)");
        if (lines.All(l => l.Record.Label is null))
            throw new UserException($"{source}: no record has a \"label\" (the reference answer); eval needs predictions of labelled records");
        foreach (var l in lines)
            if (l.Record.Label is null)
                throw new UserException($"{source}:{l.Line}: no \"label\" (the reference answer); every record needs one");

        var labels = options.Labels ?? new LabelSet(
            lines.Select(l => l.Record.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal),
            $"{source}: the reference labels (give the label set with --labels)");
        int positive = options.Positive is { } pos
            ? labels.IndexOf(pos) is var pi and >= 0 ? pi : throw new UserException($"--positive: '{pos}' is not one of the labels {labels}")
            : Math.Max(0, labels.IndexOf("Yes"));

        int n = lines.Count;
        var references = new int[n];
        var predictions = new int[n];
        var reasons = new UnparseableReason[n];
        var extractor = new AnswerExtractor(labels);
        for (int i = 0; i < n; i++)
        {
            var (line, r) = lines[i];
            references[i] = labels.IndexOf(r.Label!);
            if (references[i] < 0)
                throw new UserException($"{source}:{line}: label '{r.Label}' is not one of the labels {labels}");
            string? answer;
            if (r.HasAnswer)
            {
                answer = r.Answer;
                if (answer is null) reasons[i] = UnparseableReason.NullAnswer;
                else if (labels.IndexOf(answer) < 0)
                    throw new UserException($"{source}:{line}: answer '{answer}' is not one of the labels {labels} (null marks an unparseable answer)");
            }
            else if (r.Output is not null)
            {
                var x = extractor.Extract(r.Output);
                answer = x.Answer;
                reasons[i] = x.Reason;
            }
            else throw new UserException($"{source}:{line}: neither \"answer\" nor \"output\"; expected a prediction with one of them");
            predictions[i] = answer is null ? ClassificationMetrics.Unparseable : labels.IndexOf(answer);
        }

        double[]? p = null;
        long ignored = 0;
        int withScore = lines.Count(l => l.Record.P is not null || l.Record.Scores is not null);
        if (withScore > 0 && labels.Count != 2) ignored = withScore;
        else if (withScore > 0)
        {
            p = new double[n];
            for (int i = 0; i < n; i++)
                p[i] = Probability(lines[i], labels, positive, source);
        }

        ClassificationResult Compute(int[] idx) => ClassificationMetrics.Compute(labels,
            idx.Select(i => references[i]).ToArray(), idx.Select(i => predictions[i]).ToArray(),
            p is null ? null : idx.Select(i => p[i]).ToArray(), ScoreKind.Probability, positive, options.Bootstrap,
            Reasons(idx.Select(i => reasons[i])));

        var all = Enumerable.Range(0, n).ToArray();
        var slices = new List<EvaluationSlice>();
        if (options.By is { } by)
        {
            var groups = all.GroupBy(i => lines[i].Record.FieldText(by) ?? "(missing)").ToList();
            bool numeric = groups.All(g => double.TryParse(g.Key, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            var ordered = numeric
                ? groups.OrderBy(g => double.Parse(g.Key, CultureInfo.InvariantCulture)).ThenBy(g => g.Key, StringComparer.Ordinal)
                : groups.OrderBy(g => g.Key, StringComparer.Ordinal);
            foreach (var g in ordered) slices.Add(new EvaluationSlice(g.Key, Compute(g.ToArray())));
        }
        return new EvaluationReport { Source = source, Overall = Compute(all), By = options.By, Slices = slices, ScoresIgnored = ignored };
    }

    // p when given; else the softmax of the label scores at the positive label.
    private static double Probability(PredictionLine line, LabelSet labels, int positive, string source)
    {
        var r = line.Record;
        if (r.P is { } p) return p;
        if (r.Scores is null)
            throw new UserException($"{source}:{line.Line}: no \"p\" or \"scores\" while other records have them; score every record or none");
        var s = new double[labels.Count];
        for (int c = 0; c < labels.Count; c++)
        {
            int at = -1;
            for (int j = 0; j < r.Scores.Count; j++) if (r.Scores[j].Key == labels[c]) at = j;
            if (at < 0) throw new UserException($"{source}:{line.Line}: \"scores\" has no '{labels[c]}'; expected a log-probability for every label of {labels}");
            s[c] = r.Scores[at].Value;
        }
        double max = s.Max(), sum = 0;
        foreach (var v in s) sum += Math.Exp(v - max);
        return Math.Exp(s[positive] - max) / sum;
    }

    private static List<KeyValuePair<string, long>> Reasons(IEnumerable<UnparseableReason> reasons) =>
        reasons.Where(r => r != UnparseableReason.None).GroupBy(r => r).OrderBy(g => g.Key)
            .Select(g => KeyValuePair.Create(AnswerExtraction.Key(g.Key), (long)g.Count())).ToList();
}
