using SharpTune.Data.MovieLens;

namespace SharpTune.Evaluation.Baselines;

/// <summary>Options of <c>sharptune baselines</c>.</summary>
public sealed record BaselineOptions
{
    /// <summary>The ratings file, when not where summary.json says.</summary>
    public string? RatingsPath { get; init; }

    /// <summary>The movies file, when not where summary.json says.</summary>
    public string? MoviesPath { get; init; }

    /// <summary>Matrix factorization hyper-parameters.</summary>
    public MatrixFactorizationOptions MatrixFactorization { get; init; } = new();

    /// <summary>Bootstrap intervals, as in eval.</summary>
    public BootstrapOptions Bootstrap { get; init; } = new();
}

/// <summary>The baselines' results on the test records of a prepared dataset.</summary>
public sealed class BaselineReport
{
    /// <summary>The prepared directory.</summary>
    public required string Prepared { get; init; }

    /// <summary>Train records (thresholds and the majority come from them).</summary>
    public required long TrainSamples { get; init; }

    /// <summary>Test records (scored).</summary>
    public required long TestSamples { get; init; }

    /// <summary>majority, user_history_mean, item_mean, matrix_factorization.</summary>
    public required IReadOnlyList<KeyValuePair<string, ClassificationResult>> Results { get; init; }

    /// <summary>
    /// The result file of <c>baselines --json/--out</c>: <c>prepared</c>, <c>train_samples</c>, <c>test_samples</c>, then
    /// one object per baseline in the shape of <c>eval</c>'s, so <c>eval --compare</c> can put them beside a model.
    /// </summary>
    public byte[] ToJson() => EvaluationJson.Serialize(Results, w =>
    {
        w.WriteString("prepared", Prepared);
        w.WriteNumber("train_samples", TrainSamples);
        w.WriteNumber("test_samples", TestSamples);
    });
}

/// <summary>
/// <c>sharptune baselines</c>: classical recommenders on the same test records as the model (docs/evaluation.md):
/// <list type="bullet">
/// <item>majority: train's majority label for every record (Yes on a tie);</item>
/// <item>user_history_mean: the mean of the record's history ratings, Yes when ≥ t;</item>
/// <item>item_mean: the candidate's mean over all train ratings of that movie (history ratings included; the train
/// global mean for a movie with none), Yes when ≥ t;</item>
/// <item>matrix_factorization: the biased MF prediction (<see cref="MatrixFactorization"/>) trained on the train
/// ratings, users without train ratings folded in from the record's history, Yes when ≥ t.</item>
/// </list>
/// Each t is chosen on the train records by <see cref="ThresholdSelector"/>. The train ratings are the ratings that
/// appear in train records, as candidate or in the history: each user's timeline up to their last train candidate.
/// </summary>
public static class MovieLensBaselines
{
    /// <summary>The label set of MovieLens records.</summary>
    public static readonly LabelSet Labels = new(["Yes", "No"]);

    /// <summary>Runs every baseline on <paramref name="preparedDir"/>.</summary>
    public static BaselineReport Run(string preparedDir, BaselineOptions options)
    {
        options.MatrixFactorization.Validate();
        var prepared = PreparedMovieLens.Open(preparedDir, options.RatingsPath, options.MoviesPath);
        var train = MovieLensSamples.Of(prepared, DatasetSplit.Train);
        var test = MovieLensSamples.Of(prepared, DatasetSplit.Test);
        if (train.Count == 0) throw new UserException($"{preparedDir}: the train split is empty; the baselines need train records");
        if (test.Count == 0) throw new UserException($"{preparedDir}: the test split is empty (--test-ratio 0?); nothing to score");
        var data = prepared.Data;
        int h = prepared.Options.HistoryLength;
        var (tl, plan) = (data.Timelines, data.Plan);

        // Train ratings: user u's timeline positions [Offsets[u], Offsets[u] + h + TrainEnd[u]).
        var trainUser = new List<int>();
        var trainPos = new List<int>();
        for (int u = 0; u < tl.UserCount; u++)
            if (plan.TrainEnd[u] > 0)
                for (int p = tl.Offsets[u]; p < tl.Offsets[u] + h + plan.TrainEnd[u]; p++) { trainUser.Add(u); trainPos.Add(p); }

        var results = new List<KeyValuePair<string, ClassificationResult>>
        {
            new("majority", Majority(train, test, options.Bootstrap)),
            new("user_history_mean", Thresholded(train, test, (s, i) => HistoryMean(tl, s.Targets[i], h), options.Bootstrap)),
        };

        // item_mean: sums in tenths (exact integers), one division.
        int movies = data.Catalog.Count;
        var itemSum = new long[movies];
        var itemCount = new long[movies];
        long allSum = 0;
        foreach (var p in trainPos) { itemSum[tl.Movies[p]] += tl.Tenths[p]; itemCount[tl.Movies[p]]++; allSum += tl.Tenths[p]; }
        double globalMean = (double)allSum / (10.0 * trainPos.Count);
        double ItemMean(int target)
        {
            int m = tl.Movies[target];
            return itemCount[m] == 0 ? globalMean : (double)itemSum[m] / (10.0 * itemCount[m]);
        }
        results.Add(new("item_mean", Thresholded(train, test, (s, i) => ItemMean(s.Targets[i]), options.Bootstrap)));

        var stars = trainPos.Select(p => tl.Tenths[p] / 10.0).ToArray();
        var mf = MatrixFactorization.Train(tl.UserCount, movies, trainUser.ToArray(), trainPos.Select(p => tl.Movies[p]).ToArray(), stars, options.MatrixFactorization);
        var inTrain = plan.TrainEnd.Select(e => e > 0).ToArray();
        var scratch = new double[(options.MatrixFactorization.Factors + 1) * (options.MatrixFactorization.Factors + 2)];
        var histItems = new int[h];
        var histStars = new double[h];
        double MfScore(MovieLensSamples s, int i)
        {
            int u = s.Users[i], target = s.Targets[i];
            if (inTrain[u]) return mf.Predict(u, tl.Movies[target]);
            for (int t = 0; t < h; t++) { histItems[t] = tl.Movies[target - h + t]; histStars[t] = tl.Tenths[target - h + t] / 10.0; }
            return mf.PredictFoldedIn(histItems, histStars, tl.Movies[target], scratch);
        }
        results.Add(new("matrix_factorization", Thresholded(train, test, MfScore, options.Bootstrap)));

        return new BaselineReport { Prepared = preparedDir, TrainSamples = train.Count, TestSamples = test.Count, Results = results };
    }

    // The mean of the h ratings before the candidate: an exact sum in tenths, one division.
    private static double HistoryMean(UserTimelines tl, int target, int h)
    {
        long sum = 0;
        for (int p = target - h; p < target; p++) sum += tl.Tenths[p];
        return sum / (10.0 * h);
    }

    // t from the train records' statistic; the test records predicted with it and scored (the statistic gives the AUC).
    private static ClassificationResult Thresholded(MovieLensSamples train, MovieLensSamples test, Func<MovieLensSamples, int, double> statistic, BootstrapOptions bootstrap)
    {
        var trainValues = new double[train.Count];
        for (int i = 0; i < train.Count; i++) trainValues[i] = statistic(train, i);
        var (t, _) = ThresholdSelector.Best(trainValues, train.Yes);
        var scores = new double[test.Count];
        var predictions = new int[test.Count];
        for (int i = 0; i < test.Count; i++)
        {
            scores[i] = statistic(test, i);
            predictions[i] = scores[i] >= t ? 0 : 1;
        }
        return ClassificationMetrics.Compute(Labels, References(test), predictions, scores, ScoreKind.Statistic, 0, bootstrap, threshold: t);
    }

    private static ClassificationResult Majority(MovieLensSamples train, MovieLensSamples test, BootstrapOptions bootstrap)
    {
        int yes = train.Yes.Count(y => y);
        int label = yes >= train.Count - yes ? 0 : 1;
        return ClassificationMetrics.Compute(Labels, References(test), Enumerable.Repeat(label, test.Count).ToArray(), bootstrap: bootstrap);
    }

    private static int[] References(MovieLensSamples s) => s.Yes.Select(y => y ? 0 : 1).ToArray();
}
