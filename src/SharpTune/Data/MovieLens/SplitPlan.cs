using SharpTune.Numerics;

namespace SharpTune.Data.MovieLens;

/// <summary>
/// Where every sample goes. A kept user u has samples 0..m-1 (sample j predicts rating historyLen + j of the
/// timeline); samples [0, TrainEnd[u]) are train, [TrainEnd[u], ValEnd[u]) val and [ValEnd[u], m) test.
/// The user split makes each user's three ranges all-or-nothing; the temporal split cuts each timeline.
/// </summary>
internal sealed class SplitPlan
{
    private SplitPlan(int[] trainEnd, int[] valEnd, int[] sampleCount)
    {
        TrainEnd = trainEnd;
        ValEnd = valEnd;
        SampleCount = sampleCount;
    }

    /// <summary>End of each user's train range (0 for skipped users).</summary>
    public int[] TrainEnd { get; }

    /// <summary>End of each user's val range (0 for skipped users).</summary>
    public int[] ValEnd { get; }

    /// <summary>Samples of each user: ratings minus history length, or 0 when the user has no more than that.</summary>
    public int[] SampleCount { get; }

    /// <summary>Samples in a split, summed over users.</summary>
    public long Count(DatasetSplit split)
    {
        long n = 0;
        for (int u = 0; u < SampleCount.Length; u++)
            n += split switch
            {
                DatasetSplit.Train => TrainEnd[u],
                DatasetSplit.Val => ValEnd[u] - TrainEnd[u],
                _ => SampleCount[u] - ValEnd[u],
            };
        return n;
    }

    /// <summary>The split of user u's sample j.</summary>
    public DatasetSplit SplitOf(int u, int j) =>
        j < TrainEnd[u] ? DatasetSplit.Train : j < ValEnd[u] ? DatasetSplit.Val : DatasetSplit.Test;

    /// <summary>Builds the plan for timelines whose users have <paramref name="ratingCounts"/> ratings each.</summary>
    public static SplitPlan Create(IReadOnlyList<int> ratingCounts, int historyLength, SplitMode mode, double valRatio, double testRatio, ulong seed)
    {
        int users = ratingCounts.Count;
        var counts = new int[users];
        for (int u = 0; u < users; u++) counts[u] = Math.Max(0, ratingCounts[u] - historyLength);
        var trainEnd = new int[users];
        var valEnd = new int[users];
        if (mode == SplitMode.User)
        {
            var kept = Enumerable.Range(0, users).Where(u => counts[u] > 0).ToArray();
            new SplitMix64(seed).Shuffle(kept);
            int nTest = RoundCount(kept.Length, testRatio), nVal = Math.Min(RoundCount(kept.Length, valRatio), kept.Length - nTest);
            for (int i = 0; i < kept.Length; i++)
            {
                int u = kept[i];
                (trainEnd[u], valEnd[u]) = i < nTest ? (0, 0) : i < nTest + nVal ? (0, counts[u]) : (counts[u], counts[u]);
            }
        }
        else
        {
            for (int u = 0; u < users; u++)
            {
                int m = counts[u];
                int nTest = RoundCount(m, testRatio), nVal = Math.Min(RoundCount(m, valRatio), m - nTest);
                trainEnd[u] = m - nTest - nVal;
                valEnd[u] = m - nTest;
            }
        }
        return new SplitPlan(trainEnd, valEnd, counts);
    }

    private static int RoundCount(int n, double ratio) => (int)Math.Min(n, Math.Round(n * ratio, MidpointRounding.AwayFromZero));
}
