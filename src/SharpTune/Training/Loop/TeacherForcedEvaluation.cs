using SharpTune.Preprocessing;

namespace SharpTune.Training.Loop;

/// <summary>Teacher-forced metrics of an evaluation set.</summary>
/// <param name="Loss">transformers' <c>eval_loss</c>: each batch's mean token loss, averaged over batches weighted by their sample counts.</param>
/// <param name="TokenAccuracy">Share of supervised tokens whose argmax is the label (over all tokens).</param>
/// <param name="Entropy">Mean entropy of the predicted distribution on supervised tokens (nats).</param>
/// <param name="FirstTokenAccuracy">Share of samples whose first supervised token (the first answer token) is predicted; null when no sample supervises a token after position 0.</param>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="SupervisedTokens">Supervised tokens scored.</param>
public sealed record TeacherForcedMetrics(double Loss, double TokenAccuracy, double Entropy, double? FirstTokenAccuracy, int Samples, long SupervisedTokens);

/// <summary>
/// The teacher-forced evaluation of the loop: batches of <c>per_device_eval_batch_size</c> samples in dataset order,
/// right padded, forward only (LoRA dropout off). A second, shorter pass scores only each sample's first supervised
/// token — every sequence cut right after it, so it costs a forward over the prompts — for the first-answer-token
/// accuracy that generative accuracy is compared with.
/// </summary>
public static class TeacherForcedEvaluation
{
    /// <summary>Evaluates <paramref name="model"/> on <paramref name="data"/>.</summary>
    public static TeacherForcedMetrics Run(TrainableDecoder model, TokenizedDataset data, int batchSize, int padId, CancellationToken cancellation = default)
    {
        if (data.Count == 0) throw new UserException("the evaluation set is empty");
        int vocab = model.Config.VocabSize;
        var total = new BatchStatistics();
        double weightedLoss = 0;
        int weightedSamples = 0;
        long firstCorrect = 0, firstCount = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var indices = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
            var padded = BatchCollator.Collate(data, indices, padId);
            var batch = TrainingBatch.FromPadded(padded.InputIds, padded.Labels, padded.AttentionMask, vocab, "evaluation batch");
            if (batch.SupervisedCount > 0)
            {
                var s = model.Evaluate(batch);
                total += s;
                weightedLoss += s.LossSum / s.Supervised * indices.Length;
                weightedSamples += indices.Length;
            }
            if (FirstTokenBatch(data, indices, vocab) is { } first)
            {
                var f = model.Evaluate(first);
                firstCorrect += f.Correct;
                firstCount += f.Supervised;
            }
        }
        if (total.Supervised == 0) throw new UserException("the evaluation set supervises no token (every label is -100)");
        return new TeacherForcedMetrics(weightedLoss / weightedSamples, (double)total.Correct / total.Supervised, total.EntropySum / total.Supervised,
            firstCount > 0 ? (double)firstCorrect / firstCount : null, data.Count, total.Supervised);
    }

    /// <summary>
    /// Each sample cut right after its first label at a position ≥ 1 (position 0 is never scored: nothing precedes it),
    /// with only that label kept; samples without one are left out. Null when none is left.
    /// </summary>
    internal static TrainingBatch? FirstTokenBatch(TokenizedDataset data, IReadOnlyList<int> indices, int vocab)
    {
        var ids = new List<int[]>();
        var labels = new List<int[]>();
        foreach (int i in indices)
        {
            var full = data.Labels(i);
            int p = 1;
            while (p < full.Length && full[p] == TrainingBatch.IgnoreIndex) p++;
            if (p >= full.Length) continue;
            var rowIds = data.InputIds(i)[..(p + 1)].ToArray();
            var rowLabels = Enumerable.Repeat(TrainingBatch.IgnoreIndex, p + 1).ToArray();
            rowLabels[p] = full[p];
            ids.Add(rowIds);
            labels.Add(rowLabels);
        }
        if (ids.Count == 0) return null;
        int width = ids.Max(r => r.Length);
        var mask = new List<int[]>(ids.Count);
        for (int r = 0; r < ids.Count; r++)
        {
            int n = ids[r].Length;
            var m = new int[width];
            m.AsSpan(0, n).Fill(1);
            mask.Add(m);
            if (n < width)
            {
                var pi = new int[width];
                ids[r].CopyTo(pi, 0);
                ids[r] = pi;
                var pl = Enumerable.Repeat(TrainingBatch.IgnoreIndex, width).ToArray();
                labels[r].CopyTo(pl, 0);
                labels[r] = pl;
            }
        }
        return TrainingBatch.FromPadded(ids, labels, mask, vocab, "first-answer-token batch");
    }
}
