using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// The LM head and the loss of a <see cref="TrainableDecoder"/>: logits at the (normed) supervised rows, at most a
/// chunk of rows at a time, the cross-entropy with its gradient in place, and the gradient back to the rows (and, in
/// full mode, to the head weight). Each chunk's per-row statistics (loss, correct, entropy) are summed on the backend
/// into one <c>[1, 3]</c> total, read once with <see cref="ReadTotals"/> — per optimizer step or evaluation batch, not
/// per chunk.
/// </summary>
internal sealed class LossHead
{
    private readonly IComputeBackend _b;
    private readonly ProjectionWeights _head;
    private readonly TrainableParameter? _trainable;
    private readonly Tensor _logits, _stats, _totals;   // [chunk, vocab], [chunk, 3], [1, 3]
    private readonly float[] _host = new float[3];

    public LossHead(IComputeBackend backend, Arena arena, ModelConfig c, int chunk, ProjectionWeights head, TrainableParameter? trainable)
    {
        _b = backend;
        _head = head;
        _trainable = trainable;
        _logits = arena.Allocate(ElementType.F32, chunk, c.VocabSize);
        _stats = arena.Allocate(ElementType.F32, chunk, 3);
        _totals = arena.Allocate(ElementType.F32, 1, 3);
    }

    /// <summary>Zeroes the running totals.</summary>
    public void ResetTotals() => _b.Zero(_totals);

    /// <summary>
    /// Logits and loss of <paramref name="s"/> rows <c>selN [s, hidden]</c> against <c>targets [s]</c>, added to the
    /// totals; when <paramref name="dSel"/> is valid, writes the gradient at the rows (<c>dSel [s, hidden]</c>) for a
    /// loss scaled by <paramref name="gradScale"/>.
    /// </summary>
    public void Run(int s, Tensor selN, Tensor targets, Tensor dSel, float gradScale)
    {
        var b = _b;
        int chunk = _logits.Rows;
        for (int r0 = 0; r0 < s; r0 += chunk)
        {
            int rows = Math.Min(chunk, s - r0);
            Tensor x = selN.SliceRows(r0, rows), logits = _logits.SliceRows(0, rows), st = _stats.SliceRows(0, rows);
            _head.Forward(b, x, logits, false, default, default, 0, dropout: false);
            b.CrossEntropy(logits, targets.SliceRows(r0, rows), gradScale, logits, st);
            b.SumRows(st, _totals, accumulate: true);
            if (!dSel.IsValid) continue;
            var d = dSel.SliceRows(r0, rows);
            if (_head.Packed is not null) b.LinearBackward(logits, _head.Packed, d, accumulate: false);
            else
            {
                b.MatMul(logits, false, _head.Dense, false, d);
                b.MatMul(logits, true, x, false, _trainable!.Grad, 1f, accumulate: true);
            }
        }
    }

    /// <summary>The totals since <see cref="ResetTotals"/>: Σ loss, correct predictions, Σ entropy (one download).</summary>
    public (double LossSum, long Correct, double EntropySum) ReadTotals()
    {
        _b.Download(_totals, _host);
        return (_host[0], (long)Math.Round(_host[1]), _host[2]);
    }
}
