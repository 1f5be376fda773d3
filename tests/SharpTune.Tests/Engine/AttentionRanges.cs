using SharpTune.Training;

namespace SharpTune.Tests.Engine;

/// <summary>Key ranges of sequences laid out as training lays them out (each token sees its own sequence's rows 0..position).</summary>
internal static class AttentionRanges
{
    /// <summary>kvStart and kvCount of sequences of the given lengths, taken from <see cref="TrainingBatch"/> itself.</summary>
    public static (int[] Start, int[] Count) Causal(params int[] lengths)
    {
        int width = lengths.Max();
        var ids = lengths.Select(_ => new int[width]).ToArray();
        var labels = lengths.Select(_ => Enumerable.Repeat(TrainingBatch.IgnoreIndex, width).ToArray()).ToArray();
        var mask = lengths.Select(l => Enumerable.Range(0, width).Select(t => t < l ? 1 : 0).ToArray()).ToArray();
        var batch = TrainingBatch.FromPadded(ids, labels, mask, vocabSize: 1);
        return (batch.KvStart, batch.KvCount);
    }
}
