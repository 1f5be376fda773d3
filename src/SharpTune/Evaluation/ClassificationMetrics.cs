namespace SharpTune.Evaluation;

/// <summary>What kind of number a per-record score is.</summary>
public enum ScoreKind
{
    /// <summary>The positive label's probability: ROC AUC, log loss and the best threshold are computed.</summary>
    Probability,

    /// <summary>Any statistic ordered like the positive label's likelihood: only ROC AUC is computed.</summary>
    Statistic,
}

/// <summary>
/// Classification metrics with scikit-learn's definitions (the test oracle): accuracy, per-class precision, recall,
/// F1 and support, macro F1, the confusion matrix with an unparseable column, and from scores ROC AUC, log loss and
/// the best-accuracy threshold; seeded percentile-bootstrap intervals of accuracy and macro F1.
/// Classes are coded by their index in the label set; <see cref="Unparseable"/> codes an answer that is no label:
/// it is wrong, and belongs to no predicted class (it lowers recall, never precision).
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>The code of an unparseable answer.</summary>
    public const int Unparseable = -1;

    /// <summary>Machine epsilon of double: probabilities are clipped to [ε, 1 − ε] in the log loss, as scikit-learn does.</summary>
    public const double LogLossEpsilon = 2.220446049250313e-16;

    /// <summary>Computes every metric.</summary>
    /// <param name="labels">The label set.</param>
    /// <param name="references">Reference class of each record (0..K-1).</param>
    /// <param name="predictions">Predicted class of each record, or <see cref="Unparseable"/>.</param>
    /// <param name="scores">One score per record for <paramref name="positive"/> (binary label sets), or null.</param>
    /// <param name="scoreKind">What the scores are.</param>
    /// <param name="positive">Index of the positive label (needed with scores).</param>
    /// <param name="bootstrap">Interval settings, or null for none.</param>
    /// <param name="unparseableByReason">Unparseable counts by reason key, for the report.</param>
    /// <param name="threshold">The predictor's own threshold, for the report.</param>
    public static ClassificationResult Compute(LabelSet labels, ReadOnlySpan<int> references, ReadOnlySpan<int> predictions,
        double[]? scores = null, ScoreKind scoreKind = ScoreKind.Probability, int positive = 0, BootstrapOptions? bootstrap = null,
        IReadOnlyList<KeyValuePair<string, long>>? unparseableByReason = null, double? threshold = null)
    {
        int n = references.Length, k = labels.Count;
        if (predictions.Length != n) throw new ArgumentException("references and predictions differ in length");
        if (scores is not null && scores.Length != n) throw new ArgumentException("references and scores differ in length");
        if (scores is not null && k != 2) throw new ArgumentException("score metrics need a binary label set");
        var confusion = Confusion(references, predictions, k);
        var perClass = PerClass(labels, confusion);
        long unparseable = 0;
        for (int r = 0; r < k; r++) unparseable += confusion[r, k];

        ConfidenceInterval? accCi = null, f1Ci = null;
        if (bootstrap is { Resamples: > 0 } && n > 0)
        {
            var (acc, f1) = BootstrapReplicates(references, predictions, k, bootstrap);
            accCi = Percentiles(acc, bootstrap.Level);
            f1Ci = Percentiles(f1, bootstrap.Level);
        }
        ScoreMetrics? scoreMetrics = null;
        if (scores is not null)
        {
            var isPositive = new bool[n];
            for (int i = 0; i < n; i++) isPositive[i] = references[i] == positive;
            double? auc = RocAuc(scores, isPositive);
            if (scoreKind == ScoreKind.Probability)
            {
                var (t, tAcc) = ThresholdSelector.Best(scores, isPositive);
                scoreMetrics = new ScoreMetrics(auc, LogLoss(scores, isPositive), n > 0 ? t : null, n > 0 ? tAcc : null);
            }
            else scoreMetrics = new ScoreMetrics(auc, null, null, null);
        }
        return new ClassificationResult
        {
            N = n,
            Labels = labels.Labels,
            Positive = scores is not null || k == 2 ? labels[positive] : null,
            Accuracy = Accuracy(confusion, n),
            MacroF1 = MacroF1(perClass),
            Unparseable = unparseable,
            UnparseableByReason = unparseableByReason ?? [],
            PerClass = perClass,
            Confusion = confusion,
            Scores = scoreMetrics,
            AccuracyInterval = accCi,
            MacroF1Interval = f1Ci,
            Bootstrap = accCi is null ? null : bootstrap,
            Threshold = threshold,
        };
    }

    /// <summary>[reference, predicted] counts, K × (K + 1), the last column unparseable.</summary>
    public static long[,] Confusion(ReadOnlySpan<int> references, ReadOnlySpan<int> predictions, int k)
    {
        var m = new long[k, k + 1];
        for (int i = 0; i < references.Length; i++)
            m[references[i], predictions[i] == Unparseable ? k : predictions[i]]++;
        return m;
    }

    /// <summary>Per-class precision, recall, F1 and support from a confusion matrix.</summary>
    public static ClassMetrics[] PerClass(LabelSet labels, long[,] confusion)
    {
        int k = labels.Count;
        var result = new ClassMetrics[k];
        for (int c = 0; c < k; c++)
        {
            long tp = confusion[c, c], predicted = 0, support = 0;
            for (int r = 0; r < k; r++) predicted += confusion[r, c];
            for (int p = 0; p <= k; p++) support += confusion[c, p];
            double precision = predicted == 0 ? 0 : (double)tp / predicted;
            double recall = support == 0 ? 0 : (double)tp / support;
            double denom = precision + recall;
            double f1 = denom == 0 ? 0 : 2 * precision * recall / denom;
            result[c] = new ClassMetrics(labels[c], precision, recall, f1, support);
        }
        return result;
    }

    private static double Accuracy(long[,] confusion, long n)
    {
        if (n == 0) return 0;
        long right = 0;
        for (int c = 0; c < confusion.GetLength(0); c++) right += confusion[c, c];
        return (double)right / n;
    }

    private static double MacroF1(IReadOnlyList<ClassMetrics> perClass)
    {
        double sum = 0;
        foreach (var c in perClass) sum += c.F1;
        return sum / perClass.Count;
    }

    /// <summary>
    /// ROC AUC as the Mann–Whitney statistic with average ranks for ties (equal to the trapezoidal area under the ROC
    /// curve, scikit-learn's roc_auc_score); null when one class is absent.
    /// </summary>
    public static double? RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> isPositive)
    {
        int n = scores.Length;
        long nPos = 0;
        foreach (var b in isPositive) if (b) nPos++;
        long nNeg = n - nPos;
        if (nPos == 0 || nNeg == 0) return null;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order);
        double rankSumPos = 0; // sum of 1-based average ranks of the positives; half-integers, exact in double
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && keys[j + 1] == keys[i]) j++;
            double rank = (i + j + 2) / 2.0;
            for (int t = i; t <= j; t++) if (isPositive[order[t]]) rankSumPos += rank;
            i = j + 1;
        }
        return (rankSumPos - nPos * (nPos + 1) / 2.0) / ((double)nPos * nNeg);
    }

    /// <summary>Mean of −log p (positive references) or −log(1 − p) (negative ones), p clipped to [ε, 1 − ε].</summary>
    public static double LogLoss(ReadOnlySpan<double> p, ReadOnlySpan<bool> isPositive)
    {
        if (p.Length == 0) return 0;
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double q = Math.Clamp(p[i], LogLossEpsilon, 1 - LogLossEpsilon);
            sum -= isPositive[i] ? Math.Log(q) : Math.Log(1 - q);
        }
        return sum / p.Length;
    }

    /// <summary>
    /// The accuracy and macro F1 of each bootstrap resample: <c>Resamples</c> times, n record indices drawn uniformly
    /// with replacement by SplitMix64(seed), in order.
    /// </summary>
    public static (double[] Accuracy, double[] MacroF1) BootstrapReplicates(ReadOnlySpan<int> references, ReadOnlySpan<int> predictions, int k, BootstrapOptions options)
    {
        int n = references.Length;
        var rng = new Numerics.SplitMix64(options.Seed);
        var acc = new double[options.Resamples];
        var f1 = new double[options.Resamples];
        var tp = new long[k];
        var predicted = new long[k];
        var support = new long[k];
        for (int b = 0; b < options.Resamples; b++)
        {
            Array.Clear(tp);
            Array.Clear(predicted);
            Array.Clear(support);
            long right = 0;
            for (int d = 0; d < n; d++)
            {
                int i = rng.Next(n), r = references[i], p = predictions[i];
                support[r]++;
                if (p == Unparseable) continue;
                predicted[p]++;
                if (p == r) { tp[r]++; right++; }
            }
            acc[b] = (double)right / n;
            double sum = 0;
            for (int c = 0; c < k; c++)
            {
                double precision = predicted[c] == 0 ? 0 : (double)tp[c] / predicted[c];
                double recall = support[c] == 0 ? 0 : (double)tp[c] / support[c];
                double denom = precision + recall;
                sum += denom == 0 ? 0 : 2 * precision * recall / denom;
            }
            f1[b] = sum / k;
        }
        return (acc, f1);
    }

    /// <summary>The central <paramref name="level"/> interval of <paramref name="values"/>: percentiles with linear interpolation (numpy's default).</summary>
    public static ConfidenceInterval Percentiles(double[] values, double level)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return new ConfidenceInterval(Percentile(sorted, (1 - level) / 2), Percentile(sorted, (1 + level) / 2));
    }

    private static double Percentile(double[] sorted, double q)
    {
        double pos = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        double frac = pos - lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }
}
