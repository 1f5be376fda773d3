using System.Text.Json;
using SharpTune.Numerics;

namespace SharpTune.Models.Safetensors;

/// <summary>One tensor entry of a validated header: its info and its byte range inside the data area.</summary>
/// <param name="Info">Name, dtype and shape.</param>
/// <param name="Begin">Start offset relative to the start of the data area.</param>
/// <param name="End">End offset (exclusive) relative to the start of the data area.</param>
internal readonly record struct SafetensorsEntry(TensorInfo Info, long Begin, long End);

/// <summary>
/// Parses and validates a safetensors header before any tensor is touched: JSON well-formed and an object,
/// every entry with a known dtype, a non-negative shape and two offsets, shape × dtype size equal to the byte
/// length, ranges inside the data area, contiguous and non-overlapping and covering it exactly (as the
/// reference implementation requires), and <c>__metadata__</c> a string-to-string map. Each failure is a
/// <see cref="UserException"/> naming the file and the tensor.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The reference implementation's bound on the header length (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The largest tensor that <see cref="ITensorSource.GetBytes"/> can return as one span.</summary>
    public const long MaxTensorBytes = int.MaxValue;

    /// <summary>Validates <paramref name="json"/>; <paramref name="dataLength"/> is the file length minus 8 minus the header.</summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> json, long dataLength, string file)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new UserException($"{file}: not a safetensors file (the header does not start with '{{')");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new UserException($"{file}: safetensors header is not valid JSON (byte {e.BytePositionInLine}): {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{file}: safetensors header must be a JSON object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in root.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw new UserException($"{file}: safetensors header names '{prop.Name}' twice");
                if (prop.Name == "__metadata__") { if (prop.Value.ValueKind != JsonValueKind.Null) ReadMetadata(prop.Value, metadata, file); }
                else entries.Add(ReadEntry(prop.Name, prop.Value, dataLength, file));
            }
            CheckLayout(entries, dataLength, file);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new UserException($"{file}: __metadata__ must be an object mapping strings to strings");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new UserException($"{file}: __metadata__ entry '{m.Name}' must be a string, got {m.Value.ValueKind.ToString().ToLowerInvariant()}");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, long dataLength, string file)
    {
        string where = $"{file}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw new UserException($"{where}: expected an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new UserException($"{where}: missing string field 'dtype'");
        var dtypeName = dt.GetString()!;
        var dtype = TensorDTypes.FromSafetensorsName(dtypeName)
            ?? throw new UserException($"{where}: dtype '{dtypeName}' is not supported (expected F32, BF16 or F16)");
        if (!value.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new UserException($"{where}: missing list field 'shape'");
        var shape = new long[sh.GetArrayLength()];
        long elements = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw new UserException($"{where}: shape[{i}] must be a non-negative integer, got {d.GetRawText()}");
            shape[i++] = dim;
            // Overflowing products cannot match any real byte length; stop at the bound instead of wrapping.
            elements = dim == 0 || elements == 0 ? 0 : elements > long.MaxValue / 4 / dim ? long.MaxValue / 4 : elements * dim;
        }
        if (!value.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new UserException($"{where}: 'data_offsets' must be a list of two integers [begin, end]");
        var b = off[0];
        var e = off[1];
        if (b.ValueKind != JsonValueKind.Number || !b.TryGetInt64(out var begin) || begin < 0
            || e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var end) || end < 0)
            throw new UserException($"{where}: data_offsets must be non-negative integers, got {off.GetRawText()}");
        if (end < begin) throw new UserException($"{where}: data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw new UserException($"{where}: data_offsets [{begin}, {end}] run past the end of the data area ({dataLength} bytes; truncated file?)");
        long expected = elements * dtype.SizeOf();
        if (end - begin != expected)
            throw new UserException($"{where}: shape [{string.Join(", ", shape)}] × {dtypeName} needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        if (expected > MaxTensorBytes)
            throw new UserException($"{where}: {expected} bytes exceeds SharpTune's limit of {MaxTensorBytes} bytes (2 GiB) per tensor");
        return new SafetensorsEntry(new TensorInfo(name, dtype, shape), begin, end);
    }

    private static void CheckLayout(List<SafetensorsEntry> entries, long dataLength, string file)
    {
        entries.Sort((x, y) => x.Begin != y.Begin ? x.Begin.CompareTo(y.Begin) : x.End.CompareTo(y.End));
        long cursor = 0;
        string? previous = null;
        foreach (var entry in entries)
        {
            if (entry.Begin < cursor)
                throw new UserException($"{file}: tensor '{entry.Info.Name}' (bytes {entry.Begin}..{entry.End}) overlaps tensor '{previous}' (ending at {cursor})");
            if (entry.Begin > cursor)
                throw new UserException($"{file}: tensor '{entry.Info.Name}' starts at byte {entry.Begin} but the data before it ends at {cursor} (tensors must be contiguous)");
            cursor = entry.End;
            previous = entry.Info.Name;
        }
        if (cursor != dataLength)
            throw new UserException($"{file}: the tensors cover {cursor} bytes of a {dataLength}-byte data area (trailing bytes or a wrong header length)");
    }
}
