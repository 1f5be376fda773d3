using System.Globalization;
using System.Text;

namespace SharpTune.Preprocessing;

/// <summary>Summary statistics of sample token lengths (nearest-rank percentiles) and a text histogram.</summary>
public sealed record LengthStatistics
{
    /// <summary>Number of samples.</summary>
    public required int Count { get; init; }

    /// <summary>Shortest length.</summary>
    public required int Min { get; init; }

    /// <summary>Longest length.</summary>
    public required int Max { get; init; }

    /// <summary>Mean length.</summary>
    public required double Mean { get; init; }

    /// <summary>Percentiles 50, 90, 95, 99 and 100 (nearest rank).</summary>
    public required int P50 { get; init; }

    /// <summary>90th percentile.</summary>
    public required int P90 { get; init; }

    /// <summary>95th percentile.</summary>
    public required int P95 { get; init; }

    /// <summary>99th percentile.</summary>
    public required int P99 { get; init; }

    /// <summary>100th percentile (the maximum).</summary>
    public required int P100 { get; init; }

    /// <summary>Samples longer than the cutoff (0 when no cutoff was given).</summary>
    public required int OverCutoff { get; init; }

    /// <summary>The cutoff used for <see cref="OverCutoff"/>, or null.</summary>
    public int? Cutoff { get; init; }

    /// <summary>Computes the statistics of <paramref name="lengths"/>.</summary>
    public static LengthStatistics Compute(IReadOnlyList<int> lengths, int? cutoff)
    {
        if (lengths.Count == 0) throw new UserException("no samples to compute length statistics over");
        var sorted = lengths.ToArray();
        Array.Sort(sorted);
        int Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LengthStatistics
        {
            Count = sorted.Length,
            Min = sorted[0],
            Max = sorted[^1],
            Mean = sorted.Average(x => (double)x),
            P50 = Rank(50), P90 = Rank(90), P95 = Rank(95), P99 = Rank(99), P100 = sorted[^1],
            OverCutoff = cutoff is int c ? sorted.Count(x => x > c) : 0,
            Cutoff = cutoff,
        };
    }

    /// <summary>
    /// <c>sharptune stats</c>' measurement: every record rendered, tokenized and masked as training does but never
    /// truncated (the cutoff only classifies), in record order; a dropped record (e.g. an empty answer) has no ids.
    /// </summary>
    public static SftPreprocessor.Sample[] MeasureUntruncated(PreprocessInputs inputs, IReadOnlyList<Data.Sft.SftRecord> records)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var measure = new SftPreprocessor(inputs.Renderer, inputs.Tokenizer, inputs.Options with { CutoffLen = int.MaxValue, Truncation = TruncationMode.Left });
        var samples = new SftPreprocessor.Sample[records.Count];
        Parallel.For(0, records.Count, i => samples[i] = measure.ProcessOne(records[i]));
        return samples;
    }

    /// <summary>The token lengths of the samples <see cref="MeasureUntruncated"/> kept.</summary>
    public static List<int> Lengths(IEnumerable<SftPreprocessor.Sample> samples) => samples.Where(s => s.Ids.Length > 0).Select(s => s.Ids.Length).ToList();

    /// <summary>A histogram of <paramref name="lengths"/> in <paramref name="buckets"/> equal-width bins, drawn with bars.</summary>
    public static string Histogram(IReadOnlyList<int> lengths, int buckets = 12, int width = 40)
    {
        if (lengths.Count == 0) return "";
        int min = lengths.Min(), max = lengths.Max();
        int step = Math.Max(1, (int)Math.Ceiling((max - min + 1) / (double)buckets));
        var counts = new int[(max - min) / step + 1];
        foreach (var l in lengths) counts[(l - min) / step]++;
        int peak = counts.Max();
        var sb = new StringBuilder();
        for (int b = 0; b < counts.Length; b++)
        {
            int lo = min + b * step, hi = lo + step - 1;
            int bar = peak == 0 ? 0 : (int)Math.Round(counts[b] * (double)width / peak);
            sb.Append(CultureInfo.InvariantCulture, $"{lo,7}-{hi,-7} {counts[b],8} ").Append('█', bar).Append('\n');
        }
        return sb.ToString();
    }
}
