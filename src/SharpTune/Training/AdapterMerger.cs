using System.Numerics;
using System.Runtime.InteropServices;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Numerics;

namespace SharpTune.Training;

/// <summary>
/// Folds a LoRA adapter into its base weights, as PEFT's <c>merge_and_unload</c> does: each adapted
/// <c>W [out, in]</c> becomes <c>W + (B · A) · scaling</c>. SharpTune computes in float32 — <c>B · A</c> accumulated
/// over the rank in order k = 0 … r−1, then scaled, then added to W widened to float32 — and rounds once to the base
/// tensor's dtype (BF16 to nearest even, F16 by IEEE rounding). PEFT on a CPU rounds the delta to BF16/F16 before the
/// add, so a merged BF16 weight may differ from PEFT's by one unit in the last place, toward the exact sum.
/// </summary>
public static class AdapterMerger
{
    private const int ElementsPerTask = 1 << 16;

    /// <summary>
    /// Every tensor of <paramref name="baseWeights"/>, in its order and dtype, with each weight the adapter adapts
    /// replaced by the merged one; the others are bit-identical copies. A base tensor the adapter needs that is
    /// missing or mis-shaped is a <see cref="UserException"/>.
    /// </summary>
    public static InMemoryTensorSource MergeInto(ITensorSource baseWeights, ModelConfig config, LoraAdapterWeights adapter)
    {
        var byName = new Dictionary<string, LoraModuleWeights>(StringComparer.Ordinal);
        foreach (var m in adapter.Modules)
        {
            var name = m.Target.BaseWeightName(m.Layer);
            if (m.Layer >= config.NumLayers || m.Target.Shape(config) != (m.OutFeatures, m.InFeatures))
                throw new UserException($"adapter module {m.PeftPrefix} [{m.OutFeatures}, {m.InFeatures}] does not fit the model's config ({config.NumLayers} layers, {m.Target.ModuleName()} {m.Target.Shape(config)})");
            if (m.A.Length != (long)adapter.Config.Rank * m.InFeatures || m.B.Length != (long)m.OutFeatures * adapter.Config.Rank)
                throw new ArgumentException($"module {m.PeftPrefix}: A or B does not hold rank {adapter.Config.Rank} × its features", nameof(adapter));
            if (!byName.TryAdd(name, m)) throw new ArgumentException($"module {m.PeftPrefix} appears twice", nameof(adapter));
            if (!baseWeights.TryGetInfo(name, out var info))
                throw new UserException($"base weights have no tensor {name}, which the adapter adapts");
            if (!info.Shape.SequenceEqual([(long)m.OutFeatures, m.InFeatures]))
                throw new UserException($"base tensor {name} is [{string.Join(", ", info.Shape)}]; the adapter expects [{m.OutFeatures}, {m.InFeatures}]");
        }
        float scaling = (float)adapter.Config.Scaling;
        var result = new InMemoryTensorSource();
        foreach (var name in baseWeights.Names)
        {
            var info = baseWeights.GetInfo(name);
            if (!byName.TryGetValue(name, out var module))
            {
                result.Add(name, info.DType, info.Shape, baseWeights.GetBytes(name));
                continue;
            }
            var merged = new byte[info.ByteLength];
            Merge(baseWeights.GetBytes(name), info.DType, module, adapter.Config.Rank, scaling, merged);
            result.AddOwned(name, info.DType, info.Shape, merged);
        }
        return result;
    }

    /// <summary>
    /// Merges the adapter in <paramref name="adapterDir"/> into the model folder <paramref name="modelDir"/> and writes
    /// a full Hugging Face model folder to the new or empty <paramref name="outDir"/>, atomically: config.json and the
    /// tokenizer files init-model copies (<see cref="ModelInitializer.TokenizerFiles"/>, where present) copied byte for
    /// byte, and one model.safetensors (metadata <c>format: pt</c>). The merged model is held in memory while it is
    /// written; the base stays memory-mapped. Returns the adapter that was merged.
    /// </summary>
    public static LoraAdapterWeights MergeFolder(string modelDir, string adapterDir, string outDir)
    {
        using var model = ModelFolder.Open(modelDir);
        var adapter = PeftAdapter.Load(adapterDir, model.Config);
        using var merged = MergeInto(model.Weights, model.Config, adapter);
        AtomicDirectory.Create(outDir, tmp =>
        {
            File.Copy(Path.Combine(modelDir, "config.json"), Path.Combine(tmp, "config.json"));
            SafetensorsWriter.Write(Path.Combine(tmp, SafetensorsCheckpoint.SingleFileName), merged, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var f in ModelInitializer.TokenizerFiles)
            {
                var from = Path.Combine(modelDir, f);
                if (File.Exists(from)) File.Copy(from, Path.Combine(tmp, f));
            }
        });
        return adapter;
    }

    /// <summary>Writes W + (B·A)·scaling into <paramref name="destination"/> (same dtype as the source), rows in parallel.</summary>
    private static unsafe void Merge(ReadOnlySpan<byte> source, TensorDType dtype, LoraModuleWeights m, int rank, float scaling, byte[] destination)
    {
        int rows = m.OutFeatures, cols = m.InFeatures, size = dtype.SizeOf();
        int rowsPerTask = Math.Max(1, ElementsPerTask / Math.Max(1, cols * Math.Max(1, rank)));
        int tasks = (rows + rowsPerTask - 1) / rowsPerTask;
        fixed (byte* src = source)
        {
            nint srcAddress = (nint)src;
            Parallel.For(0, tasks, () => new float[cols], (task, _, w) =>
            {
                int end = Math.Min(rows, (task + 1) * rowsPerTask);
                fixed (float* a = m.A, b = m.B, wp = w)
                {
                    for (int o = task * rowsPerTask; o < end; o++)
                    {
                        long offset = (long)o * cols * size;
                        Widen(new ReadOnlySpan<byte>((byte*)srcAddress + offset, cols * size), dtype, w);
                        MergeRow(wp, a, b + (long)o * rank, rank, cols, scaling);
                        Narrow(w, dtype, destination.AsSpan((int)offset, cols * size));
                    }
                }
                return w;
            }, _ => { });
        }
    }

    /// <summary>
    /// w[i] += (Σ_k b[k]·a[k, i]) · scaling for one row. Each sum stays in a register across the rank and runs in
    /// k order with separate multiply and add (no fused multiply-add), so SIMD lanes give exactly the scalar result.
    /// </summary>
    private static unsafe void MergeRow(float* w, float* a, float* b, int rank, int cols, float scaling)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scaling);
            for (; i <= cols - Vector<float>.Count; i += Vector<float>.Count)
            {
                var sum = Vector<float>.Zero;
                for (int k = 0; k < rank; k++) sum += Vector.Load(a + (long)k * cols + i) * new Vector<float>(b[k]);
                Vector.Store(Vector.Load(w + i) + sum * s, w + i);
            }
        }
        for (; i < cols; i++)
        {
            float sum = 0;
            for (int k = 0; k < rank; k++) sum += a[(long)k * cols + i] * b[k];
            w[i] += sum * scaling;
        }
    }

    private static void Widen(ReadOnlySpan<byte> bytes, TensorDType dtype, Span<float> values)
    {
        switch (dtype)
        {
            case TensorDType.F32: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values); break;
            case TensorDType.BF16: BFloat16.ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), values); break;
            default:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < halves.Length; i++) values[i] = (float)halves[i];
                break;
        }
    }

    private static void Narrow(ReadOnlySpan<float> values, TensorDType dtype, Span<byte> bytes)
    {
        switch (dtype)
        {
            case TensorDType.F32: values.CopyTo(MemoryMarshal.Cast<byte, float>(bytes)); break;
            case TensorDType.BF16: BFloat16.FromSingle(values, MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            default:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < values.Length; i++) halves[i] = (Half)values[i];
                break;
        }
    }
}
