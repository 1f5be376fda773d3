using System.Runtime.InteropServices;
using SharpTune.Numerics;

namespace SharpTune.Engine.Cpu;

/// <summary>
/// Lays checkpoint bytes out in a <see cref="CpuLinearWeight"/>'s layout (HF row-major, or the panels of its kernel
/// set's GEMM), converting the element type on the way. Runs once per weight at load; the GEMM and embedding parity
/// tests check every layout through the kernels that read it.
/// </summary>
internal static unsafe class WeightPacker
{
    /// <summary>Fills <paramref name="w"/> from <c>data [w.OutFeatures, w.InFeatures]</c> of <paramref name="dtype"/> (lengths checked by the caller).</summary>
    public static void Pack(ReadOnlySpan<byte> data, TensorDType dtype, CpuLinearWeight w)
    {
        int inFeatures = w.InFeatures, size = dtype.SizeOf();
        long stride = w.PanelWidth == 0 ? 1 : w.PanelWidth;
        for (int r = 0; r < w.OutFeatures; r++)
        {
            long dst = w.IndexOf(r, 0);
            var row = data.Slice(r * inFeatures * size, inFeatures * size);
            if (w.Storage == ElementType.F32)
            {
                float* p = (float*)w.Data + dst;
                for (int k = 0; k < inFeatures; k++) p[k * stride] = ReadAsSingle(row, dtype, k);
            }
            else
            {
                ushort* p = (ushort*)w.Data + dst;
                if (dtype == TensorDType.BF16)
                {
                    var bits = MemoryMarshal.Cast<byte, ushort>(row);
                    for (int k = 0; k < inFeatures; k++) p[k * stride] = bits[k];
                }
                else
                    for (int k = 0; k < inFeatures; k++) p[k * stride] = BFloat16.FromSingle(ReadAsSingle(row, dtype, k));
            }
        }
    }

    private static float ReadAsSingle(ReadOnlySpan<byte> row, TensorDType dtype, int k) => dtype switch
    {
        TensorDType.F32 => MemoryMarshal.Cast<byte, float>(row)[k],
        TensorDType.BF16 => BFloat16.ToSingle(MemoryMarshal.Cast<byte, ushort>(row)[k]),
        _ => (float)MemoryMarshal.Cast<byte, Half>(row)[k],
    };
}
