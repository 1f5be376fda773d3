using System.Runtime.InteropServices;

namespace SharpTune.Models;

/// <summary>
/// Reads a llama2.c "legacy" (version 0) checkpoint — Karpathy's TinyStories models such as stories260K — as a
/// Hugging Face <c>LlamaForCausalLM</c>: config plus tensors under transformers' names. The header is seven
/// little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab size
/// means an untied classifier follows the weights), then float32 weights in llama2.c's order: token embedding,
/// rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, two legacy freq_cis tables (ignored), [wcls].
/// llama2.c applies RoPE to interleaved pairs while transformers rotates halves, so wq and wk rows are permuted per
/// head exactly as transformers' own Llama conversion script does.
/// </summary>
public static class Llama2cCheckpoint
{
    private const int HeaderInts = 7;

    /// <summary>Reads <paramref name="path"/>; errors name the file and what is wrong.</summary>
    public static (ModelConfig Config, InMemoryTensorSource Weights) Read(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected a llama2.c checkpoint .bin)");
        long length = new FileInfo(path).Length;
        if (length < HeaderInts * 4) throw new UserException($"{path}: {length} bytes is too short for a llama2.c checkpoint header");
        if (length > Array.MaxLength) throw new UserException($"{path}: {length} bytes; llama2.c checkpoints up to {Array.MaxLength} bytes are supported");
        var bytes = File.ReadAllBytes(path);
        var header = MemoryMarshal.Cast<byte, int>(bytes.AsSpan(0, HeaderInts * 4));
        if (BitConverter.ToUInt32(bytes, 0) == 0x616b3432)
            throw new UserException($"{path}: a llama2.c version 1/2 checkpoint (magic 'ak42'); only the legacy version 0 export is supported");
        int dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kvHeads = header[4], vocabSigned = header[5], seqLen = header[6];
        bool shared = vocabSigned > 0;
        int vocab = Math.Abs(vocabSigned);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0)
            throw new UserException($"{path}: header [dim {dim}, hidden_dim {hidden}, n_layers {layers}, n_heads {heads}, n_kv_heads {kvHeads}, vocab_size {vocabSigned}, seq_len {seqLen}] has a non-positive field (not a llama2.c checkpoint?)");
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
            throw new UserException($"{path}: dim {dim}, n_heads {heads}, n_kv_heads {kvHeads} do not give an even head size shared by grouped heads");
        int headDim = dim / heads, kvDim = kvHeads * headDim;

        // Sizes in float32 elements, in file order.
        long L = layers;
        var parts = new (string Part, long Count)[]
        {
            ("token_embedding", (long)vocab * dim), ("rms_att", L * dim), ("wq", L * dim * dim), ("wk", L * kvDim * dim),
            ("wv", L * kvDim * dim), ("wo", L * dim * dim), ("rms_ffn", L * dim), ("w1", L * hidden * dim), ("w2", L * dim * hidden),
            ("w3", L * hidden * dim), ("rms_final", dim), ("freq_cis", (long)seqLen * headDim), ("wcls", shared ? 0 : (long)vocab * dim),
        };
        long expected = HeaderInts * 4 + 4 * parts.Sum(p => p.Count);
        if (expected != length)
            throw new UserException($"{path}: the header [dim {dim}, hidden_dim {hidden}, n_layers {layers}, n_heads {heads}, n_kv_heads {kvHeads}, vocab_size {vocabSigned}, seq_len {seqLen}] implies {expected} bytes, the file has {length}");

        var offsets = new Dictionary<string, int>();
        int cursor = 0;
        foreach (var (part, count) in parts)
        {
            offsets[part] = cursor;
            cursor += (int)count;
        }
        ReadOnlySpan<float> Slice(string part, long index, long count) =>
            MemoryMarshal.Cast<byte, float>(bytes.AsSpan(HeaderInts * 4 + 4 * (offsets[part] + (int)(index * count)), 4 * (int)count));

        var config = new ModelConfig
        {
            Architecture = ModelArchitecture.Llama,
            HiddenSize = dim,
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            IntermediateSize = hidden,
            VocabSize = vocab,
            RmsNormEps = 1e-5,
            RopeTheta = 10000,
            MaxPositionEmbeddings = seqLen,
            TieWordEmbeddings = shared,
            TorchDtype = "float32",
            BosTokenIds = [1],
            EosTokenIds = [2],
        };
        var w = new InMemoryTensorSource();
        foreach (var t in CheckpointLayout.For(config).Tensors)
        {
            long n = t.ElementCount;
            ReadOnlySpan<float> data = t.Role switch
            {
                TensorRole.Embedding => Slice("token_embedding", 0, n),
                TensorRole.AttentionNorm => Slice("rms_att", t.Layer, n),
                TensorRole.QueryWeight => PermuteForRotateHalf(Slice("wq", t.Layer, n), heads, headDim, dim),
                TensorRole.KeyWeight => PermuteForRotateHalf(Slice("wk", t.Layer, n), kvHeads, headDim, dim),
                TensorRole.ValueWeight => Slice("wv", t.Layer, n),
                TensorRole.OutputWeight => Slice("wo", t.Layer, n),
                TensorRole.MlpNorm => Slice("rms_ffn", t.Layer, n),
                TensorRole.GateWeight => Slice("w1", t.Layer, n),
                TensorRole.DownWeight => Slice("w2", t.Layer, n),
                TensorRole.UpWeight => Slice("w3", t.Layer, n),
                TensorRole.FinalNorm => Slice("rms_final", 0, n),
                TensorRole.LmHead => Slice("wcls", 0, n),
                _ => throw new InvalidOperationException($"llama2.c has no {t.Role}"),
            };
            w.Add(t.Name, t.Shape, data);
        }
        return (config, w);
    }

    /// <summary>
    /// Reorders the rows of a [heads·headDim, cols] projection from interleaved RoPE pairs (2i, 2i+1) to halves
    /// (i, i + headDim/2): row h·hd + 2i + j moves to h·hd + j·hd/2 + i — transformers'
    /// <c>w.view(h, hd // 2, 2, cols).transpose(1, 2).reshape(h * hd, cols)</c>.
    /// </summary>
    internal static float[] PermuteForRotateHalf(ReadOnlySpan<float> weight, int heads, int headDim, int cols)
    {
        var result = new float[weight.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                {
                    int from = h * headDim + 2 * i + j, to = h * headDim + j * half + i;
                    weight.Slice(from * cols, cols).CopyTo(result.AsSpan(to * cols, cols));
                }
        return result;
    }
}
