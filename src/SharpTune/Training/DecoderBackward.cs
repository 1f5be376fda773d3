using SharpTune.Engine;
using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// The hand-written backward of one decoder layer, beside its forward (<see cref="DecoderLayer"/>): from the gradient
/// at the layer's output (in <see cref="TrainingActivations.DResidual"/>) to the gradient at its input (in place),
/// adding every trainable parameter's gradient on the way. Reads what the forward kept in <see cref="LayerActivations"/>.
/// </summary>
internal static class DecoderBackward
{
    public static void Layer(IComputeBackend b, ModelConfig c, TrainableLayer w, Tensor ropeCos, Tensor ropeSin, int l,
        Tensor x, LayerActivations a, TrainingActivations ws, int n, in LoraDropout dropout)
    {
        float eps = (float)c.RmsNormEps;
        Tensor dResid = ws.DResidual.SliceRows(0, n), dH = ws.DH.SliceRows(0, n);
        Tensor h1 = a.H1.SliceRows(0, n), q = a.Q.SliceRows(0, n), k = a.K.SliceRows(0, n), v = a.V.SliceRows(0, n);
        Tensor att = a.Attention.SliceRows(0, n), mid = a.Mid.SliceRows(0, n), h2 = a.H2.SliceRows(0, n);
        Tensor gate = a.Gate.SliceRows(0, n), up = a.Up.SliceRows(0, n), act = a.Act.SliceRows(0, n);
        Tensor dGate = ws.DGate.SliceRows(0, n), dUp = ws.DUp.SliceRows(0, n), dAtt = ws.DAttention.SliceRows(0, n);
        Tensor dQ = ws.DQ.SliceRows(0, n), dK = ws.DK.SliceRows(0, n), dV = ws.DV.SliceRows(0, n), pos = ws.Positions.SliceRows(0, n);
        Tensor kvStart = ws.KvStart.SliceRows(0, n), kvCount = ws.KvCount.SliceRows(0, n);

        void Back(LoraTarget t, Tensor input, Tensor dy, Tensor dx, bool accumulateDx, in LoraDropout d) =>
            w[t].Backward(b, input, dy, dx, accumulateDx, a.LoraU[(int)t].IsValid ? a.LoraU[(int)t].SliceRows(0, n) : default,
                ws.DU.IsValid ? ws.DU.SliceRows(0, n) : default, d.Scratch, d.SeedFor(l, t.Projection()));

        // MLP: output = mid + down(silu(gate)·up).
        Back(LoraTarget.DownProj, act, dResid, dGate, false, dropout);     // dGate ← d act
        b.SwiGluBackward(gate, up, dGate, dGate, dUp);
        Back(LoraTarget.GateProj, h2, dGate, dH, false, dropout);
        Back(LoraTarget.UpProj, h2, dUp, dH, true, dropout);
        b.RmsNormBackward(mid, w.PostAttentionNorm.Value, eps, dH, dResid, accumulate: true, w.PostAttentionNorm.Grad);

        // Attention: mid = x + o(attention(rope(norm(q(h1))), rope(norm(k(h1))), v(h1))).
        Back(LoraTarget.OProj, att, dResid, dAtt, false, dropout);
        b.AttentionBackward(q, k, v, att, dAtt, a.Lse.SliceRows(0, n), kvStart, kvCount,
            c.NumHeads, c.NumKvHeads, 1f / MathF.Sqrt(c.HeadDim), dQ, dK, dV);
        b.RopeBackward(dQ, pos, ropeCos, ropeSin, c.HeadDim, dQ);
        b.RopeBackward(dK, pos, ropeCos, ropeSin, c.HeadDim, dK);
        if (c.QkNorm)
        {
            b.RmsNormBackward(a.QRaw.SliceRows(0, n).Reshape(n * c.NumHeads, c.HeadDim), w.QNorm!.Value, eps,
                dQ.Reshape(n * c.NumHeads, c.HeadDim), dQ.Reshape(n * c.NumHeads, c.HeadDim), accumulate: false, w.QNorm.Grad);
            b.RmsNormBackward(a.KRaw.SliceRows(0, n).Reshape(n * c.NumKvHeads, c.HeadDim), w.KNorm!.Value, eps,
                dK.Reshape(n * c.NumKvHeads, c.HeadDim), dK.Reshape(n * c.NumKvHeads, c.HeadDim), accumulate: false, w.KNorm.Grad);
        }
        Back(LoraTarget.QProj, h1, dQ, dH, false, dropout);
        Back(LoraTarget.KProj, h1, dK, dH, true, dropout);
        Back(LoraTarget.VProj, h1, dV, dH, true, dropout);
        b.RmsNormBackward(x, w.InputNorm.Value, eps, dH, dResid, accumulate: true, w.InputNorm.Grad);
    }
}
