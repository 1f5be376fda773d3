using System.Runtime.InteropServices;
using SharpTune.Numerics;

namespace SharpTune.Models;

/// <summary>
/// A randomly initialized model as transformers' <c>_init_weights</c> makes one: linear and embedding weights
/// normal(0, <c>initializer_range</c>), biases 0, RMSNorm weights 1 (no padding row is zeroed: SharpTune writes no
/// <c>pad_token_id</c>).
/// <para>
/// Randomness is counter-based, so any element can be computed independently (the fill runs in parallel and the
/// result does not depend on thread count or tensor order): for tensor name <c>n</c> and element pair <c>j</c>,
/// two 64-bit words are <c>mix(key + 2j)</c> and <c>mix(key + 2j + 1)</c>, where <c>mix</c> is one SplitMix64
/// step (add the golden gamma, then its finalizer) and <c>key = mix(seed ^ mix(fnv1a64(n)))</c>; their top 53 bits give uniforms u1 ∈ (0, 1], u2 ∈ [0, 1),
/// and Box-Muller turns them into elements 2j and 2j+1: √(−2 ln u1)·cos(2πu2) and √(−2 ln u1)·sin(2πu2), times the
/// standard deviation, computed in double and rounded to float32 (BF16 then rounds that float32 to nearest even,
/// as <c>model.to(torch.bfloat16)</c> would). Same seed, same bytes on a given machine; bit-identity across
/// operating systems also depends on <c>Math.Log</c>/<c>Math.Cos</c>/<c>Math.Sin</c>, which .NET takes from the
/// platform's C library.
/// </para>
/// </summary>
public static class ModelInitializer
{
    private const int PairsPerChunk = 1 << 15;

    /// <summary>Creates every parameter of <paramref name="config"/>'s layout, in <paramref name="dtype"/> (F32 or BF16).</summary>
    public static InMemoryTensorSource Initialize(ModelConfig config, ulong seed, TensorDType dtype = TensorDType.F32)
    {
        if (dtype is not (TensorDType.F32 or TensorDType.BF16))
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "initialization writes F32 or BF16");
        var layout = CheckpointLayout.For(config);
        var source = new InMemoryTensorSource();
        foreach (var t in layout.Tensors)
        {
            long bytes = t.ElementCount * dtype.SizeOf();
            if (bytes > Array.MaxLength)
                throw new UserException($"tensor {t.Name} would be {bytes} bytes; SharpTune holds tensors up to {Array.MaxLength} bytes each");
            var data = new byte[bytes];
            var std = (float)config.InitializerRange;
            if (dtype == TensorDType.F32)
            {
                var values = MemoryMarshal.Cast<byte, float>(data.AsSpan());
                Fill(values, t, seed, std);
            }
            else
            {
                // Generate in float32 chunk by chunk, then round, so no float32 copy of a large tensor is needed.
                FillBf16(data, t, seed, std);
            }
            source.AddOwned(t.Name, dtype, t.Shape, data);
        }
        return source;
    }

    private static void Fill(Span<float> values, CheckpointTensor t, ulong seed, float std)
    {
        switch (t.Init)
        {
            case TensorInit.Ones: values.Fill(1f); break;
            case TensorInit.Zeros: values.Clear(); break;
            default: FillNormalParallel(values, seed, t.Name, std); break;
        }
    }

    private static void FillBf16(byte[] data, CheckpointTensor t, ulong seed, float std)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(data.AsSpan());
        switch (t.Init)
        {
            case TensorInit.Ones: bits.Fill(BFloat16.FromSingle(1f)); return;
            case TensorInit.Zeros: bits.Clear(); return;
        }
        ulong key = StreamKey(seed, t.Name);
        long pairs = (bits.Length + 1) / 2;
        long chunks = (pairs + PairsPerChunk - 1) / PairsPerChunk;
        Parallel.For(0L, chunks, () => new float[2 * PairsPerChunk], (c, _, scratch) =>
        {
            long firstPair = c * PairsPerChunk;
            int count = (int)Math.Min(2L * PairsPerChunk, data.Length / 2 - 2 * firstPair);
            var f = scratch.AsSpan(0, count);
            NormalPairs(f, key, firstPair, std);
            var dst = MemoryMarshal.Cast<byte, ushort>(data.AsSpan((int)(firstPair * 4), count * 2));
            BFloat16.FromSingle(f, dst);
            return scratch;
        }, _ => { });
    }

    /// <summary>Fills <paramref name="values"/> with normal(0, std) draws of tensor <paramref name="name"/>'s stream.</summary>
    internal static void FillNormalParallel(Span<float> values, ulong seed, string name, float std)
    {
        ulong key = StreamKey(seed, name);
        long pairs = (values.Length + 1L) / 2;
        long chunks = (pairs + PairsPerChunk - 1) / PairsPerChunk;
        int length = values.Length;
        unsafe
        {
            fixed (float* p = values)
            {
                nint address = (nint)p;
                Parallel.For(0L, chunks, c =>
                {
                    long firstPair = c * PairsPerChunk;
                    int count = (int)Math.Min(2L * PairsPerChunk, length - 2 * firstPair);
                    NormalPairs(new Span<float>((float*)address + 2 * firstPair, count), key, firstPair, std);
                });
            }
        }
    }

    /// <summary>Elements 2·firstPair … of the stream <paramref name="key"/> (an odd length drops the last sine).</summary>
    internal static void NormalPairs(Span<float> dst, ulong key, long firstPair, float std)
    {
        for (int i = 0; i < dst.Length; i += 2)
        {
            ulong counter = key + 2 * (ulong)(firstPair + i / 2);
            double u1 = ((SplitMix64.Mix(counter) >> 11) + 1) * (1.0 / (1UL << 53));   // (0, 1]: log is finite
            double u2 = (SplitMix64.Mix(counter + 1) >> 11) * (1.0 / (1UL << 53));     // [0, 1)
            double r = Math.Sqrt(-2.0 * Math.Log(u1)) * std;
            double angle = 2.0 * Math.PI * u2;
            dst[i] = (float)(r * Math.Cos(angle));
            if (i + 1 < dst.Length) dst[i + 1] = (float)(r * Math.Sin(angle));
        }
    }

    /// <summary>The per-tensor stream key: depends on the seed and the tensor's name only.</summary>
    internal static ulong StreamKey(ulong seed, string name)
    {
        ulong h = 14695981039346656037UL; // FNV-1a 64 over the UTF-16 code units
        foreach (char ch in name)
        {
            h ^= ch;
            h *= 1099511628211UL;
        }
        return SplitMix64.Mix(seed ^ SplitMix64.Mix(h));
    }

    /// <summary>Tokenizer files copied into a model folder; the first two must exist.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "chat_template.jinja"];

    /// <summary>
    /// Writes a randomly initialized model folder — config.json, model.safetensors and copies of the tokenizer files
    /// found in <paramref name="tokenizerDir"/> — atomically (a temporary folder renamed at the end).
    /// </summary>
    public static void WriteFolder(ModelConfig config, ulong seed, TensorDType dtype, string tokenizerDir, string outDir)
    {
        using var weights = Initialize(config, seed, dtype);
        IO.AtomicDirectory.Create(outDir, tmp =>
        {
            ModelConfigJson.Save(Path.Combine(tmp, "config.json"), config);
            Safetensors.SafetensorsWriter.Write(Path.Combine(tmp, Safetensors.SafetensorsCheckpoint.SingleFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var f in TokenizerFiles)
            {
                var from = Path.Combine(tokenizerDir, f);
                if (File.Exists(from)) File.Copy(from, Path.Combine(tmp, f));
            }
        });
    }
}
