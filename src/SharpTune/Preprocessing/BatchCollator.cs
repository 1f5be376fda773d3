namespace SharpTune.Preprocessing;

/// <summary>A right-padded batch as transformers' data collators produce it.</summary>
/// <param name="InputIds">Token ids, padded with the pad id. // [batch, length]</param>
/// <param name="Labels">Labels: the id where supervised, -100 on masked tokens and on padding. // [batch, length]</param>
/// <param name="AttentionMask">1 on real tokens, 0 on padding. // [batch, length]</param>
/// <param name="Lengths">Real length of each row. // [batch]</param>
public sealed record CollatedBatch(int[][] InputIds, int[][] Labels, int[][] AttentionMask, int[] Lengths);

/// <summary>Pads samples of a <see cref="TokenizedDataset"/> into a batch; padding never carries a label.</summary>
public static class BatchCollator
{
    /// <summary>Collates the samples <paramref name="indices"/>, padding to the longest (or to a multiple of <paramref name="padToMultipleOf"/>).</summary>
    public static CollatedBatch Collate(TokenizedDataset dataset, IReadOnlyList<int> indices, int padId, int padToMultipleOf = 1)
    {
        if (indices.Count == 0) throw new ArgumentException("a batch needs at least one sample", nameof(indices));
        int length = indices.Max(dataset.Length);
        if (padToMultipleOf > 1) length = (length + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        var ids = new int[indices.Count][];
        var labels = new int[indices.Count][];
        var mask = new int[indices.Count][];
        var lengths = new int[indices.Count];
        for (int b = 0; b < indices.Count; b++)
        {
            int n = dataset.Length(indices[b]);
            lengths[b] = n;
            ids[b] = new int[length];
            labels[b] = new int[length];
            mask[b] = new int[length];
            dataset.InputIds(indices[b]).CopyTo(ids[b]);
            dataset.Labels(indices[b], labels[b]);
            ids[b].AsSpan(n).Fill(padId);
            labels[b].AsSpan(n).Fill(LabelMasker.IgnoreIndex);
            mask[b].AsSpan(0, n).Fill(1);
        }
        return new CollatedBatch(ids, labels, mask, lengths);
    }
}
