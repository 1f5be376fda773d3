using SharpTune.Numerics;
using SharpTune.Data;

namespace SharpTune.Training.Loop;

/// <summary>How an epoch orders the training samples.</summary>
public enum SampleOrder
{
    /// <summary>Dataset order (LLaMA-Factory's <c>disable_shuffling</c>; transformers' <c>SequentialSampler</c>).</summary>
    Sequential,

    /// <summary>A seeded permutation per epoch (transformers' <c>RandomSampler</c>, with SharpTune's generator).</summary>
    Random,

    /// <summary>transformers' <c>LengthGroupedSampler</c> over the seeded permutation (<c>group_by_length</c>).</summary>
    LengthGrouped,
}

/// <summary>
/// The sample order of each epoch, a pure function of (seed, epoch, order kind, lengths) so a resumed run sees the
/// same batches. The permutation of epoch <c>e</c> is a Fisher–Yates shuffle of <c>0 … n−1</c> driven by
/// <see cref="SplitMix64"/> seeded with <c>seed ^ (0x9E3779B97F4A7C15 · (e + 1))</c> (64-bit wrap-around):
/// for <c>i = n−1 … 1</c>, <c>j = ((x &gt;&gt; 33) · (i + 1)) &gt;&gt; 31</c> with <c>x</c> the generator's next output,
/// swap items i and j. (PyTorch's <c>randperm</c> stream is not reproduced; the order is SharpTune's own, documented
/// in docs/training-loop.md.)
/// </summary>
public sealed class EpochSampler
{
    private readonly int[] _lengths;

    /// <summary>A sampler over samples of the given lengths (tokens).</summary>
    public EpochSampler(IReadOnlyList<int> lengths, SampleOrder order, ulong seed, int batchSize)
    {
        _lengths = [.. lengths];
        Order = order;
        Seed = seed;
        BatchSize = batchSize;
    }

    /// <summary>The order kind.</summary>
    public SampleOrder Order { get; }

    /// <summary>The run's seed.</summary>
    public ulong Seed { get; }

    /// <summary>The micro-batch size (the length-grouped sampler's megabatches are multiples of it).</summary>
    public int BatchSize { get; }

    /// <summary>The order kind <paramref name="args"/> asks for.</summary>
    public static SampleOrder OrderOf(TrainingArguments args) =>
        args.DisableShuffling ? SampleOrder.Sequential : args.GroupByLength ? SampleOrder.LengthGrouped : SampleOrder.Random;

    /// <summary>The sample indices of epoch <paramref name="epoch"/> (0-based), in the order they are batched.</summary>
    public int[] EpochOrder(int epoch)
    {
        int n = _lengths.Length;
        return Order switch
        {
            SampleOrder.Sequential => Enumerable.Range(0, n).ToArray(),
            SampleOrder.Random => Permutation(n, Seed, epoch),
            _ => LengthGrouped(_lengths, BatchSize, Permutation(n, Seed, epoch)),
        };
    }

    /// <summary>The seeded permutation of <c>0 … n−1</c> for <paramref name="epoch"/>.</summary>
    public static int[] Permutation(int n, ulong seed, int epoch)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new SplitMix64(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1))).Shuffle(order.AsSpan());
        return order;
    }

    /// <summary>
    /// transformers' <c>get_length_grouped_indices</c> applied to the permutation <paramref name="permutation"/>:
    /// megabatches of <c>m · batch</c> consecutive indices with <c>m = max(1, min(n // (4 · batch), 50))</c>, each sorted
    /// by length, longest first (stable: equal lengths keep their permuted order), then the first element of the
    /// megabatch whose first element is longest (the first such megabatch) swapped with the very first element, so the
    /// longest sample is in the first batch.
    /// </summary>
    public static int[] LengthGrouped(IReadOnlyList<int> lengths, int batchSize, int[] permutation)
    {
        int n = permutation.Length;
        int mult = Math.Min(n / (batchSize * 4), 50);
        if (mult == 0) mult = 1;
        int size = mult * batchSize;
        var result = new int[n];
        var starts = new List<int>();
        for (int s = 0; s < n; s += size)
        {
            int count = Math.Min(size, n - s);
            // OrderByDescending is a stable sort, as Python's sorted(..., reverse=True) is.
            var sorted = permutation.Skip(s).Take(count).OrderByDescending(i => lengths[i]).ToArray();
            sorted.CopyTo(result, s);
            starts.Add(s);
        }
        int best = 0;
        for (int m = 1; m < starts.Count; m++)
            if (lengths[result[starts[m]]] > lengths[result[starts[best]]]) best = m;
        (result[0], result[starts[best]]) = (result[starts[best]], result[0]);
        return result;
    }
}
