using SharpTune.Data.MovieLens;

namespace SharpTune.Tests.Data;

public class SplitPlanTests
{
    // 1,000 users with 1..200 ratings (deterministic spread); history 15, so some users give no sample.
    private static int[] RatingCounts() => Enumerable.Range(0, 1000).Select(i => 1 + (i * 7919) % 200).ToArray();

    [Fact]
    public void UserSplitPutsEachUserInOneSplitByTheRatios()
    {
        var counts = RatingCounts();
        var plan = SplitPlan.Create(counts, 15, SplitMode.User, 0.05, 0.1, seed: 13);
        int kept = counts.Count(c => c > 15);
        var perSplit = new int[3];
        for (int u = 0; u < counts.Length; u++)
        {
            int m = Math.Max(0, counts[u] - 15);
            Assert.Equal(m, plan.SampleCount[u]);
            if (m == 0) continue;
            var splits = Enumerable.Range(0, m).Select(j => plan.SplitOf(u, j)).Distinct().ToList();
            Assert.Single(splits); // no user in two splits
            perSplit[(int)splits[0]]++;
        }
        Assert.Equal((int)Math.Round(kept * 0.1, MidpointRounding.AwayFromZero), perSplit[(int)DatasetSplit.Test]);
        Assert.Equal((int)Math.Round(kept * 0.05, MidpointRounding.AwayFromZero), perSplit[(int)DatasetSplit.Val]);
        Assert.Equal(kept, perSplit.Sum());
        Assert.Equal(counts.Sum(c => (long)Math.Max(0, c - 15)),
            plan.Count(DatasetSplit.Train) + plan.Count(DatasetSplit.Val) + plan.Count(DatasetSplit.Test));
    }

    [Fact]
    public void UserSplitIsDeterministicPerSeed()
    {
        var counts = RatingCounts();
        static string Signature(SplitPlan p) => string.Join(',', p.TrainEnd.Zip(p.ValEnd, (a, b) => $"{a}/{b}"));
        var a = Signature(SplitPlan.Create(counts, 15, SplitMode.User, 0.05, 0.1, 13));
        var b = Signature(SplitPlan.Create(counts, 15, SplitMode.User, 0.05, 0.1, 13));
        var c = Signature(SplitPlan.Create(counts, 15, SplitMode.User, 0.05, 0.1, 14));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void TemporalSplitKeepsEachUsersLastSamplesForValThenTest()
    {
        var counts = RatingCounts();
        var plan = SplitPlan.Create(counts, 15, SplitMode.Temporal, 0.05, 0.1, seed: 13);
        for (int u = 0; u < counts.Length; u++)
        {
            int m = plan.SampleCount[u];
            var splits = Enumerable.Range(0, m).Select(j => plan.SplitOf(u, j)).ToList();
            // Train, then val, then test along the timeline: nothing from a user's future is in train.
            Assert.Equal(splits.OrderBy(s => (int)s), splits);
            Assert.Equal((int)Math.Round(m * 0.1, MidpointRounding.AwayFromZero), splits.Count(s => s == DatasetSplit.Test));
            Assert.Equal((int)Math.Round(m * 0.05, MidpointRounding.AwayFromZero), splits.Count(s => s == DatasetSplit.Val));
        }
        double total = counts.Sum(c => (double)Math.Max(0, c - 15));
        Assert.InRange(plan.Count(DatasetSplit.Test) / total, 0.09, 0.11);
        Assert.InRange(plan.Count(DatasetSplit.Val) / total, 0.04, 0.06);
    }

    [Fact]
    public void EvalSelectionPicksExactlyEvalSizeDeterministically()
    {
        var a = MovieLensPreparer.EvalSelection(1000, 150, 13);
        Assert.Equal(150, a.Count(x => x));
        Assert.Equal(a, MovieLensPreparer.EvalSelection(1000, 150, 13));
        Assert.NotEqual(a, MovieLensPreparer.EvalSelection(1000, 150, 14));
        Assert.All(MovieLensPreparer.EvalSelection(100, 0, 13), Assert.True);
        Assert.All(MovieLensPreparer.EvalSelection(100, 500, 13), Assert.True);
    }
}
