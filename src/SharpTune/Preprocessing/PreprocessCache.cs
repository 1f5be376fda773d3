using SharpTune.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpTune.Preprocessing;

/// <summary>
/// A content-addressed store of tokenized datasets under <c>.cache/preprocessed/&lt;key&gt;/</c>. The key hashes every
/// input that can change the tokens: the data file bytes, tokenizer.json and tokenizer_config.json bytes, the
/// template text, every preprocessing option, and <see cref="PipelineVersion"/>. An entry holds <c>data.bin</c>
/// (binary layout below), <c>manifest.json</c> (all key components and the SHA-256 of data.bin), <c>report.jsonl</c>
/// (one line per truncated, dropped or mismatched sample) and <c>prompt_settings.json</c> (the
/// <see cref="PromptSettings"/> the samples were rendered with, see <see cref="PromptSettingsFile"/>). Entries are
/// written into a temporary folder and renamed; a corrupted or partial entry fails its checksum and is rebuilt.
/// </summary>
public sealed class PreprocessCache
{
    /// <summary>Bumped whenever preprocessing would produce different tokens for the same inputs.</summary>
    public const int PipelineVersion = 1;

    internal static ReadOnlySpan<byte> Magic => "STPPDATA"u8;
    internal const int FormatVersion = 1;

    /// <summary>Creates a cache rooted at <paramref name="root"/> (e.g. <c>.cache/preprocessed</c>).</summary>
    public PreprocessCache(string root) => Root = root;

    /// <summary>The cache folder.</summary>
    public string Root { get; }

    /// <summary>The folder of the entry with <paramref name="key"/>.</summary>
    public string EntryPath(string key) => Path.Combine(Root, key);

    /// <summary>
    /// Computes the key from named components: byte contents (files) and strings (template text, options JSON).
    /// Components are hashed with their names and lengths so no two different inputs collide by concatenation.
    /// </summary>
    public static string Key(IReadOnlyDictionary<string, byte[]> components)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var len = new byte[8];
        void Add(ReadOnlySpan<byte> b)
        {
            BinaryPrimitives.WriteInt64LittleEndian(len, b.Length);
            h.AppendData(len);
            h.AppendData(b);
        }
        Add(Encoding.UTF8.GetBytes($"pipeline-version={PipelineVersion}"));
        foreach (var (name, bytes) in components.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(Encoding.UTF8.GetBytes(name));
            Add(bytes);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset())[..32];
    }

    /// <summary>Loads the entry, or returns null when it is absent, partial or corrupted (the caller rebuilds it).</summary>
    public TokenizedDataset? TryLoad(string key, out string? problem)
    {
        problem = null;
        var dir = EntryPath(key);
        var manifestPath = Path.Combine(dir, "manifest.json");
        var dataPath = Path.Combine(dir, "data.bin");
        if (!Directory.Exists(dir)) return null;
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(manifestPath)) ?? throw new InvalidDataException("empty manifest");
            var expected = manifest["data_sha256"]?.GetValue<string>() ?? throw new InvalidDataException("manifest lacks data_sha256");
            // Hashed as a stream and then memory-mapped: the dataset is never held in the process's memory.
            string actual;
            using (var stream = new FileStream(dataPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
                actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (actual != expected) throw new InvalidDataException($"data.bin checksum {actual[..12]}… does not match the manifest's {expected[..12]}…");
            return OpenMapped(dataPath);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or InvalidOperationException or FormatException or ArgumentException or UnauthorizedAccessException)
        {
            problem = $"cache entry {dir} is unusable ({e.Message}); rebuilding";
            return null;
        }
    }

    /// <summary>
    /// Stores <paramref name="dataset"/> under <paramref name="key"/> with a manifest describing its inputs, and the
    /// prompt settings it was rendered with (and its cutoff_len and truncation) when given.
    /// </summary>
    public void Save(string key, TokenizedDataset dataset, JsonObject manifest, IEnumerable<string>? reportLines = null, RunPromptSettings? promptSettings = null)
    {
        Directory.CreateDirectory(Root);
        var final = EntryPath(key);
        var tmp = TemporaryOutputs.Begin(final);
        try
        {
            Directory.CreateDirectory(tmp);
            var bytes = Encode(dataset);
            File.WriteAllBytes(Path.Combine(tmp, "data.bin"), bytes);
            CompleteEntry(tmp, final, key, dataset.Count, dataset.TokenCount, Convert.ToHexStringLower(SHA256.HashData(bytes)), manifest, reportLines, promptSettings);
        }
        catch
        {
            TemporaryOutputs.Discard(tmp);
            throw;
        }
    }

    /// <summary>
    /// Starts the entry with <paramref name="key"/> in a temporary folder, to be filled sample by sample
    /// (<see cref="PreprocessCacheEntryWriter.Data"/>) and committed; the data.bin bytes equal what <see cref="Save"/>
    /// writes for the same samples.
    /// </summary>
    public PreprocessCacheEntryWriter BeginEntry(string key) => new(this, key);

    // Writes the manifest, report and prompt settings beside data.bin in the temporary folder and renames it to the entry.
    internal static void CompleteEntry(string tmp, string final, string key, int samples, long tokens, string dataSha256, JsonObject manifest,
        IEnumerable<string>? reportLines, RunPromptSettings? promptSettings)
    {
        manifest["key"] = key;
        manifest["pipeline_version"] = PipelineVersion;
        manifest["samples"] = samples;
        manifest["tokens"] = tokens;
        manifest["data_sha256"] = dataSha256;
        File.WriteAllLines(Path.Combine(tmp, "report.jsonl"), reportLines ?? []);
        if (promptSettings is not null) File.WriteAllText(Path.Combine(tmp, PromptSettingsFile.FileName), PromptSettingsFile.ToJson(promptSettings));
        File.WriteAllText(Path.Combine(tmp, "manifest.json"), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        TemporaryOutputs.Commit(tmp, final, () =>
        {
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(tmp, final);
        });
    }

    // Layout (little-endian): magic "STPPDATA", int32 format version, int32 samples, int64 tokens,
    // int64 starts[samples + 1], int32 ids[tokens], int32 recordIndex[samples], byte supervised[ceil(tokens/8)].
    internal static byte[] Encode(TokenizedDataset d)
    {
        long size = 8 + 4 + 4 + 8 + 8L * (d.Count + 1) + 4L * d.TokenCount + 4L * d.Count + d.SupervisedBits.Length;
        var buf = new byte[size];
        var span = buf.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], d.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], d.TokenCount);
        int at = 24;
        at += Copy(MemoryMarshal.AsBytes(d.Starts), span[at..]);
        at += Copy(MemoryMarshal.AsBytes(d.AllIds), span[at..]);
        at += Copy(MemoryMarshal.AsBytes(d.RecordIndices), span[at..]);
        Copy(d.SupervisedBits, span[at..]);
        return buf;
    }

    /// <summary>Maps a data.bin file (header checked against the file size) as a <see cref="TokenizedDataset"/>.</summary>
    internal static TokenizedDataset OpenMapped(string dataPath)
    {
        var header = new byte[24];
        long size;
        using (var f = new FileStream(dataPath, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            size = f.Length;
            f.ReadExactly(header);
        }
        var span = header.AsSpan();
        if (!span[..8].SequenceEqual(Magic)) throw new InvalidDataException("not a SharpTune preprocessed data file");
        if (BinaryPrimitives.ReadInt32LittleEndian(span[8..]) != FormatVersion) throw new InvalidDataException("unknown data format version");
        int samples = BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        long tokens = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
        long expected = 24 + 8L * (samples + 1) + 4L * tokens + 4L * samples + (tokens + 7) / 8;
        if (samples < 0 || tokens < 0 || expected != size) throw new InvalidDataException("data file size does not match its header");
        return TokenizedDataset.OpenMapped(dataPath, samples, tokens, 24);
    }

    internal static TokenizedDataset Decode(byte[] buf)
    {
        var span = buf.AsSpan();
        if (span.Length < 24 || !span[..8].SequenceEqual(Magic)) throw new InvalidDataException("not a SharpTune preprocessed data file");
        if (BinaryPrimitives.ReadInt32LittleEndian(span[8..]) != FormatVersion) throw new InvalidDataException("unknown data format version");
        int samples = BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        long tokens = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
        long expected = 24 + 8L * (samples + 1) + 4L * tokens + 4L * samples + (tokens + 7) / 8;
        if (samples < 0 || tokens < 0 || expected != span.Length) throw new InvalidDataException("data file size does not match its header");
        int at = 24;
        var starts = MemoryMarshal.Cast<byte, long>(span.Slice(at, 8 * (samples + 1))).ToArray(); at += 8 * (samples + 1);
        var ids = MemoryMarshal.Cast<byte, int>(span.Slice(at, (int)(4 * tokens))).ToArray(); at += (int)(4 * tokens);
        var records = MemoryMarshal.Cast<byte, int>(span.Slice(at, 4 * samples)).ToArray(); at += 4 * samples;
        var bits = span[at..].ToArray();
        return new TokenizedDataset(starts, ids, bits, records);
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
