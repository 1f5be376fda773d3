using System.Text;
using System.Text.Json;
using SharpTune.IO;

namespace SharpTune.Models.Safetensors;

/// <summary>
/// Writes the safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
/// dtype, shape and data offsets, padded with spaces to a multiple of 8 bytes, then the raw tensor data in
/// header order. Written atomically.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes every tensor of <paramref name="source"/> (in its name order) to <paramref name="path"/>.</summary>
    public static void Write(string path, ITensorSource source, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var infos = source.Names.Select(n => source.TryGetInfo(n, out var i) ? i : throw new InvalidOperationException(n)).ToList();
        byte[] header = BuildHeader(infos, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            foreach (var info in infos) stream.Write(source.GetBytes(info.Name));
        });
    }

    internal static byte[] BuildHeader(IReadOnlyList<TensorInfo> infos, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var info in infos)
            {
                w.WriteStartObject(info.Name);
                w.WriteString("dtype", info.DType.SafetensorsName());
                w.WriteStartArray("shape");
                foreach (var d in info.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + info.ByteLength);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += info.ByteLength;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }
}
