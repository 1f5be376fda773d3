using System.Diagnostics;
using SharpTune.Numerics;

namespace SharpTune.Engine;

/// <summary>
/// A decorator of the kernel boundary that times every kernel call, grouped by kernel and operand shape, with the
/// floating-point work of the matrix products — so a training step's time can be attributed kernel by kernel.
/// Calls pass straight through; results are identical to the wrapped backend's.
/// </summary>
public sealed class ProfilingBackend(IComputeBackend inner) : IComputeBackend
{
    private readonly Dictionary<string, KernelTime> _totals = new(StringComparer.Ordinal);

    /// <summary>Accumulated time of one kernel and shape.</summary>
    /// <param name="Calls">Number of calls.</param>
    /// <param name="Seconds">Total time.</param>
    /// <param name="Flops">Total floating-point operations (matrix products only; 0 otherwise).</param>
    public readonly record struct KernelTime(long Calls, double Seconds, double Flops);

    /// <summary>The wrapped backend.</summary>
    public IComputeBackend Inner { get; } = inner;

    /// <summary>Totals so far by "kernel [shape]".</summary>
    public IReadOnlyDictionary<string, KernelTime> Totals => _totals;

    /// <summary>Forgets the totals.</summary>
    public void Reset() => _totals.Clear();

    private readonly struct Scope(ProfilingBackend owner, string key, double flops) : IDisposable
    {
        private readonly long _start = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            var old = owner._totals.GetValueOrDefault(key);
            owner._totals[key] = new KernelTime(old.Calls + 1, old.Seconds + Stopwatch.GetElapsedTime(_start).TotalSeconds, old.Flops + flops);
        }
    }

    private Scope Time(string key, double flops = 0) => new(this, key, flops);

    private static string S(Tensor t) => $"[{t.Rows},{t.Cols}]";

    /// <inheritdoc />
    public string Name => Inner.Name;

    /// <inheritdoc />
    public Arena CreateArena(string name) => Inner.CreateArena(name);

    /// <inheritdoc />
    public LinearWeight LoadLinear(ReadOnlySpan<byte> data, TensorDType dtype, int outFeatures, int inFeatures, ElementType storage, Arena arena) =>
        Inner.LoadLinear(data, dtype, outFeatures, inFeatures, storage, arena);

    /// <inheritdoc />
    public void Upload(ReadOnlySpan<float> source, Tensor destination) { using (Time("Upload")) Inner.Upload(source, destination); }

    /// <inheritdoc />
    public void Upload(ReadOnlySpan<int> source, Tensor destination) { using (Time("Upload")) Inner.Upload(source, destination); }

    /// <inheritdoc />
    public void Download(Tensor source, Span<float> destination) { using (Time("Download")) Inner.Download(source, destination); }

    /// <inheritdoc />
    public void Download(Tensor source, Span<int> destination) { using (Time("Download")) Inner.Download(source, destination); }

    /// <inheritdoc />
    public void Embedding(Tensor ids, LinearWeight table, Tensor destination) { using (Time("Embedding")) Inner.Embedding(ids, table, destination); }

    /// <inheritdoc />
    public void RmsNorm(Tensor x, Tensor weight, float eps, Tensor destination) { using (Time("RmsNorm " + S(x))) Inner.RmsNorm(x, weight, eps, destination); }

    /// <inheritdoc />
    public void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate)
    {
        using (Time($"Linear x[{x.Rows},{weight.InFeatures}]·W[{weight.OutFeatures},{weight.InFeatures}]ᵀ", 2.0 * x.Rows * weight.InFeatures * weight.OutFeatures))
            Inner.Linear(x, weight, bias, destination, accumulate);
    }

    /// <inheritdoc />
    public void Linear(Tensor x, LinearWeight weight, Tensor bias, Tensor destination, bool accumulate, Tensor lowRankInput, Tensor lowRankWeight, float scale)
    {
        double flops = 2.0 * x.Rows * weight.OutFeatures * (weight.InFeatures + (lowRankInput.IsValid ? lowRankInput.Cols : 0));
        using (Time($"Linear+LoRA x[{x.Rows},{weight.InFeatures}]·W[{weight.OutFeatures},{weight.InFeatures}]ᵀ", flops))
            Inner.Linear(x, weight, bias, destination, accumulate, lowRankInput, lowRankWeight, scale);
    }

    /// <inheritdoc />
    public void Rope(Tensor x, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor destination) { using (Time("Rope " + S(x))) Inner.Rope(x, positions, cos, sin, headDim, destination); }

    /// <inheritdoc />
    public void WriteKv(Tensor k, Tensor v, Tensor slots, Tensor kCache, Tensor vCache) { using (Time("WriteKv")) Inner.WriteKv(k, v, slots, kCache, vCache); }

    /// <inheritdoc />
    public void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination)
    {
        using (Time("Attention " + S(q))) Inner.Attention(q, kCache, vCache, kvStart, kvCount, heads, kvHeads, scale, destination);
    }

    /// <inheritdoc />
    public void Attention(Tensor q, Tensor kCache, Tensor vCache, Tensor kvStart, Tensor kvCount, int heads, int kvHeads, float scale, Tensor destination, Tensor logSumExp)
    {
        using (Time("Attention " + S(q))) Inner.Attention(q, kCache, vCache, kvStart, kvCount, heads, kvHeads, scale, destination, logSumExp);
    }

    /// <inheritdoc />
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor outputGrad, Tensor logSumExp, Tensor kvStart, Tensor kvCount,
        int heads, int kvHeads, float scale, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad)
    {
        using (Time("AttentionBackward " + S(q))) Inner.AttentionBackward(q, k, v, output, outputGrad, logSumExp, kvStart, kvCount, heads, kvHeads, scale, queryGrad, keyGrad, valueGrad);
    }

    /// <inheritdoc />
    public void SwiGlu(Tensor gate, Tensor up, Tensor destination) { using (Time("SwiGlu " + S(gate))) Inner.SwiGlu(gate, up, destination); }

    /// <inheritdoc />
    public void SwiGluBackward(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad) { using (Time("SwiGluBackward " + S(gate))) Inner.SwiGluBackward(gate, up, outputGrad, gateGrad, upGrad); }

    /// <inheritdoc />
    public void RmsNormBackward(Tensor x, Tensor weight, float eps, Tensor outputGrad, Tensor inputGrad, bool accumulate, Tensor weightGrad)
    {
        using (Time("RmsNormBackward " + S(x))) Inner.RmsNormBackward(x, weight, eps, outputGrad, inputGrad, accumulate, weightGrad);
    }

    /// <inheritdoc />
    public void RopeBackward(Tensor outputGrad, Tensor positions, Tensor cos, Tensor sin, int headDim, Tensor inputGrad) { using (Time("RopeBackward " + S(outputGrad))) Inner.RopeBackward(outputGrad, positions, cos, sin, headDim, inputGrad); }

    /// <inheritdoc />
    public void LinearBackward(Tensor outputGrad, LinearWeight weight, Tensor inputGrad, bool accumulate)
    {
        using (Time($"LinearBackward dy[{outputGrad.Rows},{weight.OutFeatures}]·W[{weight.OutFeatures},{weight.InFeatures}]", 2.0 * outputGrad.Rows * weight.InFeatures * weight.OutFeatures))
            Inner.LinearBackward(outputGrad, weight, inputGrad, accumulate);
    }

    /// <inheritdoc />
    public void LinearBackward(Tensor outputGrad, LinearWeight weight, Tensor inputGrad, bool accumulate, Tensor lowRankGrad, Tensor lowRankWeight)
    {
        double flops = 2.0 * outputGrad.Rows * weight.InFeatures * (weight.OutFeatures + (lowRankGrad.IsValid ? lowRankGrad.Cols : 0));
        using (Time($"LinearBackward+LoRA dy[{outputGrad.Rows},{weight.OutFeatures}]·W[{weight.OutFeatures},{weight.InFeatures}]", flops))
            Inner.LinearBackward(outputGrad, weight, inputGrad, accumulate, lowRankGrad, lowRankWeight);
    }

    /// <inheritdoc />
    public void MatMul(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor destination, float alpha = 1f, bool accumulate = false)
    {
        int m = transposeA ? a.Cols : a.Rows, k = transposeA ? a.Rows : a.Cols, n = transposeB ? b.Rows : b.Cols;
        using (Time($"MatMul [{m}x{k}]{(transposeA ? "ᵀ" : "")}·[{k}x{n}]{(transposeB ? "ᵀ" : "")}", 2.0 * m * k * n))
            Inner.MatMul(a, transposeA, b, transposeB, destination, alpha, accumulate);
    }

    /// <inheritdoc />
    public void AddBias(Tensor bias, Tensor destination) { using (Time("AddBias")) Inner.AddBias(bias, destination); }

    /// <inheritdoc />
    public void SumRows(Tensor x, Tensor destination, bool accumulate) { using (Time("SumRows")) Inner.SumRows(x, destination, accumulate); }

    /// <inheritdoc />
    public void EmbeddingBackward(Tensor ids, Tensor outputGrad, Tensor tableGrad) { using (Time("EmbeddingBackward")) Inner.EmbeddingBackward(ids, outputGrad, tableGrad); }

    /// <inheritdoc />
    public void Embedding(Tensor ids, Tensor table, Tensor destination) { using (Time("Embedding")) Inner.Embedding(ids, table, destination); }

    /// <inheritdoc />
    public void CrossEntropy(Tensor logits, Tensor targets, float gradScale, Tensor logitsGrad, Tensor stats) { using (Time("CrossEntropy " + S(logits))) Inner.CrossEntropy(logits, targets, gradScale, logitsGrad, stats); }

    /// <inheritdoc />
    public void ScatterAddRows(Tensor source, Tensor indices, Tensor destination) { using (Time("ScatterAddRows")) Inner.ScatterAddRows(source, indices, destination); }

    /// <inheritdoc />
    public void Add(Tensor source, float alpha, Tensor destination) { using (Time("Add " + S(source))) Inner.Add(source, alpha, destination); }

    /// <inheritdoc />
    public void Copy(Tensor source, Tensor destination) { using (Time("Copy " + S(source))) Inner.Copy(source, destination); }

    /// <inheritdoc />
    public void Zero(Tensor destination) { using (Time("Zero")) Inner.Zero(destination); }

    /// <inheritdoc />
    public void Scale(Tensor x, float factor) { using (Time("Scale")) Inner.Scale(x, factor); }

    /// <inheritdoc />
    public double SumOfSquares(Tensor x) { using (Time("SumOfSquares")) return Inner.SumOfSquares(x); }

    /// <inheritdoc />
    public void Dropout(Tensor x, float probability, ulong seed, Tensor destination) { using (Time("Dropout " + S(x))) Inner.Dropout(x, probability, seed, destination); }

    /// <inheritdoc />
    public void AdamW(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamWStep step) { using (Time("AdamW")) Inner.AdamW(param, grad, expAvg, expAvgSq, step); }

    /// <inheritdoc />
    public void Softmax(Tensor x, Tensor destination) { using (Time("Softmax " + S(x))) Inner.Softmax(x, destination); }

    /// <inheritdoc />
    public void GatherRows(Tensor source, Tensor indices, Tensor destination) { using (Time("GatherRows")) Inner.GatherRows(source, indices, destination); }

    /// <inheritdoc />
    public void Argmax(Tensor x, Tensor destination) { using (Time("Argmax")) Inner.Argmax(x, destination); }

    /// <summary>The kernels by total time, as a table: calls, milliseconds per <paramref name="perSteps"/> steps, share of <paramref name="totalSeconds"/>, GFLOP/s.</summary>
    public string Report(int perSteps, double totalSeconds, int top = 40)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(System.FormattableString.Invariant($"{"kernel [shape]",-72} {"calls",6} {"ms/step",9} {"share",6} {"GFLOP/s",8}"));
        foreach (var (key, t) in _totals.OrderByDescending(kv => kv.Value.Seconds).Take(top))
            sb.AppendLine(System.FormattableString.Invariant(
                $"{key,-72} {t.Calls / perSteps,6} {t.Seconds / perSteps * 1e3,9:F1} {t.Seconds / perSteps / totalSeconds,6:P0} {(t.Flops > 0 ? t.Flops / t.Seconds / 1e9 : 0),8:F0}"));
        return sb.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => Inner.Dispose();
}
