using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// RoPE cos/sin tables <c>[positions, headDim/2]</c> computed in float32 the way transformers does
/// (<c>inv_freq = 1 / theta^(2i/d)</c>, optional llama3 frequency scaling, <c>freq = position · inv_freq</c>).
/// The one place they are built: loaded weights and the trainable decoder's own parameters both upload them here.
/// </summary>
internal static class RopeTables
{
    /// <summary>Positions covered when the caller asks for none in particular: the config's, at most 2¹⁷.</summary>
    public static int DefaultPositions(ModelConfig config) => Math.Min(config.MaxPositionEmbeddings, 1 << 17);

    /// <summary>
    /// Builds the tables for <paramref name="positions"/> positions (0: <see cref="DefaultPositions"/>) and uploads them
    /// into <paramref name="arena"/>: <c>cos, sin [positions, headDim/2]</c>.
    /// </summary>
    public static (Tensor Cos, Tensor Sin) Upload(ModelConfig config, int positions, IComputeBackend backend, Arena arena)
    {
        if (positions <= 0) positions = DefaultPositions(config);
        var cos = new float[(long)positions * config.HeadDim / 2];
        var sin = new float[cos.Length];
        Fill(config, positions, cos, sin);
        var cosT = arena.Allocate(ElementType.F32, positions, config.HeadDim / 2);   // [positions, headDim/2]
        var sinT = arena.Allocate(ElementType.F32, positions, config.HeadDim / 2);   // [positions, headDim/2]
        backend.Upload(cos, cosT);
        backend.Upload(sin, sinT);
        return (cosT, sinT);
    }

    /// <summary>The inverse frequencies, one per rotated pair.</summary>
    public static float[] InverseFrequencies(ModelConfig config)
    {
        int d = config.HeadDim, half = d / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            float exponent = (float)(2 * i) / d;
            inv[i] = 1f / (float)Math.Pow(config.RopeTheta, exponent);
        }
        if (config.RopeScaling is { } s)
        {
            if (!string.Equals(s.Type, "llama3", StringComparison.Ordinal))
                throw new UserException($"config.json: rope_scaling type '{s.Type}' is not supported (only 'llama3')");
            // transformers' _compute_llama3_parameters
            double lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
            double highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
            for (int i = 0; i < half; i++)
            {
                float f = inv[i];
                float wavelen = 2f * MathF.PI / f;
                float scaled = wavelen > lowWavelen ? f / (float)s.Factor : f;
                bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
                if (medium)
                {
                    float smooth = (float)((s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor));
                    scaled = (1 - smooth) * scaled / (float)s.Factor + smooth * scaled;
                }
                inv[i] = scaled;
            }
        }
        return inv;
    }

    /// <summary>Fills <paramref name="cos"/> and <paramref name="sin"/> (<c>[positions, headDim/2]</c>).</summary>
    public static void Fill(ModelConfig config, int positions, Span<float> cos, Span<float> sin)
    {
        var inv = InverseFrequencies(config);
        int half = inv.Length;
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < half; i++)
            {
                float freq = p * inv[i];
                cos[p * half + i] = (float)Math.Cos(freq);
                sin[p * half + i] = (float)Math.Sin(freq);
            }
    }
}
