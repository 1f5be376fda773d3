using SharpTune.Models;

namespace SharpTune.Training;

/// <summary>
/// Floating-point operations of one training step as this engine computes it (multiply-adds count 2): every linear
/// layer forward and its input gradient, weight gradients of trainable weights, the LoRA products, attention (S = QKᵀ
/// and PV forward; the backward recomputes S and forms dP, dQ, dK, dV) and the LM head at the supervised rows only.
/// Elementwise work is not counted.
/// </summary>
internal static class StepFlopCounter
{
    public static double Count(ModelConfig c, IReadOnlyList<TrainableLayer> layers, bool trainableHead, TrainingBatch batch)
    {
        double n = batch.Tokens, s = batch.SupervisedCount, flops = 0;
        foreach (var layer in layers)
            foreach (var t in LoraTargets.All)
            {
                var p = layer[t];
                double mac = (double)p.In * p.Out;
                flops += 2 * n * mac * (p.Weight is null ? 2 : 3);                 // forward, input gradient (+ weight gradient)
                if (p.Lora is { } lora) flops += 2 * n * lora.Rank * (p.In + p.Out) * 3; // u, y += s·u·Bᵀ; dB, du, dA, dx
            }
        double keys = batch.KvCount.Sum(k => (double)k);
        flops += c.NumLayers * 2.0 * keys * c.HeadDim * c.NumHeads * (2 + 5);
        double head = 2.0 * s * c.VocabSize * c.HiddenSize;
        flops += head * (trainableHead ? 3 : 2);
        return flops;
    }
}
