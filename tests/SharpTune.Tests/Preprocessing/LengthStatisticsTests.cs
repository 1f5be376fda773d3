using SharpTune.Preprocessing;

namespace SharpTune.Tests.Preprocessing;

public class LengthStatisticsTests
{
    [Fact]
    public void NearestRankPercentilesAndOverCutoff()
    {
        var lengths = Enumerable.Range(1, 100).Reverse().ToList();
        var s = LengthStatistics.Compute(lengths, cutoff: 95);
        Assert.Equal((100, 1, 100), (s.Count, s.Min, s.Max));
        Assert.Equal(50.5, s.Mean);
        Assert.Equal((50, 90, 95, 99, 100), (s.P50, s.P90, s.P95, s.P99, s.P100));
        Assert.Equal(5, s.OverCutoff);
        Assert.Equal(3, LengthStatistics.Compute([5, 1, 3], null).P50);
    }

    [Fact]
    public void HistogramCountsEverySample()
    {
        var lengths = new[] { 10, 11, 12, 50, 51, 99 };
        var h = LengthStatistics.Histogram(lengths, buckets: 3);
        var total = h.Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(l => int.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
        Assert.Equal(lengths.Length, total);
        Assert.Throws<UserException>(() => LengthStatistics.Compute([], null));
    }
}
