using System.Text.Json;
using SharpTune.IO;
using SharpTune.Numerics;

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
            foreach (var info in infos)
            {
                var bytes = source.GetBytes(info.Name);
                // A source whose bytes disagree with its own shape would yield a file every reader rejects.
                if (bytes.Length != info.ByteLength)
                    throw new InvalidOperationException($"tensor {info.Name}: source returned {bytes.Length} bytes for shape [{string.Join(", ", info.Shape)}] × {info.DType} ({info.ByteLength} bytes)");
                stream.Write(bytes);
            }
        });
    }

    /// <summary>
    /// Writes a sharded checkpoint into <paramref name="directory"/>: shards named
    /// <c>model-00001-of-0000N.safetensors</c>, each holding whole tensors up to about
    /// <paramref name="maxShardBytes"/> (a larger tensor gets a shard of its own), and
    /// <c>model.safetensors.index.json</c> with <c>metadata.total_size</c> and the <c>weight_map</c>, as
    /// transformers' <c>save_pretrained</c> lays them out. Returns the shard file names.
    /// </summary>
    public static IReadOnlyList<string> WriteSharded(string directory, ITensorSource source, long maxShardBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        var groups = new List<List<TensorInfo>> { new() };
        long current = 0, total = 0;
        foreach (var name in source.Names)
        {
            var info = source.TryGetInfo(name, out var i) ? i : throw new InvalidOperationException(name);
            if (groups[^1].Count > 0 && current + info.ByteLength > maxShardBytes) { groups.Add([]); current = 0; }
            groups[^1].Add(info);
            current += info.ByteLength;
            total += info.ByteLength;
        }
        var files = new List<string>();
        var weightMap = new List<(string Name, string File)>();
        for (int g = 0; g < groups.Count; g++)
        {
            var file = $"model-{g + 1:D5}-of-{groups.Count:D5}.safetensors";
            var subset = new TensorSubset(source, groups[g]);
            Write(Path.Combine(directory, file), subset);
            files.Add(file);
            weightMap.AddRange(groups[g].Select(t => (t.Name, file)));
        }
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", total);
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap.OrderBy(x => x.Name, StringComparer.Ordinal)) w.WriteString(name, file);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        // The index goes last: until it exists the folder does not look like a complete checkpoint.
        AtomicFile.WriteAllBytes(Path.Combine(directory, SafetensorsCheckpoint.IndexFileName), ms.ToArray());
        return files;
    }

    /// <summary>A view of some of a source's tensors, for writing one shard.</summary>
    private sealed class TensorSubset(ITensorSource source, List<TensorInfo> infos) : ITensorSource
    {
        private readonly Dictionary<string, TensorInfo> _byName = infos.ToDictionary(i => i.Name, StringComparer.Ordinal);

        public IReadOnlyList<string> Names { get; } = infos.Select(i => i.Name).ToList();

        public bool TryGetInfo(string name, out TensorInfo info) => _byName.TryGetValue(name, out info!);

        public ReadOnlySpan<byte> GetBytes(string name) => source.GetBytes(name);

        public void Dispose() { }
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
